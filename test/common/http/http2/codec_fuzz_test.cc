// Fuzz target for the HTTP/2 codec wrapper, server and client (docs/testing.md, "Fuzzing").
//
// One source, two builds (test/fuzz/fuzz.bzl):
//  - :codec_fuzz_test (any compiler, the normal suite) replays every file in corpus/ through
//    LLVMFuzzerTestOneInput and checks the outcome that hand-written seeds promise by their name
//    (valid_*: no error, bad_*: protocol error, flood_*: flood error);
//  - :codec_fuzzer (--config=fuzz: clang, libFuzzer, ASan+UBSan) fuzzes the same entry point;
//    run it with `tools/fuzz http2 [seconds]`.
//
// Input format (also of every corpus file; generate_corpus.py writes the seeds):
//   byte 0  knobs: the side (server or client codec), settings, limits, transport, read size
//   byte 1  behaviour: what the layer above does with each stream (answer early or late, big
//           bodies, pause reads, reset, 1xx, tunnels), drain (GOAWAY), keepalive timers
//   rest    the peer's bytes: frames from a client for the server codec, frames from a server
//           for the client codec (which has started three requests: GET, POST with a body and
//           trailers, CONNECT). The harness sends the peer's preface first (the client magic and
//           an empty SETTINGS, or a server's empty SETTINGS) unless knob "raw" is set.
//
// So most of the work happens in our wrapper (stream lifecycle, deferred deletion, flow control
// with read-disabled streams, watermarks, data providers, trailers, resets, limits, flood
// budgets, keepalive), not only in nghttp2. The checks, beyond "no crash, no leak, no UB":
// errors only of the documented kinds and sticky; a GOAWAY with an error code written on error;
// decoder events in order and none after a reset; reset at most once; watermark callbacks
// balanced; received data bounded by the stream windows; and our output is well-formed HTTP/2
// (frames whole, nothing after END_STREAM on a stream, exactly the bytes the encoder was given
// in DATA of every stream that ended without a reset).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/assert.h"
#include "source/common/event/timer.h"
#include "source/common/http/codec.h"
#include "source/common/http/http2/client_connection_impl.h"
#include "source/common/http/http2/server_connection_impl.h"
#include "test/common/http/http2/codec_test_util.h"

namespace waystone::http::http2::fuzz {
namespace {

#define WAYSTONE_FUZZ_CHECK(cond) WAYSTONE_RELEASE_ASSERT(cond, "fuzz invariant")

using test::TestDeferredDeleter;
using test::TestTransport;

constexpr absl::string_view kClientMagic = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr absl::string_view kEmptySettings{"\0\0\0\x04\0\0\0\0\0", 9};
constexpr size_t kFrameHeaderSize = 9;
constexpr size_t kDefaultMaxFrameSize = 16384;
constexpr uint8_t kData = 0, kHeaders = 1, kRstStream = 3, kGoAway = 7;
constexpr uint8_t kEndStream = 0x1, kPadded = 0x8;
constexpr size_t kMaxClientRequests = 8;
constexpr size_t kBigBody = 100 * 1024;

struct Knobs {
  bool client = false;
  bool raw = false;
  Http2Settings settings;
  HeaderLimits limits;
  uint32_t transport_limit = 64 * 1024;
  // Bytes the peer reads from our output after each of its writes; everything if 0.
  size_t peer_read = 0;
  // Bytes per dispatch(); the whole input at once if 0.
  size_t read_size = 0;
};

Knobs knobsFrom(uint8_t byte) {
  Knobs knobs;
  knobs.client = (byte & 0x01) != 0;
  knobs.raw = (byte & 0x02) != 0;
  knobs.limits.max_headers_count = 50;
  if ((byte & 0x04) != 0) {
    // Small receive windows: WINDOW_UPDATE pacing, flow-control errors, read-disabled streams
    // holding a full window.
    knobs.settings.initial_stream_window_size = 256;
    knobs.settings.initial_connection_window_size = 65535;
    knobs.limits.headers_with_underscores_action = HeadersWithUnderscoresAction::DropHeader;
  }
  knobs.settings.allow_connect = (byte & 0x08) != 0;
  if ((byte & 0x10) != 0) {
    // Tight limits: every budget is reachable with a short input.
    knobs.settings.max_concurrent_streams = 3;
    knobs.settings.hpack_table_size = 0;
    knobs.settings.max_outbound_frames = 200;
    knobs.settings.max_outbound_control_frames = 50;
    knobs.settings.max_inbound_priority_frames_per_stream = 5;
    knobs.settings.max_inbound_window_update_frames_per_data_frame_sent = 2;
    knobs.limits.max_headers_count = 12;
    knobs.limits.max_request_headers_kb = 1;
    knobs.limits.headers_with_underscores_action = HeadersWithUnderscoresAction::RejectRequest;
  }
  if ((byte & 0x20) != 0) {
    // A slow peer: a small transport buffer that fills up, so watermarks and deferred data run.
    knobs.transport_limit = 1024;
    knobs.peer_read = 700;
  }
  static constexpr size_t kReadSizes[] = {0, 1, 9, 200};
  knobs.read_size = kReadSizes[byte >> 6];
  return knobs;
}

// What the layer above does with a stream; two modes alternate between streams.
enum class Mode : uint8_t {
  Answer = 0,    // server: respond at the request's end (headers, echo, trailers)
  Early = 1,     // server: headers-only response as soon as the request headers arrive
  BigBody = 2,   // server: 100 KiB response started at once; client: 100 KiB request body
  Pause = 3,     // readDisable(true) on headers, enabled again after the next read
  Reset = 4,     // resetStream() on the first data (or at the end)
  Continue = 5,  // server: 100 Continue first, empty trailers to end; client: read-disable twice
  Tunnel = 6,    // server: 200 at once, echo every chunk; client: more data on each response chunk
  Observer = 7,  // extra callbacks that remove themselves while being called; reset after data
};

struct Behaviour {
  Mode modes[2];
  bool drain = false;      // shutdownNotice() after the first read, goAway() after the third
  bool keepalive = false;  // keepalive PINGs with fake timers fired between reads
};

Behaviour behaviourFrom(uint8_t byte) {
  Behaviour behaviour;
  behaviour.modes[0] = static_cast<Mode>(byte & 7);
  behaviour.modes[1] = static_cast<Mode>((byte >> 3) & 7);
  behaviour.drain = (byte & 0x40) != 0;
  behaviour.keepalive = (byte & 0x80) != 0;
  return behaviour;
}

using TimePoint = std::chrono::steady_clock::time_point;

// A timer on the harness's clock, fired by the harness between reads; the codec owns it.
class FakeTimer : public event::Timer {
 public:
  FakeTimer(event::TimerCb cb, std::vector<FakeTimer*>& registry, const TimePoint& now)
      : cb_(std::move(cb)), registry_(registry), now_(now) {
    registry_.push_back(this);
  }
  ~FakeTimer() override {
    registry_.erase(std::remove(registry_.begin(), registry_.end(), this), registry_.end());
  }
  void enableTimer(std::chrono::milliseconds duration) override {
    enabled_ = true;
    deadline_ = now_ + duration;
  }
  void disableTimer() override { enabled_ = false; }
  bool enabled() const override { return enabled_; }
  bool due() const { return enabled_ && now_ >= deadline_; }
  void fire() {
    enabled_ = false;
    cb_();
  }

