package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sync"
)

// clientConn is the exported method set of net/http's bundled HTTP/2 client connection
// (x/net/http2.ClientConn, compiled into net/http as the unexported http2ClientConn).
type clientConn interface {
	RoundTrip(*http.Request) (*http.Response, error)
	CanTakeNewRequest() bool
	Shutdown(context.Context) error
	Close() error
}

var (
	h2TransportOnce sync.Once
	h2TransportType reflect.Type // *http.http2Transport
	h2TransportErr  error
)

// newH2ClientConn runs Go's own HTTP/2 client (the copy of x/net/http2 bundled in net/http) over
// an established connection: a TLS connection that negotiated h2, or a plaintext byte stream for
// HTTP/2 with prior knowledge (h2c).
//
// Why reflection: Go 1.19's standard library has no exported HTTP/2 client API. http.Transport
// pools connections itself and dials a new one whenever a connection is at its stream limit, so
// it cannot keep "S streams on each of T connections"; and it has no h2c at all. Its bundled
// transport type has the same exported fields and methods as x/net's http2.Transport, so a fresh
// zero value of that type (obtained from http.Transport's private h2transport field, which is
// only read for its type) is a standalone x/net-style Transport whose NewClientConn takes any
// net.Conn. Only exported fields and methods are used.
//
// strictStreams makes a RoundTrip wait for a free stream slot when the server's
// SETTINGS_MAX_CONCURRENT_STREAMS is reached, instead of failing.
func newH2ClientConn(conn net.Conn, strictStreams bool) (clientConn, error) {
	h2TransportOnce.Do(func() {
		t1 := &http.Transport{}
		// Runs onceSetNextProtoDefaults, which builds the bundled HTTP/2 transport.
		t1.CloseIdleConnections()
		field := reflect.ValueOf(t1).Elem().FieldByName("h2transport")
		if !field.IsValid() || field.Kind() != reflect.Interface || field.IsNil() {
			h2TransportErr = fmt.Errorf("net/http has no bundled HTTP/2 transport (GODEBUG=http2client=0?)")
			return
		}
		h2TransportType = field.Elem().Type()
	})
	if h2TransportErr != nil {
		return nil, h2TransportErr
	}
	transport := reflect.New(h2TransportType.Elem())
	for name, value := range map[string]bool{
		// ztunnel sends no accept-encoding on CONNECT.
		"DisableCompression":         true,
		"StrictMaxConcurrentStreams": strictStreams,
	} {
		field := transport.Elem().FieldByName(name)
		if !field.IsValid() || !field.CanSet() {
			return nil, fmt.Errorf("bundled HTTP/2 transport has no settable field %s", name)
		}
		field.SetBool(value)
	}
	newClientConn := transport.MethodByName("NewClientConn")
	if !newClientConn.IsValid() {
		return nil, fmt.Errorf("bundled HTTP/2 transport has no NewClientConn method")
	}
	results := newClientConn.Call([]reflect.Value{reflect.ValueOf(&conn).Elem()})
	if err, _ := results[1].Interface().(error); err != nil {
		return nil, err
	}
	cc, ok := results[0].Interface().(clientConn)
	if !ok {
		return nil, fmt.Errorf("bundled HTTP/2 client connection %s lacks the expected methods", results[0].Type())
	}
	return cc, nil
}
