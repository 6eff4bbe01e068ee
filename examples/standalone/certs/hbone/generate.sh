#!/usr/bin/env bash
# Regenerates the example mesh PKI used by examples/standalone/waypoint.yaml: one root CA
# (trust domain cluster.local) and SPIFFE workload certificates, EC P-256, valid 10 years.
# These keys are public: for the example and local experiments only, never for real traffic.
set -euo pipefail
cd "$(dirname "$0")"
days=3650
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $days \
  -subj "/O=cluster.local/CN=Waystone example mesh root" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.crt 2>/dev/null
leaf() { # name spiffe-id
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days $days \
    -extfile <(printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=critical,URI:%s\n" "$2") \
    -out "$1.crt" 2>/dev/null
  rm -f "$1.csr"
}
leaf waypoint spiffe://cluster.local/ns/default/sa/waypoint
leaf client spiffe://cluster.local/ns/default/sa/sleep
leaf destination spiffe://cluster.local/ns/default/sa/echo
rm -f ca.srl
echo "wrote $(ls *.crt | tr '\n' ' ')"
