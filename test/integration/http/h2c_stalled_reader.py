#!/usr/bin/env python3
"""An h2c client (python3-h2) that stops granting HTTP/2 flow-control window mid-download.

Sends GET PATH to 127.0.0.1:PORT and reads the response without sending any WINDOW_UPDATE, so the
server can send no more than the initial 65,535-byte windows, until the file RELEASE_FILE exists
(the test creates it once it has looked at the proxy). Then it grants window for everything
received and keeps doing so until the stream ends, and prints:

    status <code> bytes <body bytes>

Exits 1 on a reset, a GOAWAY, a closed connection or the deadline (reason on stderr).
"""

import argparse
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--release-file", required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout

    sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(stream_id, [(":method", "GET"), (":scheme", "http"),
                                  (":authority", "127.0.0.1:%d" % args.port),
                                  (":path", args.path)], end_stream=True)
    sock.sendall(conn.data_to_send())

    status = None
    received = 0
    unacknowledged = 0
    released = False
    ended = False
    while not ended:
        if time.monotonic() > deadline:
            fail("deadline passed after %d body bytes" % received)
        if not released and os.path.exists(args.release_file):
            released = True
            if unacknowledged:
                conn.acknowledge_received_data(unacknowledged, stream_id)
                unacknowledged = 0
            sock.sendall(conn.data_to_send())
        # While stalled, wake up now and then to look for the release file.
        sock.settimeout(args.timeout if released else 0.02)
        try:
            data = sock.recv(1 << 20)
        except socket.timeout:
            continue
        if not data:
            fail("connection closed after %d body bytes" % received)
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers).get(":status")
            elif isinstance(event, h2.events.DataReceived):
                received += len(event.data)
                if released:
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                else:
                    unacknowledged += event.flow_controlled_length
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
            elif isinstance(event, h2.events.StreamReset):
                fail("stream reset with error code %d after %d bytes" %
                     (event.error_code, received))
            elif isinstance(event, h2.events.ConnectionTerminated):
                fail("GOAWAY with error code %d after %d bytes" % (event.error_code, received))
        sock.sendall(conn.data_to_send())

    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()
    print("status %s bytes %d" % (status, received))
    return 0


if __name__ == "__main__":
    sys.exit(main())
