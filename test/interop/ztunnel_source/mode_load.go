package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// summary is printed as one JSON line on stdout by the http1, h2c and echo modes.
type summary struct {
	OK                   int            `json:"ok"`     // 2xx responses (http1, h2c) or exact echoes
	Status               map[string]int `json:"status"` // responses by status code
	Errors               []string       `json:"errors"` // distinct failures, "message (xN)" when repeated
	Requests             int            `json:"requests"`
	TunnelsOpened        int            `json:"tunnels_opened"`         // CONNECTs answered 200
	MaxConcurrentTunnels int            `json:"max_concurrent_tunnels"` // most tunnels open at once
	Connections          int            `json:"connections"`            // TLS connections dialed
	DurationMs           int64          `json:"duration_ms"`
}

// results collects the outcome of every request from all workers.
type results struct {
	mu        sync.Mutex
	ok        int
	status    map[int]int
	errors    map[string]int
	firstBody *[]byte
}

func (r *results) response(status int, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status[status]++
	if status >= 200 && status < 300 {
		r.ok++
	}
	if r.firstBody == nil {
		r.firstBody = &body
	}
}

// streamID makes messages that differ only by HTTP/2 stream ID count as one.
var streamID = regexp.MustCompile(`stream ID \d+`)

func (r *results) fail(err error) {
	msg := streamID.ReplaceAllString(err.Error(), "stream ID N")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[msg]++
}

// runLoad runs --concurrency workers. Each first opens its own tunnel; once all have (or have
// failed), each sends its share of --requests requests (http1, h2c) or echo exchanges (echo). So with
// --concurrency C the waypoint holds C tunnels at once, spread by the pool over --tunnels TLS
// connections with at most --streams on each.
func runLoad(o *options, p *pool) int {
	start := time.Now()
	res := &results{status: map[int]int{}, errors: map[string]int{}}

	var opened, done sync.WaitGroup
	opened.Add(o.concurrency)
	done.Add(o.concurrency)
	for i := 0; i < o.concurrency; i++ {
		go func(worker int) {
			defer done.Done()
			first, err := p.open(o.authority, o.forwardedFor)
			if err != nil {
				res.fail(err)
			}
			opened.Done()
			opened.Wait()
			// A fixed share per worker (not a shared queue) keeps the number of tunnels opened
			// predictable: max(1, share) per worker in echo mode, 1 per worker otherwise.
			share := o.requests / o.concurrency
			if worker < o.requests%o.concurrency {
				share++
			}
			switch o.mode {
			case "http1":
				http1Worker(o, p, first, share, res)
			case "h2c":
				h2cWorker(o, p, first, share, res)
			case "echo":
				echoWorker(o, p, worker, first, share, res)
			}
		}(i)
	}
	done.Wait()
	p.wait()

	stats := p.stats()
	out := summary{
		OK:                   res.ok,
		Status:               map[string]int{},
		Errors:               []string{},
		Requests:             o.requests,
		TunnelsOpened:        stats.opened,
		MaxConcurrentTunnels: stats.maxOpen,
		Connections:          stats.connections,
		DurationMs:           time.Since(start).Milliseconds(),
	}
	for code, n := range res.status {
		out.Status[strconv.Itoa(code)] = n
	}
	for msg, n := range res.errors {
		if n > 1 {
			msg = fmt.Sprintf("%s (x%d)", msg, n)
		}
		out.Errors = append(out.Errors, msg)
	}
	sort.Strings(out.Errors)
	if len(out.Errors) > 20 {
		out.Errors = append(out.Errors[:20], fmt.Sprintf("... and %d more distinct errors", len(out.Errors)-20))
	}
	encoder := json.NewEncoder(os.Stdout) // one line
	encoder.SetEscapeHTML(false)
	encoder.Encode(out)

	if o.bodyOut != "" && res.firstBody != nil {
		if err := os.WriteFile(o.bodyOut, *res.firstBody, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "ztunnel_source: --body-out: %v\n", err)
			return exitFailure
		}
	}
	if len(out.Errors) > 0 {
		for _, e := range out.Errors {
			fmt.Fprintf(os.Stderr, "ztunnel_source: %s\n", e)
		}
		return exitFailure
	}
	return exitOK
}

