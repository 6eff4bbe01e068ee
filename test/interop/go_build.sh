#!/usr/bin/env bash
# Builds one Go program of this module for a Bazel genrule, offline and without touching $HOME:
#   go_build.sh <output binary> <go.mod path> <package dir relative to the module, e.g. ztunnel_dest>
# The Go toolchain is Debian's golang-go (installed by tools/setup); only the standard library is
# used, so nothing is downloaded.
set -euo pipefail
out="$PWD/$1"
module_dir="$(dirname "$2")"
package="./$3"

go_tool="$(command -v go || true)"
if [ -z "$go_tool" ]; then
  for candidate in /usr/bin/go /usr/lib/go/bin/go /usr/local/go/bin/go; do
    if [ -x "$candidate" ]; then go_tool="$candidate"; break; fi
  done
fi
[ -n "$go_tool" ] || { echo "go_build.sh: no Go toolchain found; run tools/setup (installs golang-go)" >&2; exit 1; }

# A private cache per action: the sandbox's HOME may be unwritable, and a shared cache would make
# the action depend on state outside Bazel's view.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/waystone-go.XXXXXX")"
trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
export HOME="$scratch" GOCACHE="$scratch/cache" GOPATH="$scratch/gopath" GOTMPDIR="$scratch"
export GO111MODULE=on GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off
# Go 1.19 ships the standard library precompiled (GOROOT/pkg) for the default settings, so the
# build takes about a second. CGO_ENABLED=0 or -trimpath would recompile it (about 30 s).

cd "$module_dir"
"$go_tool" build -buildvcs=false -o "$out" "$package"
