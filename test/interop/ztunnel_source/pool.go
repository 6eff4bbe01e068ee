package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// h2conn is one TLS connection to the waypoint with Go's HTTP/2 client on it.
type h2conn struct {
	id     int // dial order, from 1
	cc     clientConn
	tls    *tls.Conn
	active int // CONNECT streams of ours open on it; guarded by pool.mu
}

// slot holds one of the --tunnels connections; a connection that can take no more streams
// (GOAWAY, closed) is replaced by a fresh dial on the next acquire, as ztunnel's pool does.
type slot struct {
	current *h2conn
	dialing bool
}

// pool spreads CONNECT streams over a fixed number of TLS connections, at most `streams` at a
// time on each: --tunnels T --streams S gives T*S concurrent tunnels on exactly T connections.
type pool struct {
	waypoint    string
	tlsConfig   *tls.Config
	streams     int
	timeout     time.Duration
	header      http.Header // CONNECT headers other than forwarded and traceparent
	traceparent bool        // add a fresh W3C traceparent to each CONNECT, as ztunnel does
	log         *tunnelLog

	mu         sync.Mutex
	cond       *sync.Cond
	slots      []*slot
	dials      int // TLS connections established
	openNow    int // tunnels open now
	maxOpen    int
	opened     int            // CONNECT requests answered 200
	finalizing sync.WaitGroup // tunnels closing in the background
}

func newPool(o *options, tlsConfig *tls.Config, header http.Header, log *tunnelLog) *pool {
	p := &pool{waypoint: o.waypoint, tlsConfig: tlsConfig, streams: o.streams, timeout: o.timeout,
		header: header, traceparent: o.traceparent, log: log}
	p.cond = sync.NewCond(&p.mu)
	for i := 0; i < o.tunnels; i++ {
		p.slots = append(p.slots, &slot{})
	}
	return p
}

// acquire returns the usable connection with the fewest of our streams, counting a slot without
// a usable connection as empty and dialing it: streams spread evenly over --tunnels connections.
// It blocks while every connection carries `streams` tunnels.
func (p *pool) acquire() (*h2conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		var best *h2conn
		var toDial *slot
		for _, s := range p.slots {
			switch {
			case s.dialing:
			case s.current == nil || !s.current.cc.CanTakeNewRequest():
				if toDial == nil {
					toDial = s
				}
			case s.current.active < p.streams && (best == nil || s.current.active < best.active):
				best = s.current
			}
		}
		if best != nil && (toDial == nil || best.active == 0) {
			best.active++
			return best, nil
		}
		if toDial == nil {
			p.cond.Wait()
			continue
		}
		toDial.dialing = true
		p.mu.Unlock()
		conn, err := p.dial()
		p.mu.Lock()
		toDial.dialing = false
		p.cond.Broadcast()
		if err != nil {
			return nil, err
		}
		p.dials++
		conn.id = p.dials
		conn.active = 1
		toDial.current = conn
		return conn, nil
	}
}

func (p *pool) release(conn *h2conn) {
	p.mu.Lock()
	conn.active--
	p.cond.Broadcast()
	p.mu.Unlock()
}

// handshakeError marks failures of TLS or of the peer's identity (exit status 3).
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

func (p *pool) dial() (*h2conn, error) {
	raw, err := net.DialTimeout("tcp", p.waypoint, p.timeout)
	if err != nil {
		return nil, fmt.Errorf("connecting to waypoint %s: %w", p.waypoint, err)
	}
	conn := tls.Client(raw, p.tlsConfig)
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	err = conn.HandshakeContext(ctx)
	cancel()
	if err != nil {
		raw.Close()
		return nil, &handshakeError{fmt.Errorf("TLS handshake with waypoint %s: %w", p.waypoint, err)}
	}
	state := conn.ConnectionState()
	if state.NegotiatedProtocol != "h2" {
		conn.Close()
		return nil, &handshakeError{fmt.Errorf("TLS handshake with waypoint %s: ALPN h2 not negotiated (got %q)", p.waypoint, state.NegotiatedProtocol)}
	}
	// With TLS 1.3 the server checks our certificate after our side of the handshake is done, so
	// a refusal arrives as an alert on the first read, possibly after the server has reset the
	// connection under a write. Waiting here for the server's first bytes (its SETTINGS) turns
	// that into a clear, reliable TLS error instead of a broken pipe in some later request.
	watched := &firstReadConn{Conn: conn, done: make(chan struct{})}
	cc, err := newH2ClientConn(watched, true)
	if err != nil {
		conn.Close()
		if refusal := watched.refusal(); refusal != nil {
			return nil, p.refused(refusal)
		}
		return nil, fmt.Errorf("HTTP/2 client on %s: %w", p.waypoint, err)
	}
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	select {
	case <-watched.done:
		if refusal := watched.refusal(); refusal != nil {
			cc.Close()
			return nil, p.refused(refusal)
		}
		if watched.err != nil {
			cc.Close()
			return nil, fmt.Errorf("waypoint %s closed the connection before HTTP/2 SETTINGS: %w", p.waypoint, watched.err)
		}
	case <-timer.C:
		cc.Close()
		return nil, fmt.Errorf("no HTTP/2 SETTINGS from waypoint %s within %v", p.waypoint, p.timeout)
	}
	return &h2conn{cc: cc, tls: conn}, nil
}

