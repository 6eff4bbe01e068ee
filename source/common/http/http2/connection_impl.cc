#include "source/common/http/http2/connection_impl.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"
#include "source/common/http/http2/header_nv_list.h"
#include "source/common/http/http2/nghttp2_trampolines.h"

namespace waystone::http::http2 {
namespace {

constexpr uint32_t kDefaultWindowSize = 65535;  // RFC 9113 §6.9.2
constexpr uint32_t kMaxWindowSize = 0x7fffffff;
constexpr size_t kFrameHeaderSize = 9;
constexpr size_t kDefaultMaxFrameSize = 16384;
// nghttp2's own default cap on CONTINUATION frames per header block (CVE-2024-27316 class);
// raised only when the header limit needs more frames than that.
constexpr size_t kMinMaxContinuations = 8;
// nghttp2's defaults for the RST_STREAM token bucket (CVE-2023-44487), set explicitly.
constexpr uint64_t kResetRateBurst = 1000;
constexpr uint64_t kResetRatePerSecond = 33;

constexpr size_t kClientPrefaceSize = 24;  // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

uint32_t clampWindow(uint32_t window) { return std::clamp<uint32_t>(window, 1, kMaxWindowSize); }

// RST_STREAM code for a local reset. A stream whose response (or request) is complete is
// closed with NO_ERROR (RFC 9113 §8.1: "abort transmission ... without error").
uint32_t resetCode(StreamResetReason reason, bool local_end_sent) {
  switch (reason) {
    case StreamResetReason::LocalRefusedStreamReset:
    case StreamResetReason::RemoteRefusedStreamReset:
      return NGHTTP2_REFUSED_STREAM;
    case StreamResetReason::ConnectError:
      return NGHTTP2_CONNECT_ERROR;
    case StreamResetReason::ProtocolError:
      return NGHTTP2_PROTOCOL_ERROR;
    case StreamResetReason::Overflow:
      return NGHTTP2_INTERNAL_ERROR;
    default:
      return local_end_sent ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL;
  }
}

absl::Status errorFromNghttp2(int rv) {
  switch (rv) {
    case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
      return codecProtocolError("http2.invalid_preface");
    case NGHTTP2_ERR_FLOODED:
      return bufferFloodError("http2.outbound_control_flood");
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
      return bufferFloodError("http2.too_many_continuations");
    default:
      return codecProtocolError("http2.protocol_error");
  }
}

}  // namespace

ConnectionImpl::ConnectionImpl(CodecTransport& transport, ConnectionCallbacks& callbacks,
                               const Http2Settings& settings, const HeaderLimits& header_limits,
                               CodecRuntime runtime, bool is_server)
    : transport_(transport),
      callbacks_(callbacks),
      settings_(settings),
      header_limits_(header_limits),
      is_server_(is_server),
      deferred_delete_(std::move(runtime.deferred_delete)),
      time_source_(std::move(runtime.time_source)),
      on_connection_error_(std::move(runtime.on_connection_error)),
      constraints_(settings),
      aligner_(is_server ? kClientPrefaceSize : 0) {
  createSession(runtime);
  submitSettings();
  if (settings_.connection_keepalive_interval_ms > 0 && runtime.timer_factory) {
    keepalive_timer_ = runtime.timer_factory([this]() { onKeepaliveTimer(); });
    keepalive_timeout_timer_ = runtime.timer_factory([this]() { onKeepaliveTimeout(); });
    keepalive_timer_->enableTimer(
        std::chrono::milliseconds(settings_.connection_keepalive_interval_ms));
  }
  // The client preface (magic + SETTINGS) or the server preface (SETTINGS) goes out now.
  sendPending();
}

ConnectionImpl::~ConnectionImpl() {
  // Streams hold references to the session through parent_; free them first. No callbacks
  // run: the owner tears the connection down and has already reset what it cared about.
  graveyard_.clear();
  active_streams_.clear();
}

void ConnectionImpl::createSession(const CodecRuntime&) {
  SessionCallbacksPtr callbacks = Nghttp2Trampolines::createCallbacks();
  nghttp2_session_callbacks* cb = callbacks.get();
  nghttp2_option* raw_option = nullptr;
  int rv = nghttp2_option_new(&raw_option);
  WAYSTONE_RELEASE_ASSERT(rv == 0, "nghttp2_option_new failed (out of memory)");
  OptionPtr option(raw_option);
  // Receive windows are re-opened only for data handed to a read-enabled decoder.
  nghttp2_option_set_no_auto_window_update(option.get(), 1);
  // Closed streams are not kept for the (deprecated) priority tree.
  nghttp2_option_set_no_closed_streams(option.get(), 1);
  // PING/SETTINGS ACKs queued within one dispatch() (before we can flush) are capped like
  // Envoy's control frames; past it nghttp2 fails mem_recv with NGHTTP2_ERR_FLOODED.
  nghttp2_option_set_max_outbound_ack(option.get(),
                                      std::max<uint32_t>(1, settings_.max_outbound_control_frames));
  // Debian's 1.52 backports (deb12u1, deb12u2): the RST_STREAM rate limiter and the
  // CONTINUATION cap. The cap allows enough frames for a header block at our size limit.
  nghttp2_option_set_stream_reset_rate_limit(option.get(), kResetRateBurst, kResetRatePerSecond);
  const size_t header_bytes = static_cast<size_t>(header_limits_.max_request_headers_kb) * 1024;
  nghttp2_option_set_max_continuations(
      option.get(), std::max(kMinMaxContinuations, header_bytes / kDefaultMaxFrameSize + 1));

  nghttp2_session* raw_session = nullptr;
  rv = is_server_ ? nghttp2_session_server_new2(&raw_session, cb, this, option.get())
                  : nghttp2_session_client_new2(&raw_session, cb, this, option.get());
  WAYSTONE_RELEASE_ASSERT(rv == 0, "nghttp2 session creation failed (out of memory)");
  session_.reset(raw_session);
}

void ConnectionImpl::submitSettings() {
  std::vector<nghttp2_settings_entry> entries;
  entries.push_back({NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, settings_.hpack_table_size});
  entries.push_back(
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, clampWindow(settings_.initial_stream_window_size)});
  if (is_server_) {
    entries.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams});
  } else {
    entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441) is not sent: plain CONNECT (RFC 9113 §8.5),
  // which HBONE uses, needs no setting, and without it nghttp2 rejects :protocol requests.
  int rv =
      nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, entries.data(), entries.size());
  if (rv != 0) {
    WAYSTONE_LOG(error, http2, "nghttp2_submit_settings: %s", nghttp2_strerror(rv));
    setConnectionError(codecProtocolError("http2.invalid_settings"));
    return;
  }
  // The connection window is not a setting: it grows with a WINDOW_UPDATE on stream 0.
  const uint32_t connection_window = clampWindow(settings_.initial_connection_window_size);
  if (connection_window != kDefaultWindowSize) {
    rv = nghttp2_session_set_local_window_size(session_.get(), NGHTTP2_FLAG_NONE, 0,
                                               static_cast<int32_t>(connection_window));
    if (rv != 0) {
      WAYSTONE_LOG(error, http2, "nghttp2_session_set_local_window_size: %s", nghttp2_strerror(rv));
      setConnectionError(codecProtocolError("http2.invalid_settings"));
    }
  }
}

