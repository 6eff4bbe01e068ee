package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"waystone/interop/internal/hbone"
)

// closeGrace bounds how long Close waits for the far end to finish its side.
const closeGrace = 2 * time.Second

// tunnel is one CONNECT stream as a net.Conn: Write sends DATA, CloseWrite sends END_STREAM,
// Read returns the response DATA until the far end's END_STREAM (io.EOF).
type tunnel struct {
	pool         *pool
	conn         *h2conn
	body         io.ReadCloser  // response body: bytes from the far end
	bodyWriter   *io.PipeWriter // request body: bytes to the far end
	cancel       context.CancelFunc
	authority    string
	forwardedFor string
	remote       net.Addr

	bytesUp, bytesDown int64 // atomic
	readEOF            atomic.Bool
	readErr            atomic.Value // error other than EOF, for the log
	closeWriteOnce     sync.Once
	closeOnce          sync.Once
}

func (t *tunnel) Read(b []byte) (int, error) {
	n, err := t.body.Read(b)
	atomic.AddInt64(&t.bytesDown, int64(n))
	if err == io.EOF {
		t.readEOF.Store(true)
	} else if err != nil {
		t.readErr.CompareAndSwap(nil, err.Error())
	}
	return n, err
}

func (t *tunnel) Write(b []byte) (int, error) {
	n, err := t.bodyWriter.Write(b)
	atomic.AddInt64(&t.bytesUp, int64(n))
	if err == io.ErrClosedPipe {
		err = fmt.Errorf("tunnel to %s: stream closed: %w", t.authority, net.ErrClosed)
	}
	return n, err
}

// CloseWrite ends our direction of the stream (END_STREAM); reading continues.
func (t *tunnel) CloseWrite() error {
	t.closeWriteOnce.Do(func() { t.bodyWriter.Close() })
	return nil
}

// Close ends both directions and returns at once. If the far end has not finished its side yet,
// teardown goes on in the background: after our END_STREAM it waits up to closeGrace for the far
// end's END_STREAM (a clean close, as a TCP FIN exchange), then resets the stream. pool.wait()
// waits for all of these, so the program exits only after every tunnel has been closed.
func (t *tunnel) Close() error {
	t.closeOnce.Do(func() {
		t.CloseWrite()
		if t.readEOF.Load() {
			t.finish()
			return
		}
		go func() {
			cut := time.AfterFunc(closeGrace, func() { t.body.Close() })
			io.Copy(io.Discard, t)
			cut.Stop()
			t.finish()
		}()
	})
	return nil
}

// abort resets the stream (RST_STREAM CANCEL) without waiting for the far end; Close still
// has to be called.
func (t *tunnel) abort() { t.body.Close() }

func (t *tunnel) finish() {
	// Returns once Go's transport has forgotten the stream, so that the stream count of the
	// connection is exact when the pool hands out the slot again.
	t.body.Close()
	t.cancel()
	t.pool.tunnelClosed(t)
}

func (t *tunnel) LocalAddr() net.Addr  { return t.conn.tls.LocalAddr() }
func (t *tunnel) RemoteAddr() net.Addr { return t.remote }

// Deadlines are not supported (io.Pipe has none); the HTTP clients used on tunnels do not set
// any, they use timers and Close.
func (t *tunnel) SetDeadline(time.Time) error      { return nil }
func (t *tunnel) SetReadDeadline(time.Time) error  { return nil }
func (t *tunnel) SetWriteDeadline(time.Time) error { return nil }

// newTraceparent returns a W3C traceparent with random trace and span IDs, as ztunnel sends.
func newTraceparent() string {
	var id [24]byte
	rand.Read(id[:])
	return fmt.Sprintf("00-%x-%x-01", id[:16], id[16:])
}

// tunnelRecord is one line of the source's --log.
type tunnelRecord struct {
	Authority    string `json:"authority"`
	ForwardedFor string `json:"forwarded_for"`
	ConnID       int    `json:"conn_id"`
	BytesUp      int64  `json:"bytes_up"`
	BytesDown    int64  `json:"bytes_down"`
	CleanEnd     bool   `json:"clean_end"` // the far end ended its side with END_STREAM
	Error        string `json:"error,omitempty"`
}

type tunnelLog struct{ log *hbone.JSONLog }

func (l *tunnelLog) write(t *tunnel) {
	record := tunnelRecord{
		Authority:    t.authority,
		ForwardedFor: t.forwardedFor,
		ConnID:       t.conn.id,
		BytesUp:      atomic.LoadInt64(&t.bytesUp),
		BytesDown:    atomic.LoadInt64(&t.bytesDown),
		CleanEnd:     t.readEOF.Load(),
	}
	if err, ok := t.readErr.Load().(string); ok {
		record.Error = err
	}
	l.log.Write(record)
}
