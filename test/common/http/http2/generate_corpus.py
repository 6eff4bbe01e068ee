#!/usr/bin/env python3
"""Writes the seed corpus of codec_fuzz_test / codec_fuzzer (codec_fuzz_test.cc).

Each file is one fuzzer input: a knobs byte (bit 0: client codec; bit 1: raw, the input carries
its own preface; bit 2: small windows; bit 3: allow CONNECT; bit 4: tight limits; bit 5: slow
peer; bits 6-7: read size), a behaviour byte (bits 0-2 and 3-5: what the layer above does with
even and odd streams; bit 6: drain; bit 7: keepalive), then the peer's frames. Unless raw, the
harness sends the peer's preface itself (client magic + empty SETTINGS to a server codec, an
empty SETTINGS to a client codec, which has opened GET on stream 1, POST with a body and
trailers on 3, CONNECT on 5). The name says what the codec must make of it with the whole input
in one read: valid_* dispatch without error, bad_* are protocol errors, flood_* end in a flood
error. Regenerate with: python3 generate_corpus.py corpus/  (files the fuzzer found, without
these prefixes, are kept.) Only the standard library is used, so the frames are independent of
nghttp2 and h2.
"""

import os
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

# Knobs (first byte) and behaviours (second byte); see codec_fuzz_test.cc.
CLIENT, RAW, SMALL_WINDOWS, ALLOW_CONNECT, TIGHT, SLOW_PEER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
READ_1, READ_9, READ_200 = 0x40, 0x80, 0xC0
ANSWER, EARLY, BIG_BODY, PAUSE, RESET, CONTINUE, TUNNEL, OBSERVER = range(8)
DRAIN, KEEPALIVE = 0x40, 0x80


def modes(even, odd=None):
    return even | ((even if odd is None else odd) << 3)


def seed(knobs, behaviour, frames):
    return bytes([knobs, behaviour]) + frames


def frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream_id & 0x7FFFFFFF) + payload


def hpack(headers):
    out = b""
    for name, value in headers:
        name, value = name.encode(), value.encode()
        assert len(name) < 127 and len(value) < 127
        out += b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
    return out


def request(method="GET", path="/", extra=()):
    return [(":method", method), (":scheme", "https"), (":authority", "example.com"),
            (":path", path)] + list(extra)


def start(settings=b""):
    """What follows the harness's preface: a SETTINGS frame only if it says something."""
    return frame(SETTINGS, 0, 0, settings) if settings else b""


def response(status="200", extra=()):
    return hpack([(":status", status)] + list(extra))