std::chrono::steady_clock::time_point ConnectionImpl::now() const {
  return time_source_ ? time_source_() : std::chrono::steady_clock::now();
}

absl::Status ConnectionImpl::dispatch(buffer::Instance& data) {
  if (hasConnectionError()) {
    data.drain(data.length());
    return connection_error_;
  }
  if (!deferred_delete_) {
    clearGraveyard();
  }
  dispatching_ = true;
  bool ok = true;
  data.forEachSlice([this, &ok](absl::string_view slice) {
    if (ok) {
      ok = aligner_.process(slice, [this](absl::string_view bytes) { return feed(bytes); });
    }
  });
  data.drain(data.length());
  dispatching_ = false;

  // Whatever nghttp2 queued in reply to this input (HEADERS, RST_STREAM, ACKs) is bounded.
  if (!hasConnectionError() &&
      nghttp2_session_get_outbound_queue_size(session_.get()) > settings_.max_outbound_frames) {
    setConnectionError(bufferFloodError("http2.outbound_flood"));
  }
  sendPendingInternal();
  return connection_error_;
}

bool ConnectionImpl::feed(absl::string_view bytes) {
  if (hasConnectionError()) {
    return false;
  }
  const ssize_t rv = nghttp2_session_mem_recv(
      session_.get(), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_session_mem_recv: %s", nghttp2_strerror(rv));
    setConnectionError(errorFromNghttp2(static_cast<int>(rv)));  // keeps an earlier error
    return false;
  }
  return !hasConnectionError();
}

