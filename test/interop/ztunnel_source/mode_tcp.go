package main

import (
	"fmt"
	"io"
	"os"
)

// runTCP opens one tunnel, sends --in (stdin) and half-closes when it ends, and copies what comes
// back to --out (stdout). It exits 0 as soon as the far end has ended its side cleanly.
func runTCP(o *options, p *pool) int {
	in := os.Stdin
	if o.inPath != "-" {
		f, err := os.Open(o.inPath)
		if err != nil {
			fail(fmt.Errorf("--in: %w", err))
		}
		in = f
	}
	out := os.Stdout
	if o.outPath != "-" {
		f, err := os.Create(o.outPath)
		if err != nil {
			fail(fmt.Errorf("--out: %w", err))
		}
		out = f
	}

	t, err := p.open(o.authority, o.forwardedFor)
	if err != nil {
		fail(err)
	}
	sendErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(t, in)
		t.CloseWrite()
		sendErr <- err
	}()
	_, err = io.Copy(out, t)
	if err == nil {
		err = out.Sync()
		if err != nil && o.outPath == "-" {
			err = nil // stdout may be a pipe, which cannot be synced
		}
	}
	if err != nil {
		t.abort()
		t.Close()
		p.wait()
		fail(fmt.Errorf("tunnel to %s: %w", o.authority, err))
	}
	// The far end has finished. If we were still sending, that is not an error: a server may
	// answer and close before reading everything (Go's tunnel ends the same way).
	select {
	case err := <-sendErr:
		if err != nil {
			fmt.Fprintf(os.Stderr, "ztunnel_source: sending to %s: %v\n", o.authority, err)
		}
	default:
	}
	t.Close()
	p.wait()
	return exitOK
}
