// ztunnel_source is a source ztunnel for interop tests: an HBONE client (mutual TLS 1.3, ALPN
// h2, one HTTP/2 CONNECT stream per tunnel) built only on Go's crypto/tls and the HTTP/2 client
// bundled in net/http, so that Waystone's inbound HBONE is checked against an implementation that
// shares no code with it. See ../README.md for the modes and flags.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"waystone/interop/internal/hbone"
)

const (
	exitOK        = 0
	exitFailure   = 1 // anything else, including failed requests in the load modes
	exitUsage     = 2
	exitTLS       = 3 // TLS handshake, certificate or identity failure
	exitRefused   = 4 // CONNECT answered with a status other than 200
	defaultSource = "auto"
)

type options struct {
	certPath, keyPath, caPath string
	waypoint                  string
	authority                 string
	expectServerPrefix        string
	sni                       string
	alpn                      string
	maxTLS                    string
	timeout                   time.Duration

	baggage      string
	forwardedFor string
	traceparent  bool
	headers      headerList

	mode        string
	tunnels     int
	streams     int
	requests    int
	concurrency int
	method      string
	host        string
	path        string
	data        string
	bodyOut     string
	payload     int
	inPath      string
	outPath     string
	listen      string
	logPath     string
}

// headerList collects repeated --header "name: value" flags.
type headerList []string

func (h *headerList) String() string { return strings.Join(*h, "; ") }
func (h *headerList) Set(v string) error {
	if !strings.Contains(v, ":") {
		return fmt.Errorf("want \"name: value\", got %q", v)
	}
	*h = append(*h, v)
	return nil
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.certPath, "cert", "", "PEM certificate chain presented as the source workload (leaf first)")
	flag.StringVar(&o.keyPath, "key", "", "PEM private key of --cert")
	flag.StringVar(&o.caPath, "ca", "", "PEM trust bundle the waypoint's certificate must chain to")
	flag.StringVar(&o.waypoint, "waypoint", "", "host:port of the HBONE server (waypoint or destination ztunnel)")
	flag.StringVar(&o.authority, "authority", "", "CONNECT :authority, the original destination VIP:port or podIP:port")
	flag.StringVar(&o.expectServerPrefix, "expect-server-prefix", "spiffe://", "the server certificate must carry exactly one SPIFFE URI SAN starting with this (empty: no identity check)")
	flag.StringVar(&o.sni, "sni", "", "TLS server name to send (ztunnel sends none)")
	flag.StringVar(&o.alpn, "alpn", "h2", "comma-separated ALPN protocols to offer (negative tests)")
	flag.StringVar(&o.maxTLS, "max-tls", "1.3", "TLS version to speak: 1.3, or 1.2 for negative tests")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of each dial, TLS handshake and CONNECT response, and of each request in the load modes")

	flag.StringVar(&o.baggage, "baggage", defaultSource, "baggage header; \"auto\" derives it from the --cert SPIFFE ID, empty omits it")
	flag.StringVar(&o.forwardedFor, "forwarded-for", "", "address in forwarded: for=\"...\" (default: the accepted client in --mode listen, else the local address of the TLS connection)")
	flag.BoolVar(&o.traceparent, "traceparent", true, "send a random W3C traceparent on each CONNECT")
	flag.Var(&o.headers, "header", "extra CONNECT header \"name: value\" (repeatable)")

	flag.StringVar(&o.mode, "mode", "tcp", "tcp | http1 | h2c | echo | listen")
	flag.IntVar(&o.tunnels, "tunnels", 1, "TLS connections to the waypoint")
	flag.IntVar(&o.streams, "streams", 100, "most CONNECT streams open at once on each TLS connection")
	flag.IntVar(&o.requests, "requests", 0, "http1/h2c: requests in total; echo: exchanges in total (0: one per worker)")
	flag.IntVar(&o.concurrency, "concurrency", 1, "http1/h2c/echo: workers, each with its own tunnel, all opened before the first request")
	flag.StringVar(&o.method, "method", "GET", "http1/h2c: request method")
	flag.StringVar(&o.host, "host", "", "http1/h2c: Host / :authority of the inner requests (default --authority)")
	flag.StringVar(&o.path, "path", "/", "http1/h2c: request path")
	flag.StringVar(&o.data, "data", "", "http1/h2c: request body")
	flag.StringVar(&o.bodyOut, "body-out", "", "http1/h2c: write the first response body to this file")
	flag.IntVar(&o.payload, "payload-bytes", 1024, "echo: bytes each exchange sends and expects back")
	flag.StringVar(&o.inPath, "in", "-", "tcp: file to send (- is stdin)")
	flag.StringVar(&o.outPath, "out", "-", "tcp: file to write what comes back (- is stdout)")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "listen: local TCP address; each accepted connection gets its own tunnel")
	flag.StringVar(&o.logPath, "log", "", "append one JSON line per closed tunnel to this file")
	flag.Parse()

	var problems []string
	if o.certPath == "" || o.keyPath == "" || o.caPath == "" {
		problems = append(problems, "--cert, --key and --ca are required")
	}
	if o.waypoint == "" || o.authority == "" {
		problems = append(problems, "--waypoint and --authority are required")
	}
	if o.tunnels < 1 || o.streams < 1 || o.concurrency < 1 || o.requests < 0 || o.payload < 0 {
		problems = append(problems, "--tunnels, --streams and --concurrency must be >= 1; --requests and --payload-bytes >= 0")
	}
	switch o.mode {
	case "tcp", "http1", "h2c", "echo", "listen":
	default:
		problems = append(problems, fmt.Sprintf("--mode %q: want tcp, http1, h2c, echo or listen", o.mode))
	}
	if o.maxTLS != "1.3" && o.maxTLS != "1.2" {
		problems = append(problems, fmt.Sprintf("--max-tls %q: want 1.3 or 1.2", o.maxTLS))
	}
	if flag.NArg() != 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", flag.Args()))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "ztunnel_source: %s\n", p)
		}
		os.Exit(exitUsage)
	}
	if o.requests == 0 {
		o.requests = o.concurrency
	}
	if o.host == "" {
		o.host = o.authority
	}
	return o
}