void ConnectionImpl::setConnectionError(const absl::Status& status) {
  if (hasConnectionError() || status.ok()) {
    return;
  }
  WAYSTONE_LOG(debug, http2, "connection error: %s", status.ToString());
  connection_error_ = status;
  if (keepalive_timer_ != nullptr) {
    keepalive_timer_->disableTimer();
    keepalive_timeout_timer_->disableTimer();
  }
  terminateOnError();
}

void ConnectionImpl::terminateOnError() {
  if (terminated_by_us_) {
    return;
  }
  terminated_by_us_ = true;
  const uint32_t code =
      isBufferFloodError(connection_error_) ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR;
  const int rv = nghttp2_session_terminate_session(session_.get(), code);
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_session_terminate_session: %s", nghttp2_strerror(rv));
  }
  // The caller of dispatch() flushes it; outside dispatch the next send cycle does.
  send_again_ = true;
}

void ConnectionImpl::sendPending() {
  if (dispatching_ || sending_) {
    // The dispatch or send cycle in progress sends it before it returns.
    send_again_ = true;
    return;
  }
  sendPendingInternal();
}

void ConnectionImpl::sendPendingInternal() {
  sending_ = true;
  do {
    send_again_ = false;
    const int rv = nghttp2_session_send(session_.get());
    if (rv != 0) {
      WAYSTONE_LOG(debug, http2, "nghttp2_session_send: %s", nghttp2_strerror(rv));
      if (!hasConnectionError()) {
        setConnectionError(codecProtocolError("http2.send_failed"));
      }
      send_again_ = false;
    }
    flushOutput();
    runScheduledWork();
  } while (send_again_);
  sending_ = false;
}

void ConnectionImpl::flushOutput() {
  if (output_.length() == 0) {
    return;
  }
  // One write per cycle. The transport may call our watermark methods from inside write().
  transport_.write(output_, false);
  output_.drain(output_.length());
}

void ConnectionImpl::runScheduledWork() {
  while (!scheduled_low_watermarks_.empty() || !scheduled_resumes_.empty()) {
    std::vector<StreamImpl*> lows;
    lows.swap(scheduled_low_watermarks_);
    for (StreamImpl* stream : lows) {
      stream->low_watermark_scheduled_ = false;
      if (stream->active()) {
        stream->runLowWatermarkCallbacks();
      }
    }
    std::vector<StreamImpl*> resumes;
    resumes.swap(scheduled_resumes_);
    for (StreamImpl* stream : resumes) {
      stream->resume_scheduled_ = false;
      if (stream->active()) {
        stream->deliverPending();
      }
    }
  }
}

void ConnectionImpl::scheduleResume(StreamImpl& stream) {
  if (!stream.active()) {
    return;
  }
  if (dispatching_ || sending_) {
    if (!stream.resume_scheduled_) {
      stream.resume_scheduled_ = true;
      scheduled_resumes_.push_back(&stream);
      send_again_ = true;
    }
    return;
  }
  stream.deliverPending();
  sendPending();  // WINDOW_UPDATEs for what was delivered
}

void ConnectionImpl::scheduleLowWatermark(StreamImpl& stream) {
  if (dispatching_ || sending_) {
    if (!stream.low_watermark_scheduled_) {
      stream.low_watermark_scheduled_ = true;
      scheduled_low_watermarks_.push_back(&stream);
      send_again_ = true;
    }
    return;
  }
  stream.runLowWatermarkCallbacks();
}

void ConnectionImpl::clearGraveyard() { graveyard_.clear(); }

