// ztunnel_dest is a destination ztunnel for interop tests: an HBONE server (mutual TLS 1.3, ALPN
// h2, HTTP/2 CONNECT) built only on Go's crypto/tls and net/http, so that Waystone's outbound
// HBONE is checked against an implementation that shares no code with it. See ../README.md.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"waystone/interop/internal/hbone"
)

type options struct {
	listen           string
	certPath         string
	keyPath          string
	caPath           string
	expectPeerPrefix string
	forwardTo        string
	logPath          string
	dialTimeout      time.Duration
	drainTimeout     time.Duration
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.listen, "listen", "127.0.0.1:15008", "address to listen on; port 0 picks a free port (printed as \"listening <addr>\")")
	flag.StringVar(&o.certPath, "cert", "", "PEM certificate chain this ztunnel presents (leaf first)")
	flag.StringVar(&o.keyPath, "key", "", "PEM private key of --cert")
	flag.StringVar(&o.caPath, "ca", "", "PEM trust bundle that client certificates must chain to")
	flag.StringVar(&o.expectPeerPrefix, "expect-peer-prefix", "spiffe://", "the client certificate must carry exactly one SPIFFE URI SAN starting with this (empty: no identity check)")
	flag.StringVar(&o.forwardTo, "forward-to", "", "host:port to connect every accepted tunnel to, instead of the CONNECT authority")
	flag.StringVar(&o.logPath, "log", "", "append one JSON line per CONNECT request to this file")
	flag.DurationVar(&o.dialTimeout, "dial-timeout", 5*time.Second, "timeout of the TCP connection to the backend (then 503)")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", time.Second, "on SIGTERM, how long open tunnels may finish before they are cut")
	flag.Parse()
	if o.certPath == "" || o.keyPath == "" || o.caPath == "" {
		fmt.Fprintln(os.Stderr, "ztunnel_dest: --cert, --key and --ca are required")
		flag.Usage()
		os.Exit(2)
	}
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "ztunnel_dest: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	return o
}

func main() {
	log.SetPrefix("ztunnel_dest: ")
	log.SetFlags(log.Lmicroseconds)
	o := parseFlags()

	pair, err := hbone.LoadKeyPair(o.certPath, o.keyPath)
	if err != nil {
		log.Fatal(err)
	}
	roots, err := hbone.LoadCertPool(o.caPath)
	if err != nil {
		log.Fatal(err)
	}
	jsonLog, err := hbone.OpenJSONLog(o.logPath)
	if err != nil {
		log.Fatal(err)
	}

	tlsConfig := &tls.Config{
		Certificates: []tls.Certificate{pair},
		// ztunnel's default: TLS 1.3 only, mutual, ALPN h2.
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  roots,
		NextProtos: []string{"h2"},
		// Go accepts a client that offers no ALPN (or only http/1.1) and would then serve
		// HTTP/1.1; HBONE is HTTP/2 only, so such a handshake is failed here.
		VerifyConnection: func(state tls.ConnectionState) error {
			if state.NegotiatedProtocol != "h2" {
				return fmt.Errorf("client did not negotiate ALPN h2 (got %q)", state.NegotiatedProtocol)
			}
			if o.expectPeerPrefix == "" {
				return nil
			}
			return hbone.CheckIdentity(state.PeerCertificates[0], o.expectPeerPrefix, "client")
		},
	}

	listener, err := net.Listen("tcp", o.listen)
	if err != nil {
		log.Fatalf("--listen %s: %v", o.listen, err)
	}

	var nextConnID uint64
	handler := &connectHandler{
		forwardTo: o.forwardTo,
		dialer:    &net.Dialer{Timeout: o.dialTimeout},
		log:       jsonLog,
	}
	server := &http.Server{
		Handler:   handler,
		TLSConfig: tlsConfig,
		ErrorLog:  log.Default(),
		// The handler needs the peer's certificate; net/http does not set Request.TLS for CONNECT
		// (it only does for :scheme https), so the connection is carried in the context.
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			tlsConn, _ := c.(*tls.Conn)
			id := atomic.AddUint64(&nextConnID, 1)
			return context.WithValue(ctx, connInfoKey{}, &connInfo{id: id, tls: tlsConn})
		},
	}

	// Printed before Serve: connections that arrive first wait in the accept queue.
	fmt.Printf("listening %s\n", listener.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	// Serve (not ServeTLS: that would add http/1.1 to NextProtos) with a TLS listener; net/http
	// still wires up HTTP/2 because TLSConfig.NextProtos contains "h2".
	go func() { served <- server.Serve(tls.NewListener(listener, tlsConfig)) }()

	select {
	case err := <-served:
		log.Fatalf("serve: %v", err)
	case sig := <-stop:
		log.Printf("%v: draining (GOAWAY), then closing", sig)
		ctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
		err := server.Shutdown(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			log.Printf("shutdown: %v", err)
		}
		server.Close()
	}
}

type connInfoKey struct{}

// connInfo identifies the TLS connection a CONNECT stream arrived on.
type connInfo struct {
	id  uint64
	tls *tls.Conn
}