 private:
  event::TimerCb cb_;
  std::vector<FakeTimer*>& registry_;
  const TimePoint& now_;
  TimePoint deadline_;
  bool enabled_ = false;
};

// Parses what the codec writes, as the peer would, and checks that it is well-formed.
class OutputChecker {
 public:
  explicit OutputChecker(bool client) : magic_remaining_(client ? kClientMagic.size() : 0) {}

  void consume(absl::string_view bytes) {
    if (magic_remaining_ > 0) {
      const size_t n = std::min(magic_remaining_, bytes.size());
      const size_t offset = kClientMagic.size() - magic_remaining_;
      WAYSTONE_FUZZ_CHECK(bytes.substr(0, n) == kClientMagic.substr(offset, n));
      magic_remaining_ -= n;
      bytes.remove_prefix(n);
    }
    pending_.append(bytes.data(), bytes.size());
    size_t offset = 0;
    while (pending_.size() - offset >= kFrameHeaderSize) {
      const auto* p = reinterpret_cast<const uint8_t*>(pending_.data() + offset);
      const size_t length = (size_t{p[0]} << 16) | (size_t{p[1]} << 8) | p[2];
      if (pending_.size() - offset < kFrameHeaderSize + length) {
        break;
      }
      onFrame(p[3], p[4],
              (uint32_t{p[5]} << 24 | uint32_t{p[6]} << 16 | uint32_t{p[7]} << 8 | p[8]),
              absl::string_view(pending_).substr(offset + kFrameHeaderSize, length));
      offset += kFrameHeaderSize + length;
    }
    pending_.erase(0, offset);
  }

  // Everything written so far has been consumed: no half frame may remain.
  void checkComplete() const {
    WAYSTONE_FUZZ_CHECK(magic_remaining_ == 0);
    WAYSTONE_FUZZ_CHECK(pending_.empty());
  }

  bool goAwayWithError() const { return goaway_with_error_; }
  bool endSent(uint32_t stream_id) const {
    auto it = streams_.find(stream_id);
    return it != streams_.end() && it->second.end_stream;
  }
  bool resetSent(uint32_t stream_id) const {
    auto it = streams_.find(stream_id);
    return it != streams_.end() && it->second.reset;
  }
  uint64_t dataSent(uint32_t stream_id) const {
    auto it = streams_.find(stream_id);
    return it == streams_.end() ? 0 : it->second.data;
  }

 private:
  struct StreamOut {
    bool end_stream = false;
    bool reset = false;
    uint64_t data = 0;
  };

