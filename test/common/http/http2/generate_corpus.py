#!/usr/bin/env python3
"""Writes the seed corpus for frame_replay_test (and a future libFuzzer target).

Each file is the byte stream a client sends to the server codec. The name says what the codec
must make of it: valid_* dispatch without error, bad_* are protocol errors, flood_* are abuse
that must end in a flood error. Regenerate with: python3 generate_corpus.py corpus/
Only the standard library is used, so the frames are independent of nghttp2 and h2.
"""

import os
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8


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
    return PREFACE + frame(SETTINGS, 0, 0, settings)


def corpus():
    c = {}
    get = hpack(request())
    c["valid_get"] = start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, get)
    c["valid_post_body"] = start() + frame(HEADERS, END_HEADERS, 1, hpack(request("POST"))) + \
        frame(DATA, 0, 1, b"hello ") + frame(DATA, END_STREAM, 1, b"world")
    c["valid_trailers"] = start() + frame(HEADERS, END_HEADERS, 1, hpack(request("POST"))) + \
        frame(DATA, 0, 1, b"body") + \
        frame(HEADERS, END_HEADERS | END_STREAM, 1, hpack([("x-checksum", "1234")]))
    c["valid_continuation"] = start() + frame(HEADERS, 0, 1, get[:20]) + \
        frame(CONTINUATION, END_HEADERS | END_STREAM, 1, get[20:])
    c["valid_control_frames"] = start(struct.pack(">HI", 4, 1 << 20)) + \
        frame(SETTINGS, ACK, 0) + frame(PING, 0, 0, b"12345678") + \
        frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20))
    c["valid_connect_without_allow"] = start() + frame(
        HEADERS, END_HEADERS, 1, hpack([(":method", "CONNECT"), (":authority", "10.1.2.3:80")]))
    c["valid_streams_priority_reset"] = start() + \
        frame(HEADERS, END_HEADERS | END_STREAM, 1, get) + \
        frame(HEADERS, END_HEADERS, 3, hpack(request("POST", "/upload"))) + \
        frame(PRIORITY, 0, 3, struct.pack(">IB", 1, 16)) + \
        frame(RST_STREAM, 0, 3, struct.pack(">I", 8)) + \
        frame(HEADERS, END_HEADERS | END_STREAM, 5, get)
    c["valid_padded_data"] = start() + frame(HEADERS, END_HEADERS, 1, hpack(request("POST"))) + \
        frame(DATA, PADDED | END_STREAM, 1, b"\x05" + b"data" + b"\x00" * 5)
    c["valid_goaway"] = start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, get) + \
        frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0))

    c["bad_preface"] = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    c["bad_window_update_zero"] = start() + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0))
    c["bad_even_stream_id"] = start() + frame(HEADERS, END_HEADERS | END_STREAM, 2, get)
    c["bad_data_on_stream_zero"] = start() + frame(DATA, 0, 0, b"x")
    c["bad_hpack_index"] = start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, b"\xff\xff\x7f")
    c["bad_settings_length"] = start() + frame(SETTINGS, 0, 0, b"\x00\x04\x00")
    c["bad_push_promise_from_client"] = start() + frame(HEADERS, END_HEADERS, 1, get) + \
        frame(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2) + get)

    c["flood_continuation"] = start() + frame(HEADERS, 0, 1, get) + b"".join(
        frame(CONTINUATION, 0, 1, hpack([("x-pad", "y" * 60)])) for _ in range(40))
    c["flood_rapid_reset"] = start() + b"".join(
        frame(HEADERS, END_HEADERS, 2 * i + 1, get) +
        frame(RST_STREAM, 0, 2 * i + 1, struct.pack(">I", 8)) for i in range(150))
    c["flood_empty_data"] = start() + frame(HEADERS, END_HEADERS, 1, get) + \
        b"".join(frame(DATA, 0, 1) for _ in range(10))
    c["flood_ping_one_read"] = start() + b"".join(
        frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(3000))
    return c


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    os.makedirs(out_dir, exist_ok=True)
    for name, data in sorted(corpus().items()):
        with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