func main() {
	o := parseFlags()
	p, err := setup(o)
	if err != nil {
		fail(err)
	}
	var code int
	switch o.mode {
	case "tcp":
		code = runTCP(o, p)
	case "listen":
		code = runListen(o, p)
	default:
		code = runLoad(o, p)
	}
	os.Exit(code)
}

func setup(o *options) (*pool, error) {
	pair, err := hbone.LoadKeyPair(o.certPath, o.keyPath)
	if err != nil {
		return nil, err
	}
	roots, err := hbone.LoadCertPool(o.caPath)
	if err != nil {
		return nil, err
	}
	version := uint16(tls.VersionTLS13)
	if o.maxTLS == "1.2" {
		version = tls.VersionTLS12
	}
	tlsConfig := &tls.Config{
		// Always present our certificate, as ztunnel does: Go's default picks none when the
		// server's list of acceptable CAs does not name our issuer, which would hide the
		// interesting failure (a certificate the server does not trust) behind another one.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil },
		MinVersion:           version,
		MaxVersion:           version,
		NextProtos:           strings.Split(o.alpn, ","),
		ServerName:           o.sni,
		// SPIFFE certificates have no DNS or IP SAN to match, so Go's host name check is off and
		// VerifyConnection does the chain and identity checks instead (before the handshake ends,
		// so a wrong server gets a TLS alert, as from ztunnel).
		InsecureSkipVerify: true,
		VerifyConnection: func(state tls.ConnectionState) error {
			if err := hbone.VerifyChain(state.PeerCertificates, roots, x509.ExtKeyUsageServerAuth); err != nil {
				return fmt.Errorf("server certificate: %w", err)
			}
			if o.expectServerPrefix == "" {
				return nil
			}
			return hbone.CheckIdentity(state.PeerCertificates[0], o.expectServerPrefix, "server")
		},
	}

	header := http.Header{}
	// Go's client adds "user-agent: Go-http-client/2.0" unless the header is present and empty;
	// ztunnel sends none.
	header["User-Agent"] = nil
	baggage := o.baggage
	if baggage == defaultSource {
		baggage = ""
		if pair.Leaf == nil && len(pair.Certificate) > 0 {
			pair.Leaf, _ = x509.ParseCertificate(pair.Certificate[0])
		}
		if pair.Leaf != nil {
			baggage = baggageFor(hbone.SpiffeIDs(pair.Leaf))
		}
	}
	if baggage != "" {
		header.Set("Baggage", baggage)
	}
	for _, h := range o.headers {
		name, value, _ := strings.Cut(h, ":")
		header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}

	jsonLog, err := hbone.OpenJSONLog(o.logPath)
	if err != nil {
		return nil, err
	}
	return newPool(o, tlsConfig, header, &tunnelLog{log: jsonLog}), nil
}

// baggageFor builds ztunnel's baggage from spiffe://<td>/ns/<ns>/sa/<sa>: the namespace, and the
// service account standing in for the workload and service names.
func baggageFor(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	parts := strings.Split(ids[0], "/")
	// ["spiffe:", "", td, "ns", ns, "sa", sa]
	if len(parts) != 7 || parts[3] != "ns" || parts[5] != "sa" {
		return ""
	}
	ns, sa := parts[4], parts[6]
	return fmt.Sprintf("k8s.cluster.name=Kubernetes,k8s.namespace.name=%s,k8s.deployment.name=%s,service.name=%s,service.version=latest", ns, sa, sa)
}

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	var handshake *handshakeError
	var refused *connectError
	switch {
	case errors.As(err, &handshake):
		return exitTLS
	case errors.As(err, &refused):
		return exitRefused
	}
	return exitFailure
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "ztunnel_source: %v\n", err)
	os.Exit(exitCode(err))
}