  void onFrame(uint8_t type, uint8_t flags, uint32_t stream_id, absl::string_view payload) {
    WAYSTONE_FUZZ_CHECK((stream_id & 0x80000000u) == 0);  // the reserved bit
    WAYSTONE_FUZZ_CHECK(type <= 9);                       // no extension frames
    if (frames_++ == 0) {
      WAYSTONE_FUZZ_CHECK(type == 4 && (flags & 1) == 0);  // the preface's SETTINGS
    }
    if (type == kData || type == kHeaders) {
      // Only client-initiated streams exist (push is off): odd ids.
      WAYSTONE_FUZZ_CHECK(stream_id % 2 == 1);
      StreamOut& stream = streams_[stream_id];
      WAYSTONE_FUZZ_CHECK(!stream.end_stream);
      WAYSTONE_FUZZ_CHECK(!stream.reset);
      if (type == kData) {
        WAYSTONE_FUZZ_CHECK(payload.size() <= kDefaultMaxFrameSize);
        size_t pad = 0;
        if ((flags & kPadded) != 0) {
          WAYSTONE_FUZZ_CHECK(!payload.empty());
          pad = 1 + static_cast<uint8_t>(payload[0]);
          WAYSTONE_FUZZ_CHECK(pad <= payload.size());
        }
        stream.data += payload.size() - pad;
      }
      stream.end_stream = stream.end_stream || (flags & kEndStream) != 0;
    } else if (type == kRstStream) {
      WAYSTONE_FUZZ_CHECK(stream_id != 0 && payload.size() == 4);
      streams_[stream_id].reset = true;
    } else if (type == kGoAway) {
      WAYSTONE_FUZZ_CHECK(stream_id == 0 && payload.size() >= 8);
      const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
      const uint32_t code =
          uint32_t{p[4]} << 24 | uint32_t{p[5]} << 16 | uint32_t{p[6]} << 8 | p[7];
      goaway_with_error_ = goaway_with_error_ || code != 0;
    }
  }

  size_t magic_remaining_;
  std::string pending_;
  uint64_t frames_ = 0;
  bool goaway_with_error_ = false;
  absl::flat_hash_map<uint32_t, StreamOut> streams_;
};

class Harness;

// One stream as the layer above sees it; checks the order of the events it receives.
class FuzzStream : public StreamCallbacks {
 public:
  FuzzStream(Harness& harness, Mode mode) : harness(harness), mode(mode) {}

  // StreamCallbacks
  void onResetStream(StreamResetReason, absl::string_view) override {
    WAYSTONE_FUZZ_CHECK(!reset);
    reset = true;
  }
  void onAboveWriteBufferHighWatermark() override { ++above; }
  void onBelowWriteBufferLowWatermark() override {
    ++below;
    WAYSTONE_FUZZ_CHECK(below <= above);
  }

  // The layer above may still use the encoder: neither reset nor finished both ways.
  bool usable() const { return !reset && !(remote_end && local_end); }

  void onHeadersEvent(bool end_stream) {
    resumeOthers();
    WAYSTONE_FUZZ_CHECK(!reset && !headers_seen && !remote_end);
    headers_seen = true;
    remote_end = end_stream;
  }
  void onDataEvent(buffer::Instance& data, bool end_stream) {
    resumeOthers();
    WAYSTONE_FUZZ_CHECK(!reset && headers_seen && !remote_end);
    WAYSTONE_FUZZ_CHECK(data.length() > 0 || end_stream);
    WAYSTONE_FUZZ_CHECK(read_disabled == 0);  // nothing is delivered while reads are off
    received += data.length();
    body_tail = data.toString().substr(0, 64);
    data.drain(data.length());
    remote_end = end_stream;
  }
  void onTrailersEvent() {
    resumeOthers();
    WAYSTONE_FUZZ_CHECK(!reset && headers_seen && !remote_end);
    WAYSTONE_FUZZ_CHECK(read_disabled == 0);
    remote_end = true;
  }

  // Sends data and remembers how much, for the output check.
  void send(StreamEncoder& encoder, uint64_t length, bool end_stream) {
    buffer::OwnedImpl data(std::string(static_cast<size_t>(length), 'd'));
    sent += length;
    local_end = end_stream;
    encoder.encodeData(data, end_stream);
  }

  // Paused streams waiting for any other stream's next event are resumed from inside it.
  void resumeOthers();

  Harness& harness;
  const Mode mode;
  uint32_t stream_id = 0;
  bool headers_seen = false;
  bool remote_end = false;
  bool local_end = false;
  bool reset = false;
  int above = 0;
  int below = 0;
  int read_disabled = 0;
  uint64_t received = 0;
  uint64_t sent = 0;
  std::string body_tail;
};

// Extra stream callbacks that unsubscribe from inside their own first callback.
class SelfRemovingObserver : public StreamCallbacks {
 public:
  explicit SelfRemovingObserver(Stream& stream) : stream_(stream) { stream_.addCallbacks(*this); }
  void onResetStream(StreamResetReason, absl::string_view) override { remove(); }
  void onAboveWriteBufferHighWatermark() override { remove(); }
  void onBelowWriteBufferLowWatermark() override { remove(); }
  void remove() {
    if (!removed_) {
      removed_ = true;
      stream_.removeCallbacks(*this);
    }
  }