func (p *pool) refused(err error) error {
	return &handshakeError{fmt.Errorf("TLS handshake with waypoint %s: refused after the handshake (the server checks the client certificate last in TLS 1.3): %w", p.waypoint, err)}
}

// firstReadConn records the outcome of the first read from the TLS connection. If the
// connection is closed before any read, Close reads once first (briefly) to collect the alert
// that explains why the server hung up.
type firstReadConn struct {
	*tls.Conn
	once sync.Once
	done chan struct{}
	err  error // error of the first read, nil if it returned data; valid once done is closed
}

func (c *firstReadConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.once.Do(func() {
		if n == 0 {
			c.err = err
		}
		close(c.done)
	})
	return n, err
}

func (c *firstReadConn) Close() error {
	select {
	case <-c.done:
	default:
		c.Conn.SetReadDeadline(time.Now().Add(time.Second))
		c.Read(make([]byte, 1))
	}
	return c.Conn.Close()
}

// refusal is the TLS alert the server ended the connection with, if that is what happened.
func (c *firstReadConn) refusal() error {
	select {
	case <-c.done:
		if c.err != nil && strings.Contains(c.err.Error(), "tls: ") {
			return c.err
		}
	default:
	}
	return nil
}

// connectError is a CONNECT answered with a status other than 200 (exit status 4).
type connectError struct {
	authority string
	waypoint  string
	status    int
}

func (e *connectError) Error() string {
	return fmt.Sprintf("CONNECT %s via %s: status %d", e.authority, e.waypoint, e.status)
}

// open sends CONNECT <authority> and returns the tunnel once the waypoint has answered 200.
// forwardedFor is the original client address ("" means this connection's local address, which
// stands in for the source pod's address).
func (p *pool) open(authority, forwardedFor string) (*tunnel, error) {
	t, err := p.openOnce(authority, forwardedFor)
	if err != nil && isUnusableConn(err) {
		// The connection went away (GOAWAY, close) between acquire and RoundTrip; the retry dials
		// a new one. Nothing was sent on the stream, so this is safe.
		t, err = p.openOnce(authority, forwardedFor)
	}
	return t, err
}

func isUnusableConn(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "client conn not usable") || strings.Contains(msg, "client conn is closed") ||
		strings.Contains(msg, "graceful shutdown GOAWAY")
}

func (p *pool) openOnce(authority, forwardedFor string) (*tunnel, error) {
	conn, err := p.acquire()
	if err != nil {
		return nil, err
	}
	if forwardedFor == "" {
		forwardedFor = conn.tls.LocalAddr().String()
	}
	header := p.header.Clone()
	header.Set("Forwarded", fmt.Sprintf("for=%q", forwardedFor))
	if p.traceparent {
		header.Set("Traceparent", newTraceparent())
	}

	bodyReader, bodyWriter := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	req := (&http.Request{
		Method: http.MethodConnect,
		// Only Host matters on the wire (:authority); URL.Host names the connection.
		URL:           &url.URL{Scheme: "https", Host: p.waypoint},
		Host:          authority,
		Header:        header,
		Body:          bodyReader,
		ContentLength: -1, // a stream of unknown length: DATA frames until CloseWrite
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
	}).WithContext(ctx)

	// A deadline for the response headers only: the tunnel itself may live as long as it likes.
	timer := time.AfterFunc(p.timeout, cancel)
	res, err := conn.cc.RoundTrip(req)
	if !timer.Stop() && err == nil {
		err = fmt.Errorf("timed out after %v", p.timeout)
		res.Body.Close()
	}
	if err != nil {
		cancel()
		bodyWriter.Close()
		p.release(conn)
		wrapped := fmt.Errorf("CONNECT %s via %s (connection %d): %w", authority, p.waypoint, conn.id, err)
		if strings.Contains(err.Error(), "tls: ") {
			// A TLS alert after the connection was established (dial() already catches a
			// refusal of our certificate; this covers later ones).
			return nil, &handshakeError{wrapped}
		}
		return nil, wrapped
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		cancel()
		bodyWriter.Close()
		p.release(conn)
		return nil, &connectError{authority: authority, waypoint: p.waypoint, status: res.StatusCode}
	}

	p.mu.Lock()
	p.openNow++
	p.opened++
	if p.openNow > p.maxOpen {
		p.maxOpen = p.openNow
	}
	p.mu.Unlock()
	p.finalizing.Add(1)
	return &tunnel{
		pool:         p,
		conn:         conn,
		body:         res.Body,
		bodyWriter:   bodyWriter,
		cancel:       cancel,
		authority:    authority,
		forwardedFor: forwardedFor,
		remote:       authorityAddr(authority, conn.tls.RemoteAddr()),
	}, nil
}

// tunnelClosed is called once per tunnel when it has been torn down.
func (p *pool) tunnelClosed(t *tunnel) {
	p.release(t.conn)
	p.mu.Lock()
	p.openNow--
	p.mu.Unlock()
	p.log.write(t)
	p.finalizing.Done()
}

// wait blocks until every closed tunnel has finished its teardown (see tunnel.Close).
func (p *pool) wait() { p.finalizing.Wait() }

type poolStats struct {
	connections, opened, maxOpen int
}

func (p *pool) stats() poolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return poolStats{connections: p.dials, opened: p.opened, maxOpen: p.maxOpen}
}

func authorityAddr(authority string, fallback net.Addr) net.Addr {
	if addr, err := net.ResolveTCPAddr("tcp", authority); err == nil {
		return addr
	}
	return fallback
}
