package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// runListen accepts local TCP connections and gives each its own tunnel to --authority, as a
// source ztunnel does for the pod's outbound connections: point curl, h2load or any TCP client at
// it. Half-closes are passed both ways. Runs until SIGTERM/SIGINT.
func runListen(o *options, p *pool) int {
	listener, err := net.Listen("tcp", o.listen)
	if err != nil {
		fail(fmt.Errorf("--listen %s: %w", o.listen, err))
	}
	fmt.Printf("listening %s\n", listener.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		listener.Close()
	}()

	for {
		conn, err := listener.Accept()
		if err != nil {
			// Closed by the signal handler: in-flight tunnels are cut by the exit.
			return exitOK
		}
		go serveClient(o, p, conn.(*net.TCPConn))
	}
}

func serveClient(o *options, p *pool, client *net.TCPConn) {
	forwardedFor := o.forwardedFor
	if forwardedFor == "" {
		forwardedFor = client.RemoteAddr().String()
	}
	t, err := p.open(o.authority, forwardedFor)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ztunnel_source: %s: %v\n", client.RemoteAddr(), err)
		// A reset tells the client that the connection failed, rather than that it ended.
		client.SetLinger(0)
		client.Close()
		return
	}

	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		_, readErr, writeErr := pump(t, client)
		switch {
		case readErr != nil:
			// The client reset: reset the stream too, which also ends the copy below.
			t.abort()
		case writeErr == nil:
			t.CloseWrite()
		}
		// On a write error the far end has gone; the copy below sees how it ended.
	}()
	_, readErr, writeErr := pump(client, t)
	if readErr == nil && writeErr == nil {
		client.CloseWrite()
	} else {
		// The stream was reset (or the client is gone): reset the client connection.
		client.SetLinger(0)
		client.Close()
	}
	<-upDone
	t.Close()
	client.Close()
}

// pump copies src to dst until src ends, and tells read errors from write errors (io.Copy does
// not); io.EOF is not an error.
func pump(dst io.Writer, src io.Reader) (n int64, readErr, writeErr error) {
	buf := make([]byte, 32*1024)
	for {
		got, err := src.Read(buf)
		if got > 0 {
			if _, werr := dst.Write(buf[:got]); werr != nil {
				return n, nil, werr
			}
			n += int64(got)
		}
		if err == io.EOF {
			return n, nil, nil
		}
		if err != nil {
			return n, err, nil
		}
	}
}