void ConnectionImpl::goAway() {
  if (hasConnectionError()) {
    return;
  }
  const int rv = nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE,
                                       nghttp2_session_get_last_proc_stream_id(session_.get()),
                                       NGHTTP2_NO_ERROR, nullptr, 0);
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_submit_goaway: %s", nghttp2_strerror(rv));
  }
  sendPending();
}

void ConnectionImpl::shutdownNotice() {
  // Only a server announces a drain (GOAWAY with 2^31-1); nghttp2 refuses it for clients, whose
  // drain is simply to stop creating streams.
  if (!is_server_ || hasConnectionError()) {
    return;
  }
  const int rv = nghttp2_submit_shutdown_notice(session_.get());
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_submit_shutdown_notice: %s", nghttp2_strerror(rv));
  }
  sendPending();
}

bool ConnectionImpl::wantsToWrite() const {
  return !active_streams_.empty() || output_.length() > 0 ||
         nghttp2_session_want_write(session_.get()) != 0;
}

void ConnectionImpl::onUnderlyingConnectionAboveWriteBufferHighWatermark() {
  if (constraints_.transportAboveHighWatermark()) {
    return;
  }
  constraints_.setTransportAboveHighWatermark(true);
  // Snapshot: callbacks may reset streams (which never frees them synchronously).
  std::vector<StreamImpl*> streams;
  for (auto& stream : active_streams_) {
    streams.push_back(stream.get());
  }
  for (StreamImpl* stream : streams) {
    if (stream->active()) {
      stream->runHighWatermarkCallbacks();
    }
  }
}

void ConnectionImpl::onUnderlyingConnectionBelowWriteBufferLowWatermark() {
  if (!constraints_.transportAboveHighWatermark()) {
    return;
  }
  constraints_.setTransportAboveHighWatermark(false);
  std::vector<StreamImpl*> streams;
  for (auto& stream : active_streams_) {
    streams.push_back(stream.get());
  }
  for (StreamImpl* stream : streams) {
    if (stream->active()) {
      stream->runLowWatermarkCallbacks();
    }
    if (stream->active()) {
      resumeData(*stream);  // providers deferred while the transport was full
    }
  }
  sendPending();
}

uint64_t ConnectionImpl::bufferedReceiveBytes() const {
  uint64_t total = 0;
  for (const auto& stream : active_streams_) {
    total += stream->bufferedReceiveBytes();
  }
  return total;
}

StreamImpl* ConnectionImpl::findStream(int32_t stream_id) const {
  auto it = streams_by_id_.find(stream_id);
  return it == streams_by_id_.end() ? nullptr : it->second;
}

StreamImpl& ConnectionImpl::addStream(std::unique_ptr<StreamImpl> stream) {
  StreamImpl& ref = *stream;
  active_streams_.push_back(std::move(stream));
  ref.entry_ = std::prev(active_streams_.end());
  ref.created_ = now();
  if (constraints_.transportAboveHighWatermark()) {
    // Counted now, replayed to callbacks as they are added.
    ref.runHighWatermarkCallbacks();
  }
  return ref;
}

void ConnectionImpl::registerStreamId(StreamImpl& stream, int32_t stream_id) {
  stream.stream_id_ = stream_id;
  streams_by_id_[stream_id] = &stream;
}

void ConnectionImpl::finalizeStream(StreamImpl& stream) {
  if (stream.finalized_) {
    return;
  }
  // A client stream that ends before our END_STREAM went out (the server answered in full, then
  // reset the stream, e.g. RST_STREAM(NO_ERROR) per RFC 9113 §8.1) is not complete for whoever
  // still watches it: a CONNECT tunnel still uploading hears a reset instead of losing its stream
  // unannounced. Plain requests let go of their stream when the response ended.
  if (!is_server_ && !stream.local_end_sent_ && !stream.reset_notified_) {
    stream.runResetCallbacks(StreamResetReason::RemoteReset, "http2.remote_reset");
  }
  stream.finalized_ = true;
  if (stream.stream_id_ > 0) {
    streams_by_id_.erase(stream.stream_id_);
  }
  std::unique_ptr<StreamImpl> owned = std::move(*stream.entry_);
  active_streams_.erase(stream.entry_);
  if (deferred_delete_) {
    deferred_delete_(std::move(owned));
  } else {
    graveyard_.push_back(std::move(owned));
  }
}

