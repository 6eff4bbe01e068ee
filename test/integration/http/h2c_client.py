#!/usr/bin/env python3
"""A raw h2c (HTTP/2 with prior knowledge) client built on python3-h2, a peer we did not write.

Opens one connection to 127.0.0.1:PORT, sends the connection preface and SETTINGS, then two
concurrent streams: a GET of PATH and a POST of PATH with BODY. Reads frames until both streams
end and prints, per stream in stream-id order:

    stream <id> :status <code>
    stream <id> header <name>: <value>      (one line per response header)
    stream <id> body <body as UTF-8>

Exits 0 when both streams got a complete response, 1 on a reset, a GOAWAY, a closed connection
or a timeout (with the reason on stderr).
"""

import argparse
import socket
import sys

import h2.config
import h2.connection
import h2.events


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--body", default="posted by python-h2")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()

    authority = "127.0.0.1:%d" % args.port
    common = [(":scheme", "http"), (":authority", authority), (":path", args.path),
              ("user-agent", "python-h2/%s" % h2.__version__)]
    get_id = conn.get_next_available_stream_id()
    conn.send_headers(get_id, [(":method", "GET")] + common, end_stream=True)
    post_id = conn.get_next_available_stream_id()
    body = args.body.encode("utf-8")
    conn.send_headers(post_id, [(":method", "POST")] + common +
                      [("content-length", str(len(body)))], end_stream=False)
    conn.send_data(post_id, body, end_stream=True)
    sock.sendall(conn.data_to_send())

    streams = {get_id: {"headers": None, "body": b"", "ended": False},
               post_id: {"headers": None, "body": b"", "ended": False}}
    while not all(s["ended"] for s in streams.values()):
        try:
            data = sock.recv(65536)
        except socket.timeout:
            fail("timed out waiting for the responses")
        if not data:
            fail("the server closed the connection before both responses ended")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                streams[event.stream_id]["headers"] = event.headers
            elif isinstance(event, h2.events.DataReceived):
                streams[event.stream_id]["body"] += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                streams[event.stream_id]["ended"] = True
            elif isinstance(event, h2.events.StreamReset):
                fail("stream %d reset with error code %d" % (event.stream_id, event.error_code))
            elif isinstance(event, h2.events.ConnectionTerminated):
                fail("GOAWAY with error code %d" % event.error_code)
        sock.sendall(conn.data_to_send())

    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()

    for stream_id in sorted(streams):
        stream = streams[stream_id]
        headers = stream["headers"] or []
        status = [value for name, value in headers if name == ":status"]
        print("stream %d :status %s" % (stream_id, status[0] if status else "none"))
        for name, value in headers:
            if not name.startswith(":"):
                print("stream %d header %s: %s" % (stream_id, name, value))
        print("stream %d body %s" % (stream_id, stream["body"].decode("utf-8", "replace")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