 private:
  Stream& stream_;
  bool removed_ = false;
};

class ServerStream : public FuzzStream, public RequestDecoder {
 public:
  ServerStream(Harness& harness, Mode mode, ResponseEncoder& encoder)
      : FuzzStream(harness, mode), encoder_(encoder) {
    encoder_.getStream().addCallbacks(*this);
    stream_id = encoder_.getStream().streamId();
    WAYSTONE_FUZZ_CHECK(stream_id % 2 == 1);
    if (mode == Mode::Observer) {
      observer_ = std::make_unique<SelfRemovingObserver>(encoder_.getStream());
    }
  }

  void decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(RequestTrailerMapPtr&& trailers) override;

  Stream& stream() { return encoder_.getStream(); }

 private:
  void respond(bool with_trailers);
  void onRequestEnd();

  ResponseEncoder& encoder_;
  std::unique_ptr<SelfRemovingObserver> observer_;
  bool is_connect_ = false;
  bool response_started_ = false;
};

class ClientStream : public FuzzStream, public ResponseDecoder {
 public:
  ClientStream(Harness& harness, Mode mode) : FuzzStream(harness, mode) {}

  void decode1xxHeaders(ResponseHeaderMapPtr&& headers) override;
  void decodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(ResponseTrailerMapPtr&& trailers) override;

  RequestEncoder* encoder = nullptr;
  bool is_connect = false;
  int informational = 0;
};

class ServerCallbacks : public ServerConnectionCallbacks {
 public:
  explicit ServerCallbacks(Harness& harness) : harness_(harness) {}
  RequestDecoder& newStream(ResponseEncoder& encoder) override;
  void onGoAway() override { ++goaways; }
  int goaways = 0;

 private:
  Harness& harness_;
};

class ClientCallbacks : public ConnectionCallbacks {
 public:
  void onGoAway() override { ++goaways; }
  int goaways = 0;
};

class Harness {
 public:
  struct Resume {
    FuzzStream* stream;
    Stream* codec_stream;
  };

  Harness(const Knobs& knobs, const Behaviour& behaviour)
      : knobs_(knobs),
        behaviour_(behaviour),
        transport_(knobs.transport_limit),
        checker_(knobs.client),
        server_callbacks_(*this) {
    CodecRuntime runtime;
    runtime.deferred_delete = deleter_.callback();
    runtime.time_source = [this]() { return now_; };
    runtime.on_connection_error = [this](const absl::Status& status) {
      WAYSTONE_FUZZ_CHECK(!status.ok());
      timer_error_ = status;
    };
    Http2Settings settings = knobs.settings;
    if (behaviour.keepalive) {
      settings.connection_keepalive_interval_ms = 1000;
      settings.connection_keepalive_timeout_ms = 500;
      runtime.timer_factory = [this](event::TimerCb cb) -> event::TimerPtr {
        return std::make_unique<FakeTimer>(std::move(cb), timers_, now_);
      };
    }
    if (knobs.client) {
      client_ = std::make_unique<ClientConnectionImpl>(transport_, client_callbacks_, settings,
                                                       knobs.limits, std::move(runtime));
      codec_ = client_.get();
    } else {
      server_ = std::make_unique<ServerConnectionImpl>(transport_, server_callbacks_, settings,
                                                       knobs.limits, std::move(runtime));
      codec_ = server_.get();
    }
    transport_.simulateWatermarks(codec_);
    if (knobs.client) {
      startRequest("GET", /*end_stream=*/true);
      startRequest("POST", false);
      startRequest("CONNECT", false);
    }
    peerReads();
  }

  ~Harness() {
    // The end of the last loop iteration, then the connection goes.
    deleter_.freeAll();
    server_.reset();
    client_.reset();
  }

  // Feeds the peer's bytes; returns the codec's final status.
  absl::Status run(absl::string_view peer_bytes, size_t read_size) {
    size_t reads = 0;
    for (size_t offset = 0; offset < peer_bytes.size() && status_.ok();) {
      const size_t n = read_size == 0 ? peer_bytes.size() : read_size;
      buffer::OwnedImpl bytes(peer_bytes.substr(offset, n));
      offset += n;
      status_ = codec_->dispatch(bytes);
      WAYSTONE_FUZZ_CHECK(bytes.length() == 0);  // dispatch consumes everything
      afterEvent();
      if (!status_.ok()) {
        break;
      }
      ++reads;
      betweenReads(reads);
    }
    finish();
    return status_;
  }

  Mode modeFor(size_t index) const { return behaviour_.modes[index % 2]; }

  // Re-enables reading on `stream` later: streams 3, 7, 11, ... from inside the next decoder
  // callback of another stream (while nghttp2 is running), the others after the next read.
  void resumeLater(FuzzStream& stream, Stream& codec_stream) {
    (stream.stream_id % 4 == 3 ? inline_resumes_ : resumes_).push_back({&stream, &codec_stream});
  }

  void resumeInline(const FuzzStream& current) {
    std::vector<Resume> resumes;
    resumes.swap(inline_resumes_);
    for (const Resume& resume : resumes) {
      if (resume.stream == &current) {
        inline_resumes_.push_back(resume);  // another stream's turn
      } else {
        resumeOne(resume);
      }
    }
  }

