package main

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"waystone/interop/internal/hbone"
)

// tunnelRecord is one line of --log: what this destination saw of one CONNECT request.
type tunnelRecord struct {
	Authority  string            `json:"authority"`
	PeerURISAN string            `json:"peer_uri_san"`
	Headers    map[string]string `json:"headers"`
	BytesUp    int64             `json:"bytes_up"`   // client -> backend
	BytesDown  int64             `json:"bytes_down"` // backend -> client
	Status     int               `json:"status"`     // 200 for an accepted tunnel
	Method     string            `json:"method"`
	Backend    string            `json:"backend,omitempty"`
	PeerAddr   string            `json:"peer_addr"`
	ConnID     uint64            `json:"conn_id"` // TLS connection, numbered from 1 in accept order
	Error      string            `json:"error,omitempty"`
	DurationMs int64             `json:"duration_ms"`
}

type connectHandler struct {
	forwardTo string
	dialer    *net.Dialer
	log       *hbone.JSONLog
}

func (h *connectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	record := &tunnelRecord{
		Authority: r.Host,
		Headers:   make(map[string]string),
		Method:    r.Method,
		PeerAddr:  r.RemoteAddr,
	}
	for name, values := range r.Header {
		record.Headers[strings.ToLower(name)] = strings.Join(values, ", ")
	}
	if info, ok := r.Context().Value(connInfoKey{}).(*connInfo); ok {
		record.ConnID = info.id
		if info.tls != nil {
			record.PeerURISAN = hbone.PeerIdentity(info.tls.ConnectionState())
		}
	}
	finish := func() {
		record.DurationMs = time.Since(start).Milliseconds()
		h.log.Write(record)
	}

	// ztunnel's inbound answers 400 to anything but CONNECT, and to an authority that is not an
	// IP:port (it must name a workload address).
	if r.Method != http.MethodConnect {
		record.Status = http.StatusBadRequest
		record.Error = "method is not CONNECT"
		w.WriteHeader(record.Status)
		finish()
		return
	}
	if err := validateAuthority(r.Host); err != "" {
		record.Status = http.StatusBadRequest
		record.Error = err
		w.WriteHeader(record.Status)
		finish()
		return
	}

	record.Backend = r.Host
	if h.forwardTo != "" {
		record.Backend = h.forwardTo
	}
	backend, err := h.dialer.DialContext(r.Context(), "tcp", record.Backend)
	if err != nil {
		record.Status = http.StatusServiceUnavailable
		record.Error = err.Error()
		w.WriteHeader(record.Status)
		finish()
		return
	}
	defer backend.Close()

	record.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	// Sends the 200 HEADERS now: the client may wait for them before it sends anything.
	flusher.Flush()

	up, upErr, down, downErr := splice(w, flusher, r.Body, backend.(*net.TCPConn))
	record.BytesUp, record.BytesDown = up, down
	switch {
	case downErr != nil:
		record.Error = "backend -> client: " + downErr.Error()
	case upErr != nil:
		record.Error = "client -> backend: " + upErr.Error()
	}
	finish()
	if downErr != nil {
		// The backend reset, or the client went away: reset the stream rather than end it
		// cleanly (net/http sends RST_STREAM for a handler that panics with ErrAbortHandler).
		panic(http.ErrAbortHandler)
	}
	// Returning ends the response stream (END_STREAM).
}

// splice copies both ways until the backend's side ends, passing on half-closes: the client's
// END_STREAM becomes a FIN to the backend (CloseWrite), and the backend's FIN ends the stream.
//
// Limitation of Go's HTTP/2 server (net/http has no way to end a response while still reading the
// request): when the backend finishes first while the client is still sending, returning from
// the handler sends END_STREAM followed by RST_STREAM(NO_ERROR), so the client's later bytes are
// dropped. ztunnel would keep the client->backend direction open. Tests where the client sends
// first and half-closes (echo, HTTP) are unaffected.
func splice(w io.Writer, flusher http.Flusher, body io.ReadCloser, backend *net.TCPConn) (up int64, upErr error, down int64, downErr error) {
	var cutting atomic.Bool // set when the handler cuts the client->backend copy itself
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		up, upErr = io.Copy(backend, body)
		switch {
		case upErr == nil:
			backend.CloseWrite()
		case cutting.Load():
			upErr = nil
		default:
			// The client reset the stream: reset the backend connection too.
			backend.SetLinger(0)
			backend.Close()
		}
	}()

	buf := make([]byte, 32*1024)
	for {
		n, err := backend.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				downErr = werr
				break
			}
			flusher.Flush()
			down += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			downErr = err
			break
		}
	}
	// Unblocks the client->backend copy if the client has not finished (see above), so that the
	// record is complete before the stream ends.
	cutting.Store(true)
	body.Close()
	wg.Wait()
	return
}

// validateAuthority accepts "<IPv4>:<port>" and "[<IPv6>]:<port>" with a port in 1..65535.
func validateAuthority(authority string) string {
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		return "malformed authority " + strconv.Quote(authority) + ": " + err.Error()
	}
	if net.ParseIP(host) == nil {
		return "authority host " + strconv.Quote(host) + " is not an IP address"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "authority port " + strconv.Quote(port) + " is not in 1..65535"
	}
	return ""
}