// tunnelSource hands out a worker's pre-opened tunnel first, then new tunnels.
type tunnelSource struct {
	o     *options
	p     *pool
	mu    sync.Mutex
	first *tunnel
}

func (s *tunnelSource) dial() (net.Conn, error) {
	s.mu.Lock()
	t := s.first
	s.first = nil
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := s.p.open(s.o.authority, s.o.forwardedFor)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// closeUnused closes the pre-opened tunnel if no request used it (other workers took them all).
func (s *tunnelSource) closeUnused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first != nil {
		s.first.Close()
		s.first = nil
	}
}

func newRequest(o *options, ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if o.data != "" {
		body = strings.NewReader(o.data)
	}
	req, err := http.NewRequestWithContext(ctx, o.method, "http://"+o.host+o.path, body)
	if err != nil {
		return nil, err
	}
	req.Host = o.host
	return req, nil
}

// http1Worker sends HTTP/1.1 requests with keep-alive over one tunnel at a time (Go's
// http.Client, dialing through the tunnel); a new tunnel is opened if the server closes.
func http1Worker(o *options, p *pool, first *tunnel, share int, res *results) {
	tunnels := &tunnelSource{o: o, p: p, first: first}
	defer tunnels.closeUnused()
	dial := tunnels.dial
	transport := &http.Transport{
		DialContext:         func(context.Context, string, string) (net.Conn, error) { return dial() },
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport:     transport,
		Timeout:       o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for i := 0; i < share; i++ {
		req, err := newRequest(o, context.Background())
		if err != nil {
			res.fail(err)
			continue
		}
		resp, err := client.Do(req)
		if err != nil {
			res.fail(err)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			res.fail(fmt.Errorf("reading response body: %w", err))
			continue
		}
		res.response(resp.StatusCode, body)
	}
}

// h2cWorker sends requests over HTTP/2 with prior knowledge inside the tunnel, one after the
// other on one connection, with Go's own HTTP/2 client (see newH2ClientConn).
func h2cWorker(o *options, p *pool, first *tunnel, share int, res *results) {
	tunnels := &tunnelSource{o: o, p: p, first: first}
	defer tunnels.closeUnused()
	dial := tunnels.dial
	var cc clientConn
	defer func() {
		if cc != nil {
			ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
			if cc.Shutdown(ctx) != nil {
				cc.Close()
			}
			cancel()
		}
	}()
	for i := 0; i < share; i++ {
		if cc != nil && !cc.CanTakeNewRequest() {
			cc.Close()
			cc = nil
		}
		if cc == nil {
			conn, err := dial()
			if err != nil {
				res.fail(err)
				continue
			}
			if cc, err = newH2ClientConn(conn, true); err != nil {
				conn.Close()
				res.fail(err)
				continue
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		req, err := newRequest(o, ctx)
		if err != nil {
			cancel()
			res.fail(err)
			continue
		}
		resp, err := cc.RoundTrip(req)
		if err != nil {
			cancel()
			res.fail(err)
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil {
			res.fail(fmt.Errorf("reading response body: %w", err))
			continue
		}
		res.response(resp.StatusCode, body)
	}
}

// echoWorker sends --payload-bytes on a tunnel, half-closes, and expects exactly the same bytes
// back before the far end's END_STREAM (for an echo backend). Each exchange uses a new tunnel.
func echoWorker(o *options, p *pool, worker int, first *tunnel, share int, res *results) {
	tunnels := &tunnelSource{o: o, p: p, first: first}
	defer tunnels.closeUnused()
	dial := tunnels.dial
	payload := make([]byte, o.payload)
	for i := range payload {
		payload[i] = byte('a' + (worker+i)%26)
	}
	for i := 0; i < share; i++ {
		conn, err := dial()
		if err != nil {
			res.fail(err)
			continue
		}
		t := conn.(*tunnel)
		go func() {
			t.Write(payload)
			t.CloseWrite()
		}()
		got, err := io.ReadAll(t)
		t.Close()
		switch {
		case err != nil:
			res.fail(fmt.Errorf("echo: reading: %w", err))
		case !bytes.Equal(got, payload):
			res.fail(fmt.Errorf("echo: sent %d bytes, got %d different bytes back", len(payload), len(got)))
		default:
			res.mu.Lock()
			res.ok++
			res.mu.Unlock()
		}
	}
}