  void startRequest(absl::string_view method, bool end_stream) {
    if (client_requests_.size() >= kMaxClientRequests) {
      return;
    }
    const Mode mode = modeFor(client_requests_.size());
    client_requests_.push_back(std::make_unique<ClientStream>(*this, mode));
    ClientStream& request = *client_requests_.back();
    RequestEncoder& encoder = client_->newStream(request);
    request.encoder = &encoder;
    encoder.getStream().addCallbacks(request);
    HeaderMap headers;
    headers.addCopy(":method", method);
    if (method == "CONNECT") {
      request.is_connect = true;
      headers.addCopy(":authority", "10.0.0.1:80");
    } else {
      // Some requests are shaped like HTTP/1 ones (Host) or broken (no :scheme, when started
      // from a response callback), as the layers above may hand them over.
      if (mode != Mode::Reset || client_requests_.size() <= 3) {
        headers.addCopy(":scheme", "https");
      }
      headers.addCopy(mode == Mode::Observer ? "host" : ":authority", "example.com");
      headers.addCopy(":path", "/fuzz");
    }
    const absl::Status status = encoder.encodeHeaders(headers, end_stream);
    if (!status.ok()) {
      // What the router does: the request cannot go out.
      encoder.getStream().resetStream(StreamResetReason::LocalReset);
      return;
    }
    request.stream_id = encoder.getStream().streamId();
    request.local_end = end_stream;
    if (end_stream || !request.usable()) {
      return;
    }
    request.send(encoder, mode == Mode::BigBody ? kBigBody : 5, false);
    if (!request.usable()) {
      return;
    }
    if (request.is_connect) {
      return;  // a tunnel stays open
    }
    HeaderMap trailers;
    trailers.addCopy("x-checksum", "1234");
    request.local_end = true;
    encoder.encodeTrailers(trailers);
  }

  std::vector<std::unique_ptr<ServerStream>> server_streams;

 private:
  // After every dispatch() and timer: the peer reads some of our output.
  void afterEvent() {
    const uint64_t buffered = codec_->bufferedReceiveBytes();
    const uint64_t window = std::max<uint64_t>(knobs_.settings.initial_stream_window_size, 65535);
    WAYSTONE_FUZZ_CHECK(buffered <= window * std::max<size_t>(1, codec_->activeStreamCount()));
    peerReads();
    if (!status_.ok()) {
      // Sticky, and the peer was told why.
      buffer::OwnedImpl more("x");
      WAYSTONE_FUZZ_CHECK(codec_->dispatch(more).message() == status_.message());
      WAYSTONE_FUZZ_CHECK(isCodecProtocolError(status_) || isBufferFloodError(status_));
    }
  }

  void peerReads(bool everything = false) {
    buffer::OwnedImpl out;
    transport_.drainTo(out, everything || knobs_.peer_read == 0 ? UINT64_MAX : knobs_.peer_read);
    checker_.consume(out.toString());
  }

  void resumeReads(bool all = false) {
    std::vector<Resume> resumes;
    resumes.swap(resumes_);
    if (all) {
      resumes.insert(resumes.end(), inline_resumes_.begin(), inline_resumes_.end());
      inline_resumes_.clear();
    }
    for (const Resume& resume : resumes) {
      resumeOne(resume);
    }
  }

  static void resumeOne(const Resume& resume) {
    // A finished stream may be gone already; the layer above has forgotten it too.
    if (resume.stream->usable() && resume.stream->read_disabled > 0) {
      --resume.stream->read_disabled;
      resume.codec_stream->readDisable(false);
    }
  }

  void betweenReads(size_t reads) {
    // End of the loop iteration that ran dispatch().
    deleter_.freeAll();
    resumeReads();
    if (behaviour_.drain && reads == 1) {
      codec_->shutdownNotice();
    }
    if (behaviour_.drain && reads == 3) {
      codec_->goAway();
    }
    // Each read takes 100 ms: keepalive PINGs every 10 reads, a missing ACK fails 5 reads later.
    now_ += std::chrono::milliseconds(100);
    if (behaviour_.keepalive) {
      std::vector<FakeTimer*> due;
      for (FakeTimer* timer : timers_) {
        if (timer->due()) {
          due.push_back(timer);
        }
      }
      for (FakeTimer* timer : due) {
        timer->fire();  // the codec owns the timers and outlives this loop
        if (!timer_error_.ok()) {
          status_ = timer_error_;
          break;
        }
      }
    }
    afterEvent();
    deleter_.freeAll();
  }

