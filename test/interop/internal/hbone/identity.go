// Package hbone holds what both interop peers need: loading certificates, SPIFFE identity checks
// and the JSON-lines log. It uses only Go's standard library, on purpose: these peers exist to
// check Waystone against an HBONE implementation that shares no code with it.
package hbone

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// LoadKeyPair reads a PEM certificate chain (leaf first) and its private key.
func LoadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading --cert %s / --key %s: %w", certPath, keyPath, err)
	}
	return pair, nil
}

// LoadCertPool reads a PEM trust bundle (one or more CA certificates).
func LoadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate found", path)
	}
	return pool, nil
}

// SpiffeIDs returns the spiffe:// URI SANs of a certificate.
func SpiffeIDs(cert *x509.Certificate) []string {
	var ids []string
	for _, uri := range cert.URIs {
		if uri.Scheme == "spiffe" {
			ids = append(ids, uri.String())
		}
	}
	return ids
}

// PeerIdentity is the single SPIFFE ID of a peer's leaf certificate, "" when it has none.
func PeerIdentity(state tls.ConnectionState) string {
	if len(state.PeerCertificates) == 0 {
		return ""
	}
	ids := SpiffeIDs(state.PeerCertificates[0])
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// CheckIdentity requires exactly one SPIFFE URI SAN (as istio and ztunnel do) that starts with
// `prefix` (any SPIFFE ID when prefix is empty). `who` names the peer in the error.
func CheckIdentity(cert *x509.Certificate, prefix, who string) error {
	ids := SpiffeIDs(cert)
	switch {
	case len(ids) == 0:
		return fmt.Errorf("%s certificate has no spiffe:// URI SAN", who)
	case len(ids) > 1:
		return fmt.Errorf("%s certificate has %d SPIFFE URI SANs (%s); exactly one is allowed", who,
			len(ids), strings.Join(ids, ", "))
	case !strings.HasPrefix(ids[0], prefix):
		return fmt.Errorf("%s identity %s does not start with the expected %s", who, ids[0], prefix)
	}
	return nil
}

// VerifyChain checks the peer's chain against `roots` for `usage`. SPIFFE certificates carry no
// DNS name, so Go's host name verification cannot be used; this is the chain half of it.
func VerifyChain(chain []*x509.Certificate, roots *x509.CertPool, usage x509.ExtKeyUsage) error {
	if len(chain) == 0 {
		return errors.New("peer sent no certificate")
	}
	intermediates := x509.NewCertPool()
	for _, cert := range chain[1:] {
		intermediates.AddCert(cert)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	})
	return err
}