def server_seeds():
    """Client frames for the server codec (knobs bit 0 clear)."""
    c = {}
    get = hpack(request())
    post = hpack(request("POST"))
    c["valid_get"] = seed(0, 0, frame(HEADERS, END_HEADERS | END_STREAM, 1, get))
    c["valid_post_body"] = seed(0, 0, frame(HEADERS, END_HEADERS, 1, post) +
                                frame(DATA, 0, 1, b"hello ") + frame(DATA, END_STREAM, 1, b"world"))
    c["valid_trailers"] = seed(0, 0, frame(HEADERS, END_HEADERS, 1, post) +
                               frame(DATA, 0, 1, b"body") +
                               frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                     hpack([("x-checksum", "1234")])))
    # END_STREAM belongs on HEADERS; CONTINUATION carries only END_HEADERS.
    c["valid_continuation"] = seed(0, 0, frame(HEADERS, END_STREAM, 1, get[:20]) +
                                   frame(CONTINUATION, END_HEADERS, 1, get[20:]))
    c["valid_control_frames"] = seed(0, 0, start(struct.pack(">HI", 4, 1 << 20)) +
                                     frame(SETTINGS, ACK, 0) + frame(PING, 0, 0, b"12345678") +
                                     frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)))
    c["valid_connect_without_allow"] = seed(0, 0, frame(
        HEADERS, END_HEADERS, 1, hpack([(":method", "CONNECT"), (":authority", "10.1.2.3:80")])))
    c["valid_streams_priority_reset"] = seed(0, 0, frame(HEADERS, END_HEADERS | END_STREAM, 1, get) +
                                             frame(HEADERS, END_HEADERS, 3,
                                                   hpack(request("POST", "/upload"))) +
                                             frame(PRIORITY, 0, 3, struct.pack(">IB", 1, 16)) +
                                             frame(RST_STREAM, 0, 3, struct.pack(">I", 8)) +
                                             frame(HEADERS, END_HEADERS | END_STREAM, 5, get))
    c["valid_padded_data"] = seed(0, 0, frame(HEADERS, END_HEADERS, 1, post) +
                                  frame(DATA, PADDED | END_STREAM, 1, b"\x05" + b"data" + b"\x00" * 5))
    c["valid_goaway"] = seed(0, 0, frame(HEADERS, END_HEADERS | END_STREAM, 1, get) +
                             frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)))
    # The layer above at work: tunnels, early answers, big bodies to a slow peer, paused reads.
    connect = hpack([(":method", "CONNECT"), (":authority", "10.1.2.3:80")])
    c["valid_connect_tunnel"] = seed(ALLOW_CONNECT, modes(TUNNEL),
                                     frame(HEADERS, END_HEADERS, 1, connect) +
                                     frame(DATA, 0, 1, b"hello") + frame(DATA, END_STREAM, 1, b"bye"))
    c["valid_early_response"] = seed(0, modes(EARLY), frame(HEADERS, END_HEADERS, 1, post) +
                                     frame(DATA, END_STREAM, 1, b"late body"))
    window = frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)) + \
        frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 1 << 20))
    c["valid_big_response_slow_peer"] = seed(SLOW_PEER | READ_200, modes(BIG_BODY),
                                             frame(HEADERS, END_HEADERS | END_STREAM, 1, get) +
                                             window + frame(PING, 0, 0, b"readmore") * 8)
    c["valid_paused_upload_small_window"] = seed(SMALL_WINDOWS | READ_9, modes(PAUSE),
                                                 frame(HEADERS, END_HEADERS, 1, post) +
                                                 frame(DATA, 0, 1, b"x" * 200) +
                                                 frame(DATA, 0, 1, b"y" * 56) +
                                                 frame(PING, 0, 0, b"12345678") +
                                                 frame(DATA, END_STREAM, 1, b"z" * 100))
    c["valid_continue_and_empty_trailers"] = seed(0, modes(CONTINUE),
                                                  frame(HEADERS, END_HEADERS, 1, post) +
                                                  frame(DATA, END_STREAM, 1, b"body"))
    c["valid_reset_by_the_layer_above"] = seed(0, modes(RESET, ANSWER),
                                               frame(HEADERS, END_HEADERS, 1, post) +
                                               frame(DATA, 0, 1, b"body") +
                                               frame(HEADERS, END_HEADERS | END_STREAM, 3, get))
    c["valid_observer_slow_peer"] = seed(SLOW_PEER, modes(OBSERVER),
                                         frame(HEADERS, END_HEADERS | END_STREAM, 1, get) +
                                         frame(HEADERS, END_HEADERS, 3, post) +
                                         frame(DATA, END_STREAM, 3, b"body"))
    c["valid_drain_between_reads"] = seed(READ_200, DRAIN, b"".join(
        frame(HEADERS, END_HEADERS | END_STREAM, 2 * i + 1, get) for i in range(6)))
    c["valid_tight_limits_refuse_streams"] = seed(TIGHT, 0, b"".join(
        frame(HEADERS, END_HEADERS, 2 * i + 1, post) for i in range(5)))
    c["valid_tight_limits_underscore_header"] = seed(TIGHT, 0, frame(
        HEADERS, END_HEADERS | END_STREAM, 1, hpack(request(extra=[("x_bad", "1")]))))
    c["valid_small_window_drop_underscore"] = seed(SMALL_WINDOWS, 0, frame(
        HEADERS, END_HEADERS | END_STREAM, 1, hpack(request(extra=[("x_drop", "1")]))))
    # Keepalive on the harness's clock (100 ms per read, reads of 9 bytes, the harness's preface
    # is 33 bytes): our PING goes out after read 10 and its timeout fires after read 15, so the
    # ACK (opaque = PING id 1) must complete in bytes 91..126. No outcome prefix: the outcome
    # tests read everything at once; Http2CodecFuzzTest.Keepalive runs these with their knobs.
    ping = frame(PING, 0, 0, b"peerping")
    c["keepalive_ack"] = seed(READ_9, KEEPALIVE, ping * 3 + frame(PING, ACK, 0, struct.pack("<Q", 1)) +
                              ping * 5)
    c["keepalive_no_ack"] = seed(READ_9, KEEPALIVE, ping * 9)

    c["bad_preface"] = seed(RAW, 0, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    c["bad_window_update_zero"] = seed(0, 0, frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0)))
    c["bad_even_stream_id"] = seed(0, 0, frame(HEADERS, END_HEADERS | END_STREAM, 2, get))
    c["bad_data_on_stream_zero"] = seed(0, 0, frame(DATA, 0, 0, b"x"))
    c["bad_hpack_index"] = seed(0, 0, frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\xff\xff\x7f"))
    c["bad_settings_length"] = seed(0, 0, frame(SETTINGS, 0, 0, b"\x00\x04\x00"))
    c["bad_push_promise_from_client"] = seed(0, 0, frame(HEADERS, END_HEADERS, 1, get) +
                                             frame(PUSH_PROMISE, END_HEADERS, 1,
                                                   struct.pack(">I", 2) + get))
    # Over the stream's window: nghttp2 resets that stream (FLOW_CONTROL_ERROR), not the session.
    c["valid_stream_flow_control_error"] = seed(SMALL_WINDOWS, modes(PAUSE),
                                              frame(SETTINGS, ACK, 0) +
                                              frame(HEADERS, END_HEADERS, 1, post) +
                                              frame(DATA, 0, 1, b"x" * 300))

    c["flood_continuation"] = seed(0, 0, frame(HEADERS, 0, 1, get) + b"".join(
        frame(CONTINUATION, 0, 1, hpack([("x-pad", "y" * 60)])) for _ in range(40)))
    c["flood_rapid_reset"] = seed(0, 0, b"".join(
        frame(HEADERS, END_HEADERS, 2 * i + 1, get) +
        frame(RST_STREAM, 0, 2 * i + 1, struct.pack(">I", 8)) for i in range(150)))
    c["flood_empty_data"] = seed(0, 0, frame(HEADERS, END_HEADERS, 1, get) +
                                 b"".join(frame(DATA, 0, 1) for _ in range(10)))
    c["flood_ping_one_read"] = seed(0, 0, b"".join(
        frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(1100)))
    c["flood_ping_tight"] = seed(TIGHT, 0, b"".join(
        frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(60)))
    c["flood_priority_tight"] = seed(TIGHT, 0, b"".join(
        frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 16)) for _ in range(20)))
    c["flood_window_update_tight"] = seed(TIGHT, 0, b"".join(
        frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1)) for _ in range(20)))
    return c