  void finish() {
    // The layer above lets paused streams read again.
    if (status_.ok()) {
      resumeReads(/*all=*/true);
    }
    deleter_.freeAll();
    // The peer reads everything; each drain below the low watermark may let deferred data out.
    for (int i = 0; i < 1000 && (i == 0 || transport_.outbox().length() > 0); ++i) {
      peerReads(/*everything=*/true);
    }
    checker_.checkComplete();
    if (!status_.ok()) {
      WAYSTONE_FUZZ_CHECK(checker_.goAwayWithError());
    }
    checkStreams(server_streams);
    checkStreams(client_requests_);
    if (std::getenv("WAYSTONE_FUZZ_DEBUG") != nullptr) {
      // A summary to see what a corpus file reaches: bazel run :codec_fuzzer -- <file>.
      std::fprintf(stderr, "%s codec: %s; %zu streams\n", knobs_.client ? "client" : "server",
                   status_.ToString().c_str(),
                   knobs_.client ? client_requests_.size() : server_streams.size());
      const auto print = [this](const FuzzStream& stream) {
        std::fprintf(stderr,
                     "  stream %u mode %d: headers %d remote_end %d local_end %d reset %d "
                     "received %llu sent %llu out %llu watermarks %d/%d\n",
                     stream.stream_id, static_cast<int>(stream.mode), stream.headers_seen,
                     stream.remote_end, stream.local_end, stream.reset,
                     static_cast<unsigned long long>(stream.received),
                     static_cast<unsigned long long>(stream.sent),
                     static_cast<unsigned long long>(checker_.dataSent(stream.stream_id)),
                     stream.above, stream.below);
      };
      for (size_t i = 0; i < server_streams.size() && i < 12; ++i) {
        print(*server_streams[i]);
      }
      for (const auto& stream : client_requests_) {
        print(*stream);
      }
    }
  }

  template <class T>
  void checkStreams(const std::vector<std::unique_ptr<T>>& streams) const {
    for (const auto& stream : streams) {
      WAYSTONE_FUZZ_CHECK(stream->below <= stream->above);
      if (stream->stream_id == 0) {
        continue;  // never sent
      }
      const uint64_t data_out = checker_.dataSent(stream->stream_id);
      WAYSTONE_FUZZ_CHECK(data_out <= stream->sent);
      if (!stream->reset && checker_.endSent(stream->stream_id) &&
          !checker_.resetSent(stream->stream_id)) {
        // Ended normally: every byte the encoder was given went out, once.
        WAYSTONE_FUZZ_CHECK(data_out == stream->sent);
      }
    }
  }

  const Knobs knobs_;
  const Behaviour behaviour_;
  TestTransport transport_;
  OutputChecker checker_;
  ServerCallbacks server_callbacks_;
  ClientCallbacks client_callbacks_;
  std::vector<FakeTimer*> timers_;
  TimePoint now_{};
  absl::Status timer_error_;
  absl::Status status_;
  std::vector<std::unique_ptr<ClientStream>> client_requests_;
  std::vector<Resume> resumes_;
  std::vector<Resume> inline_resumes_;
  // ~Harness() frees the parked streams, then the codec, explicitly.
  TestDeferredDeleter deleter_;
  std::unique_ptr<ServerConnectionImpl> server_;
  std::unique_ptr<ClientConnectionImpl> client_;
  ConnectionImpl* codec_ = nullptr;  // the one of the two above
};

void FuzzStream::resumeOthers() { harness.resumeInline(*this); }

RequestDecoder& ServerCallbacks::newStream(ResponseEncoder& encoder) {
  const Mode mode = harness_.modeFor(harness_.server_streams.size());
  harness_.server_streams.push_back(std::make_unique<ServerStream>(harness_, mode, encoder));
  return *harness_.server_streams.back();
}

void ServerStream::decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) {
  WAYSTONE_FUZZ_CHECK(headers != nullptr && !headers->method().empty());
  onHeadersEvent(end_stream);
  is_connect_ = headers->method() == "CONNECT";
  switch (mode) {
    case Mode::Early:
      response_started_ = true;
      local_end = true;
      encoder_.encodeHeaders(test::responseHeaders("204"), true);
      break;
    case Mode::BigBody:
    case Mode::Tunnel:
    case Mode::Observer:
      response_started_ = true;
      encoder_.encodeHeaders(test::responseHeaders("200"), false);
      if (usable() && mode != Mode::Tunnel) {
        send(encoder_, mode == Mode::BigBody ? kBigBody : 8192, false);
      }
      break;
    case Mode::Pause:
      ++read_disabled;
      stream().readDisable(true);
      harness.resumeLater(*this, stream());
      break;
    case Mode::Continue:
      encoder_.encode1xxHeaders(test::responseHeaders("100"));
      // Not informational: the codec drops it.
      encoder_.encode1xxHeaders(test::responseHeaders(is_connect_ ? "101" : "200"));
      break;
    default:
      break;
  }
  if (end_stream && usable()) {
    onRequestEnd();
  }
}

void ServerStream::decodeData(buffer::Instance& data, bool end_stream) {
  const uint64_t length = data.length();
  onDataEvent(data, end_stream);
  if ((mode == Mode::Reset || mode == Mode::Observer) && usable()) {
    stream().resetStream(StreamResetReason::LocalReset);
    return;
  }
  if (mode == Mode::Tunnel && usable() && (length > 0 || end_stream)) {
    send(encoder_, length, end_stream);  // echo
    return;
  }
  if (end_stream && usable()) {
    onRequestEnd();
  }
}

void ServerStream::decodeTrailers(RequestTrailerMapPtr&& trailers) {
  WAYSTONE_FUZZ_CHECK(trailers != nullptr);
  onTrailersEvent();
  if (usable()) {
    onRequestEnd();
  }
}

void ServerStream::onRequestEnd() {
  switch (mode) {
    case Mode::Early:
      break;  // already answered
    case Mode::Reset:
      stream().resetStream(StreamResetReason::LocalReset);
      break;
    case Mode::BigBody:
    case Mode::Tunnel:
    case Mode::Observer:
      if (!local_end) {
        send(encoder_, 4, true);
      }
      break;
    case Mode::Continue: {
      encoder_.encodeHeaders(test::responseHeaders("200"), false);
      if (usable()) {
        local_end = true;
        encoder_.encodeTrailers(HeaderMap{});  // empty: ends with an empty DATA frame
      }
      break;
    }
    default:
      respond(/*with_trailers=*/mode == Mode::Answer);
      break;
  }
}

void ServerStream::respond(bool with_trailers) {
  if (response_started_) {
    return;
  }
  response_started_ = true;
  encoder_.encodeHeaders(test::responseHeaders("200"), false);
  if (!usable()) {
    return;
  }
  send(encoder_, std::max<uint64_t>(received, 1), !with_trailers);
  if (with_trailers && usable()) {
    HeaderMap trailers;
    trailers.addCopy("x-done", "1");
    local_end = true;
    encoder_.encodeTrailers(trailers);
  }
}

void ClientStream::decode1xxHeaders(ResponseHeaderMapPtr&& headers) {
  WAYSTONE_FUZZ_CHECK(!reset && !headers_seen && headers != nullptr);
  WAYSTONE_FUZZ_CHECK(headers->status() >= 100 && headers->status() < 200);
  ++informational;
  if (mode == Mode::Reset) {
    encoder->getStream().resetStream(StreamResetReason::LocalReset);
  }
}

void ClientStream::decodeHeaders(ResponseHeaderMapPtr&& headers, bool end_stream) {
  WAYSTONE_FUZZ_CHECK(headers != nullptr);
  onHeadersEvent(end_stream);
  Stream& stream = encoder->getStream();
  if (mode == Mode::Pause || mode == Mode::Continue) {
    const int times = mode == Mode::Continue ? 2 : 1;
    for (int i = 0; i < times; ++i) {
      ++read_disabled;
      stream.readDisable(true);
      harness.resumeLater(*this, stream);
    }
  }
  if (end_stream && mode == Mode::Answer) {
    harness.startRequest("GET", true);
  }
}

void ClientStream::decodeData(buffer::Instance& data, bool end_stream) {
  const uint64_t length = data.length();
  onDataEvent(data, end_stream);
  if ((mode == Mode::Reset || mode == Mode::Observer) && usable()) {
    encoder->getStream().resetStream(StreamResetReason::LocalReset);
    return;
  }
  if (mode == Mode::Tunnel && is_connect && usable() && !local_end && length > 0) {
    send(*encoder, length, false);
  }
  if (end_stream && mode == Mode::Answer) {
    harness.startRequest("GET", true);
  }
}

void ClientStream::decodeTrailers(ResponseTrailerMapPtr&& trailers) {
  WAYSTONE_FUZZ_CHECK(trailers != nullptr);
  onTrailersEvent();
  if (mode == Mode::Answer) {
    harness.startRequest("GET", true);
  }
}

}  // namespace