nghttp2_data_provider ConnectionImpl::dataProvider(StreamImpl&) {
  nghttp2_data_provider provider;
  provider.source.ptr = nullptr;  // the stream is found by id, which nghttp2 passes anyway
  provider.read_callback = &Nghttp2Trampolines::readData;
  return provider;
}

void ConnectionImpl::resumeData(StreamImpl& stream) {
  if (!stream.data_provider_attached_ || !stream.data_deferred_ || stream.stream_id_ <= 0) {
    return;
  }
  stream.data_deferred_ = false;
  const int rv = nghttp2_session_resume_data(session_.get(), stream.stream_id_);
  if (rv != 0 && rv != NGHTTP2_ERR_INVALID_ARGUMENT) {
    WAYSTONE_LOG(debug, http2, "nghttp2_session_resume_data: %s", nghttp2_strerror(rv));
  }
}

void ConnectionImpl::consumeStreamWindow(StreamImpl& stream, uint64_t length) {
  if (length == 0 || stream.stream_id_ <= 0) {
    return;
  }
  const int rv = nghttp2_session_consume_stream(session_.get(), stream.stream_id_, length);
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_session_consume_stream: %s", nghttp2_strerror(rv));
  }
}

void ConnectionImpl::submitReset(StreamImpl& stream, StreamResetReason reason) {
  if (stream.stream_id_ <= 0) {
    finalizeStream(stream);  // never sent: nothing to tell the peer
    return;
  }
  // nghttp2 calls on_stream_close only for streams it has opened; a request whose HEADERS are
  // still queued is cancelled silently, and a stream it already closed is gone.
  const bool open_in_nghttp2 =
      !stream.nghttp2_closed_ &&
      nghttp2_session_find_stream(session_.get(), stream.stream_id_) != nullptr;
  if (!stream.nghttp2_closed_) {
    const int rv = nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream.stream_id_,
                                             resetCode(reason, stream.local_end_sent_));
    if (rv != 0) {
      WAYSTONE_LOG(debug, http2, "nghttp2_submit_rst_stream: %s", nghttp2_strerror(rv));
    }
  }
  if (!open_in_nghttp2) {
    finalizeStream(stream);
  }
  sendPending();
}