def client_seeds():
    """Server frames for the client codec (knobs bit 0 set), which sent GET on 1, POST on 3
    (body and trailers), CONNECT on 5."""
    c = {}
    ok = response()
    c["valid_client_responses"] = seed(CLIENT, 0, frame(SETTINGS, ACK, 0) +
                                       frame(HEADERS, END_HEADERS | END_STREAM, 1, ok) +
                                       frame(HEADERS, END_HEADERS, 3, ok) +
                                       frame(DATA, 0, 3, b"ok") +
                                       frame(HEADERS, END_HEADERS | END_STREAM, 3,
                                             hpack([("x-trailer", "1")])) +
                                       frame(HEADERS, END_HEADERS, 5, ok) +
                                       frame(DATA, 0, 5, b"tunnel"))
    c["valid_client_informational"] = seed(CLIENT, 0, frame(HEADERS, END_HEADERS, 1,
                                                            response("100")) +
                                           frame(HEADERS, END_HEADERS, 1, ok) +
                                           frame(DATA, END_STREAM, 1, b"done"))
    c["valid_client_goaway"] = seed(CLIENT, 0, frame(HEADERS, END_HEADERS | END_STREAM, 1, ok) +
                                    frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)))
    c["valid_client_rst_stream"] = seed(CLIENT, modes(PAUSE, TUNNEL),
                                        frame(RST_STREAM, 0, 3, struct.pack(">I", 7)) +
                                        frame(HEADERS, END_HEADERS, 5, ok) +
                                        frame(DATA, 0, 5, b"tunnel data") +
                                        frame(RST_STREAM, 0, 5, struct.pack(">I", 10)))
    c["valid_client_big_body_slow_peer"] = seed(CLIENT | SLOW_PEER | READ_200, modes(ANSWER, BIG_BODY),
                                                frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 20)) +
                                                frame(WINDOW_UPDATE, 0, 0,
                                                      struct.pack(">I", 1 << 20)) +
                                                frame(PING, 0, 0, b"12345678") * 8 +
                                                frame(HEADERS, END_HEADERS | END_STREAM, 3, ok))
    c["valid_client_paused_small_window"] = seed(CLIENT | SMALL_WINDOWS | READ_9, modes(PAUSE, CONTINUE),
                                                 frame(HEADERS, END_HEADERS, 1, ok) +
                                                 frame(DATA, 0, 1, b"a" * 200) +
                                                 frame(HEADERS, END_HEADERS, 3, ok) +
                                                 frame(DATA, END_STREAM, 3, b"b" * 100) +
                                                 frame(DATA, END_STREAM, 1, b"c" * 50))
    c["valid_client_reset_by_the_layer_above"] = seed(CLIENT, modes(RESET),
                                                      frame(HEADERS, END_HEADERS, 1,
                                                            response("103")) +
                                                      frame(HEADERS, END_HEADERS, 3, ok) +
                                                      frame(DATA, 0, 3, b"x"))
    # Push is refused once our SETTINGS (ENABLE_PUSH 0) are acknowledged.
    # The GET's response ends after the GOAWAY, so the next request (started from the response
    # callback) is never sent: nghttp2 closes it (on_stream_close) and the decoder sees a reset.
    c["valid_client_request_after_goaway"] = seed(CLIENT, 0,
                                                  frame(GOAWAY, 0, 0, struct.pack(">II", 3, 0)) +
                                                  frame(HEADERS, END_HEADERS | END_STREAM, 1, ok) +
                                                  frame(HEADERS, END_HEADERS | END_STREAM, 3, ok))
    both_end = frame(HEADERS, END_HEADERS | END_STREAM, 1, ok) + \
        frame(HEADERS, END_HEADERS | END_STREAM, 3, ok)
    # The request started from stream 1's response callback (mode RESET) has no :scheme.
    c["valid_client_broken_request_from_callback"] = seed(CLIENT, modes(ANSWER, RESET), both_end)
    # Mode OBSERVER sends Host instead of :authority.
    c["valid_client_host_header"] = seed(CLIENT, modes(OBSERVER), both_end)
    c["bad_client_push_promise"] = seed(CLIENT, 0, frame(SETTINGS, ACK, 0) +
                                        frame(PUSH_PROMISE, END_HEADERS, 1,
                                                         struct.pack(">I", 2) +
                                                         hpack(request())))
    c["bad_client_data_on_idle_stream"] = seed(CLIENT, 0, frame(DATA, 0, 9, b"x"))
    c["bad_client_no_settings_first"] = seed(CLIENT | RAW, 0,
                                             frame(HEADERS, END_HEADERS | END_STREAM, 1, ok))
    c["flood_client_ping"] = seed(CLIENT, 0, b"".join(
        frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(1100)))
    return c


def corpus():
    c = server_seeds()
    c.update(client_seeds())
    return c


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    os.makedirs(out_dir, exist_ok=True)
    for name, data in sorted(corpus().items()):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