// Runs one input; `read_size` overrides the knobs' read size. Returns the codec's final status.
absl::Status runInput(absl::string_view input, std::optional<size_t> read_size = std::nullopt) {
  if (input.size() < 2) {
    return absl::OkStatus();
  }
  const Knobs knobs = knobsFrom(static_cast<uint8_t>(input[0]));
  const Behaviour behaviour = behaviourFrom(static_cast<uint8_t>(input[1]));
  std::string peer_bytes;
  if (!knobs.raw) {
    peer_bytes =
        knobs.client ? std::string(kEmptySettings) : absl::StrCat(kClientMagic, kEmptySettings);
  }
  peer_bytes.append(input.data() + 2, input.size() - 2);
  Harness harness(knobs, behaviour);
  return harness.run(peer_bytes, read_size.value_or(knobs.read_size));
}

}  // namespace waystone::http::http2::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  waystone::http::http2::fuzz::runInput(
      absl::string_view(reinterpret_cast<const char*>(data), size))
      .IgnoreError();  // the harness checks what matters
  return 0;
}

#ifndef WAYSTONE_LIBFUZZER

#include <filesystem>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "test/test_common/file_util.h"
#include "test/test_common/runfiles.h"

namespace waystone::http::http2::fuzz {
namespace {

struct CorpusFile {
  std::string name;
  std::string bytes;
};

std::vector<CorpusFile> corpus() {
  const std::filesystem::path dir = waystone::test::runfilesPath("test/common/http/http2/corpus");
  std::vector<CorpusFile> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto bytes = waystone::test::readFile(entry.path().string());
    EXPECT_TRUE(bytes.ok()) << entry.path();
    files.push_back({entry.path().filename().string(), bytes.ok() ? *bytes : ""});
  }
  std::sort(files.begin(), files.end(),
            [](const CorpusFile& a, const CorpusFile& b) { return a.name < b.name; });
  return files;
}

// The outcome a hand-written seed promises by its name; other files (fuzzer finds, regression
// inputs) only have to pass the harness's own checks.
enum class Expect { Ok, ProtocolError, Flood, Anything };

Expect expected(absl::string_view name) {
  if (absl::StartsWith(name, "valid_")) {
    return Expect::Ok;
  }
  if (absl::StartsWith(name, "bad_")) {
    return Expect::ProtocolError;
  }
  if (absl::StartsWith(name, "flood_")) {
    return Expect::Flood;
  }
  return Expect::Anything;
}

// Exactly what the fuzzer runs: regression inputs reproduce their finding byte for byte.
TEST(Http2CodecFuzzTest, ReplayCorpusAsIs) {
  const std::vector<CorpusFile> files = corpus();
  ASSERT_GE(files.size(), 30u);
  for (const CorpusFile& file : files) {
    SCOPED_TRACE(file.name);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(file.bytes.data()), file.bytes.size());
  }
}

