#!/usr/bin/python3
"""An HTTP/2 client built on python3-h2 / hyperframe (Debian packages), for h2_interop_test.

Usage: h2_peer.py PORT SCENARIO
  request             POST with a body through h2's state machine; checks the echoed response
                      and its trailers.
  continuation_flood  HEADERS without END_HEADERS, then 100 CONTINUATION frames made by hand;
                      expects GOAWAY(ENHANCE_YOUR_CALM) and the connection closed.
Exit status 0 when the server behaved as expected; otherwise 1, with the reason on stderr.
"""

import socket
import sys

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import ContinuationFrame, Frame, GoAwayFrame, HeadersFrame, SettingsFrame

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ENHANCE_YOUR_CALM = 11


def fail(message):
    sys.stderr.write("h2_peer: " + message + "\n")
    sys.exit(1)


def request(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(stream_id, [(":method", "POST"), (":scheme", "http"),
                                  (":authority", "localhost"), (":path", "/echo"),
                                  ("x-test", "1")])
    conn.send_data(stream_id, b"hello from h2", end_stream=True)
    sock.sendall(conn.data_to_send())
    status, body, trailers, ended = None, b"", {}, False
    while not ended:
        data = sock.recv(65536)
        if not data:
            fail("connection closed before the response ended")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers).get(b":status")
            elif isinstance(event, h2.events.DataReceived):
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.TrailersReceived):
                trailers = dict(event.headers)
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
            elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                fail("unexpected %r" % event)
        sock.sendall(conn.data_to_send())
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    if status != b"200":
        fail("status %r" % status)
    if body != b"echo:hello from h2":
        fail("body %r" % body)
    if trailers.get(b"x-done") != b"1":
        fail("trailers %r" % trailers)


def read_frames(sock):
    """Frames the server sends until it closes the connection."""
    buf, frames = b"", []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        buf += data
        while len(buf) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(buf[:9]))
            if len(buf) < 9 + length:
                break
            frame.parse_body(memoryview(buf[9:9 + length]))
            frames.append(frame)
            buf = buf[9 + length:]
    return frames


def continuation_flood(sock):
    encoder = hpack.Encoder()
    headers = HeadersFrame(1)
    headers.data = encoder.encode([(":method", "GET"), (":scheme", "http"),
                                   (":authority", "localhost"), (":path", "/")])
    out = PREFACE + SettingsFrame(0).serialize() + headers.serialize()
    for i in range(100):
        cont = ContinuationFrame(1)
        cont.data = encoder.encode([("x-flood-%d" % i, "v" * 100)])
        out += cont.serialize()
    try:
        sock.sendall(out)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before it has read everything
    goaways = [f for f in read_frames(sock) if isinstance(f, GoAwayFrame)]
    if not goaways:
        fail("no GOAWAY")
    if goaways[-1].error_code != ENHANCE_YOUR_CALM:
        fail("GOAWAY code %d" % goaways[-1].error_code)


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    {"request": request, "continuation_flood": continuation_flood}[scenario](sock)
    sock.close()


if __name__ == "__main__":
    main()