int ConnectionImpl::addDecodedHeader(StreamImpl& stream, absl::string_view name,
                                     absl::string_view value) {
  if (stream.decoding_headers_ == nullptr) {
    return 0;  // a block we decided to ignore; nghttp2 still decodes it for HPACK state
  }
  HeaderMap& headers = *stream.decoding_headers_;
  if (is_server_ && !name.empty() && name[0] != ':' &&
      header_limits_.headers_with_underscores_action != HeadersWithUnderscoresAction::Allow &&
      name.find('_') != absl::string_view::npos) {
    if (header_limits_.headers_with_underscores_action ==
        HeadersWithUnderscoresAction::DropHeader) {
      return 0;
    }
    stream.peer_misbehaved_ = true;
    stream.has_close_reason_ = true;
    stream.close_reason_ = StreamResetReason::ProtocolError;
    stream.close_details_ = "http2.unexpected_underscore";
    stream.decoding_headers_.reset();
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (name == "cookie" && headers.has("cookie")) {
    // RFC 9113 §8.2.3: split cookie fields are joined with "; " for HTTP/1 semantics.
    headers.setCopy("cookie", absl::StrCat(headers.getValue("cookie"), "; ", value));
  } else {
    headers.addCopy(name, value);
  }
  // Checked per field, so a header block is cut off while it is still arriving (CONTINUATION
  // floods), not after it has been buffered whole. nghttp2 answers with RST_STREAM.
  const bool too_many = headers.size() > header_limits_.max_headers_count;
  const bool too_large =
      headers.byteSize() > static_cast<uint64_t>(header_limits_.max_request_headers_kb) * 1024;
  if (too_many || too_large) {
    stream.peer_misbehaved_ = true;
    stream.has_close_reason_ = true;
    stream.close_reason_ = StreamResetReason::Overflow;
    stream.close_details_ = too_many ? "http2.too_many_headers" : "http2.headers_too_large";
    stream.decoding_headers_.reset();
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

// nghttp2 callbacks ------------------------------------------------------------------------

ssize_t ConnectionImpl::onSend(const uint8_t* data, size_t length) {
  output_.add(data, length);
  return static_cast<ssize_t>(length);
}

int ConnectionImpl::onSendData(nghttp2_frame& frame, const uint8_t* framehd, size_t length) {
  StreamImpl* stream = findStream(frame.hd.stream_id);
  if (stream == nullptr || stream->pending_send_data_.length() < length) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  output_.add(framehd, kFrameHeaderSize);
  const size_t padlen = frame.data.padlen;
  if (padlen > 0) {
    const uint8_t pad_length_field = static_cast<uint8_t>(padlen - 1);
    output_.add(&pad_length_field, 1);
  }
  // Moves the slices; the below-low-watermark callback this may trigger is deferred.
  output_.move(stream->pending_send_data_, length);
  if (padlen > 1) {
    output_.add(std::string(padlen - 1, '\0'));
  }
  return 0;
}

ssize_t ConnectionImpl::onDataSourceRead(int32_t stream_id, size_t length, uint32_t& data_flags) {
  StreamImpl* stream = findStream(stream_id);
  if (stream == nullptr || !stream->active()) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  const uint64_t pending = stream->pending_send_data_.length();
  // While the transport is backed up, data stays in the streams (where the watermarks are)
  // instead of piling up in the transport; control frames still go out.
  if (pending > 0 && constraints_.transportAboveHighWatermark()) {
    stream->data_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  const size_t chunk = static_cast<size_t>(std::min<uint64_t>(length, pending));
  if (chunk == 0 && !stream->local_end_requested_) {
    stream->data_deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (chunk == pending && stream->local_end_requested_) {
    data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (stream->pending_send_trailers_ != nullptr) {
      // The last DATA frame goes without END_STREAM; the trailers carry it.
      data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      HeaderMapPtr trailers = std::move(stream->pending_send_trailers_);
      HeaderNvList nv(*trailers);
      const int rv = nghttp2_submit_trailer(session_.get(), stream_id, nv.data(), nv.size());
      if (rv != 0) {
        WAYSTONE_LOG(debug, http2, "nghttp2_submit_trailer: %s", nghttp2_strerror(rv));
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      }
    }
  }
  return static_cast<ssize_t>(chunk);
}

int ConnectionImpl::onBeginFrame(const nghttp2_frame_hd& hd) {
  if (hasConnectionError()) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  const absl::Status status = constraints_.trackInboundFrame(hd.type, hd.flags, hd.length);
  if (!status.ok()) {
    setConnectionError(status);
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int ConnectionImpl::onHeader(const nghttp2_frame& frame, absl::string_view name,
                             absl::string_view value) {
  if (hasConnectionError()) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  StreamImpl* stream = findStream(frame.hd.stream_id);
  if (stream == nullptr) {
    return 0;
  }
  return addDecodedHeader(*stream, name, value);
}

int ConnectionImpl::onFrameReceived(const nghttp2_frame& frame) {
  if (hasConnectionError()) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  switch (frame.hd.type) {
    case NGHTTP2_HEADERS: {
      StreamImpl* stream = findStream(frame.hd.stream_id);
      if (stream != nullptr && !stream->reset_notified_ && stream->decoding_headers_ != nullptr) {
        onHeadersComplete(*stream, frame);
      }
      break;
    }
    case NGHTTP2_DATA: {
      StreamImpl* stream = findStream(frame.hd.stream_id);
      if (stream != nullptr && !stream->reset_notified_) {
        stream->onDataFrameComplete((frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
      }
      break;
    }
    case NGHTTP2_RST_STREAM: {
      StreamImpl* stream = findStream(frame.hd.stream_id);
      if (stream != nullptr) {
        stream->remote_reset_ = true;  // on_stream_close follows with the code
      }
      break;
    }
    case NGHTTP2_SETTINGS:
      if ((frame.hd.flags & NGHTTP2_FLAG_ACK) == 0) {
        callbacks_.onSettings();
      }
      break;
    case NGHTTP2_GOAWAY:
      // nghttp2 then closes our streams above last_stream_id with REFUSED_STREAM.
      WAYSTONE_LOG(debug, http2, "GOAWAY received: last stream %d, code %u",
                   frame.goaway.last_stream_id, frame.goaway.error_code);
      callbacks_.onGoAway();
      break;
    case NGHTTP2_PING:
      if ((frame.hd.flags & NGHTTP2_FLAG_ACK) != 0 && keepalive_timer_ != nullptr &&
          std::memcmp(frame.ping.opaque_data, &keepalive_ping_id_, sizeof(keepalive_ping_id_)) ==
              0) {
        keepalive_timeout_timer_->disableTimer();
        keepalive_timer_->enableTimer(
            std::chrono::milliseconds(settings_.connection_keepalive_interval_ms));
      }
      break;
    default:
      break;
  }
  return hasConnectionError() ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

int ConnectionImpl::onDataChunk(int32_t stream_id, const uint8_t* data, size_t length) {
  // The connection window re-opens at once, so a stalled stream never starves the others; the
  // stream window re-opens when the data reaches the decoder.
  const int rv = nghttp2_session_consume_connection(session_.get(), length);
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_session_consume_connection: %s", nghttp2_strerror(rv));
  }
  StreamImpl* stream = findStream(stream_id);
  if (stream != nullptr) {
    stream->onDataChunk(data, length);
  }
  return 0;
}

int ConnectionImpl::onStreamClose(int32_t stream_id, uint32_t error_code) {
  StreamImpl* stream = findStream(stream_id);
  if (stream == nullptr || stream->finalized_) {
    return 0;
  }
  stream->nghttp2_closed_ = true;
  const bool completed = error_code == NGHTTP2_NO_ERROR && stream->remote_end_ &&
                         (stream->local_end_sent_ || !is_server_);
  if (!completed && !stream->reset_notified_) {
    StreamResetReason reason;
    absl::string_view details;
    if (stream->remote_reset_ || error_code == NGHTTP2_REFUSED_STREAM) {
      // REFUSED_STREAM also comes from nghttp2 for streams above a received GOAWAY's last id.
      reason = error_code == NGHTTP2_REFUSED_STREAM  ? StreamResetReason::RemoteRefusedStreamReset
               : error_code == NGHTTP2_CONNECT_ERROR ? StreamResetReason::ConnectError
                                                     : StreamResetReason::RemoteReset;
      details = error_code == NGHTTP2_REFUSED_STREAM ? "http2.remote_refuse" : "http2.remote_reset";
    } else if (stream->has_close_reason_) {
      reason = stream->close_reason_;
      details = stream->close_details_;
    } else {
      reason = StreamResetReason::ProtocolError;
      details = "http2.stream_closed_by_codec";
    }
    stream->runResetCallbacks(reason, details);
  }
  if (is_server_) {
    const bool blamed_on_peer =
        stream->remote_reset_ || stream->peer_misbehaved_ || error_code == NGHTTP2_REFUSED_STREAM;
    const bool premature =
        !completed && blamed_on_peer &&
        now() - stream->created_ < ProtocolConstraints::kPrematureResetMinLifetime;
    setConnectionError(constraints_.trackStreamClose(premature));
  }
  // A read-disabled decoder may still be owed buffered data and the end of the stream.
  if (stream->receiveDone()) {
    finalizeStream(*stream);
  }
  return 0;
}

int ConnectionImpl::onFrameSend(const nghttp2_frame& frame) {
  setConnectionError(constraints_.trackOutboundFrame(frame.hd.type));
  switch (frame.hd.type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
      if ((frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
        StreamImpl* stream = findStream(frame.hd.stream_id);
        if (stream != nullptr) {
          stream->local_end_sent_ = true;
        }
      }
      break;
    case NGHTTP2_RST_STREAM:
      if (is_server_ && findStream(frame.hd.stream_id) == nullptr) {
        // nghttp2 refused or rejected a stream we never saw (over the pending concurrency
        // limit, or broken before its headers were complete): it counts as premature.
        setConnectionError(constraints_.trackStreamClose(true));
      }
      break;
    case NGHTTP2_GOAWAY:
      if (frame.goaway.error_code != NGHTTP2_NO_ERROR && !terminated_by_us_) {
        // nghttp2 found a connection error in what it received and is tearing down.
        terminated_by_us_ = true;
        setConnectionError(frame.goaway.error_code == NGHTTP2_ENHANCE_YOUR_CALM
                               ? bufferFloodError("http2.flood_detected")
                               : codecProtocolError("http2.protocol_error"));
      }
      break;
    default:
      break;
  }
  return 0;
}

int ConnectionImpl::onFrameNotSend(const nghttp2_frame& frame, int lib_error_code) {
  WAYSTONE_LOG(debug, http2, "frame type %d on stream %d not sent: %s", frame.hd.type,
               frame.hd.stream_id, nghttp2_strerror(lib_error_code));
  if (frame.hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  StreamImpl* stream = findStream(frame.hd.stream_id);
  if (stream == nullptr || stream->finalized_ ||
      nghttp2_session_find_stream(session_.get(), frame.hd.stream_id) != nullptr) {
    return 0;  // on_stream_close follows for streams nghttp2 opened
  }
  // A request that never left: after a GOAWAY it is safe to retry elsewhere.
  const bool refused = lib_error_code == NGHTTP2_ERR_START_STREAM_NOT_ALLOWED ||
                       lib_error_code == NGHTTP2_ERR_SESSION_CLOSING;
  stream->runResetCallbacks(
      refused ? StreamResetReason::RemoteRefusedStreamReset : StreamResetReason::LocalReset,
      "http2.headers_not_sent");
  finalizeStream(*stream);
  return 0;
}

int ConnectionImpl::onInvalidFrame(const nghttp2_frame& frame, int lib_error_code) {
  WAYSTONE_LOG(debug, http2, "invalid frame type %d on stream %d: %s", frame.hd.type,
               frame.hd.stream_id, nghttp2_strerror(lib_error_code));
  StreamImpl* stream = findStream(frame.hd.stream_id);
  if (stream != nullptr && !stream->has_close_reason_) {
    // nghttp2 resets the stream (messaging rules, bad headers): the peer's fault.
    stream->peer_misbehaved_ = true;
    stream->has_close_reason_ = true;
    stream->close_reason_ = StreamResetReason::ProtocolError;
    stream->close_details_ = "http2.violation_of_messaging_rule";
  }
  return 0;
}

// Keepalive ----------------------------------------------------------------------------------

void ConnectionImpl::onKeepaliveTimer() {
  if (hasConnectionError()) {
    return;
  }
  ++keepalive_ping_id_;
  uint8_t opaque[8];
  static_assert(sizeof(opaque) == sizeof(keepalive_ping_id_), "PING payload is 8 bytes");
  std::memcpy(opaque, &keepalive_ping_id_, sizeof(opaque));
  const int rv = nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, opaque);
  if (rv != 0) {
    WAYSTONE_LOG(debug, http2, "nghttp2_submit_ping: %s", nghttp2_strerror(rv));
  }
  if (settings_.connection_keepalive_timeout_ms > 0) {
    keepalive_timeout_timer_->enableTimer(
        std::chrono::milliseconds(settings_.connection_keepalive_timeout_ms));
  } else {
    // No timeout: PINGs only keep middleboxes from idling the connection out.
    keepalive_timer_->enableTimer(
        std::chrono::milliseconds(settings_.connection_keepalive_interval_ms));
  }
  sendPending();
}

void ConnectionImpl::onKeepaliveTimeout() {
  if (hasConnectionError()) {
    return;
  }
  setConnectionError(codecProtocolError("http2.keepalive_timeout"));
  sendPending();  // the GOAWAY
  if (on_connection_error_) {
    // Last action: the owner may destroy this codec from inside the callback.
    const CodecRuntime::ErrorCallback callback = on_connection_error_;
    const absl::Status status = connection_error_;
    callback(status);
  }
}

}  // namespace waystone::http::http2
