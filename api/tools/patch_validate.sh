#!/bin/sh
# The validate.proto vendored in @grpc/grpc-js-xds is older than its envoy-api protos: it lacks
# the `ignore_empty` rule fields they use, so protoc refuses them. Add the fields with upstream
# protoc-gen-validate's field numbers. Usage: patch_validate.sh IN OUT
set -eu
sed -E \
  -e 's/^(message (Float|Double|Int32|Int64|UInt32|UInt64|SInt32|SInt64|Fixed32|Fixed64|SFixed32|SFixed64)Rules \{)/\1 optional bool ignore_empty = 8;/' \
  -e 's/^(message StringRules \{)/\1 optional bool ignore_empty = 26;/' \
  -e 's/^(message BytesRules \{)/\1 optional bool ignore_empty = 14;/' \
  -e 's/^(message RepeatedRules \{)/\1 optional bool ignore_empty = 5;/' \
  -e 's/^(message MapRules \{)/\1 optional bool ignore_empty = 6;/' \
  "$1" > "$2"
n=$(grep -c 'ignore_empty' "$2")
[ "$n" -ge 16 ] || { echo "patch_validate.sh: expected 16 ignore_empty fields, got $n" >&2; exit 1; }