TEST(Http2CodecFuzzTest, SeedOutcomesMatchTheirNames) {
  size_t checked = 0;
  for (const CorpusFile& file : corpus()) {
    const Expect expect = expected(file.name);
    if (expect == Expect::Anything) {
      continue;
    }
    ASSERT_GE(file.bytes.size(), 2u) << file.name;
    const absl::Status status = runInput(file.bytes, /*read_size=*/0);
    switch (expect) {
      case Expect::Ok:
        EXPECT_TRUE(status.ok()) << file.name << ": " << status;
        break;
      case Expect::ProtocolError:
        EXPECT_TRUE(isCodecProtocolError(status)) << file.name << ": " << status;
        break;
      default:
        EXPECT_TRUE(isBufferFloodError(status)) << file.name << ": " << status;
        break;
    }
    ++checked;
  }
  EXPECT_GE(checked, 25u);
}

// Frames split at every odd boundary: partial headers, partial payloads, partial preface.
TEST(Http2CodecFuzzTest, SeedsInSmallPiecesKeepTheOutcomeOfValidAndBadInputs) {
  for (const CorpusFile& file : corpus()) {
    const Expect expect = expected(file.name);
    if (expect == Expect::Anything) {
      continue;
    }
    for (size_t chunk : {1, 7, 100}) {
      const absl::Status status = runInput(file.bytes, chunk);
      if (expect == Expect::Ok) {
        EXPECT_TRUE(status.ok()) << file.name << " in pieces of " << chunk << ": " << status;
      } else if (expect == Expect::ProtocolError) {
        EXPECT_TRUE(isCodecProtocolError(status)) << file.name << " in pieces of " << chunk;
      } else {
        // A flood spread over many small reads may be absorbed (the peer reads every reply);
        // what matters is that it never crashes or fails with another kind of error.
        EXPECT_TRUE(status.ok() || isBufferFloodError(status)) << file.name << ": " << status;
      }
    }
  }
}

// Every behaviour and knob over every seed: each input with the other settings bytes.
TEST(Http2CodecFuzzTest, SeedsWithEveryKnobAndBehaviour) {
  size_t runs = 0;
  for (const CorpusFile& file : corpus()) {
    if (file.bytes.size() < 2) {
      continue;
    }
    std::string input = file.bytes;
    for (int knobs = 0; knobs < 256; knobs += 37) {
      for (int behaviour = 0; behaviour < 256; behaviour += 29) {
        // Keep the side: a server's frames make no sense to a server codec.
        input[0] = static_cast<char>((knobs & ~1) | (file.bytes[0] & 1));
        input[1] = static_cast<char>(behaviour);
        const absl::Status status = runInput(input);
        EXPECT_TRUE(status.ok() || isCodecProtocolError(status) || isBufferFloodError(status));
        ++runs;
      }
    }
  }
  EXPECT_GT(runs, 1000u);
}

// The harness's keepalive timers work (so the fuzzer reaches that code): a PING ACK in time keeps
// the connection, none closes it.
TEST(Http2CodecFuzzTest, Keepalive) {
  const auto read = [](absl::string_view name) {
    auto bytes = waystone::test::readFile(
        waystone::test::runfilesPath(absl::StrCat("test/common/http/http2/corpus/", name)));
    EXPECT_TRUE(bytes.ok()) << name;
    return bytes.ok() ? *bytes : std::string();
  };
  EXPECT_TRUE(runInput(read("keepalive_ack")).ok());
  const absl::Status status = runInput(read("keepalive_no_ack"));
  EXPECT_TRUE(isCodecProtocolError(status)) << status;
  EXPECT_EQ(status.message(), "http2.keepalive_timeout");
}

TEST(Http2CodecFuzzTest, TruncatedSeedsNeverCrash) {
  size_t replays = 0;
  for (const CorpusFile& file : corpus()) {
    for (size_t cut = 2; cut < file.bytes.size() && cut < 400; cut += 3) {
      const absl::Status status = runInput(absl::string_view(file.bytes).substr(0, cut), 64);
      EXPECT_TRUE(status.ok() || isCodecProtocolError(status) || isBufferFloodError(status));
      ++replays;
    }
  }
  EXPECT_GT(replays, 100u);
}

}  // namespace
}  // namespace waystone::http::http2::fuzz

#endif  // WAYSTONE_LIBFUZZER
