#include "source/common/http/conn_manager_impl.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/common/logger.h"
#include "source/common/http/codec_factory.h"
#include "source/common/http/local_reply.h"
#include "source/common/router/path_utility.h"

namespace waystone::http {
namespace {

constexpr absl::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string httpDate() {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(), absl::UTCTimeZone());
}

// RFC 4122 version 4, from the connection manager's per-worker generator.
std::string uuid4(std::mt19937_64& random) {
  const uint64_t hi = (random() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (random() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                         lo >> 48, lo & 0xffffffffffffULL);
}

// Connection-specific headers (RFC 9110 section 7.6.1) never cross a proxy; "te: trailers" is
// the one TE value that may (gRPC needs it).
void removeHopByHopHeaders(HeaderMap& headers, bool keep_upgrade) {
  headers.remove("connection");
  headers.remove("keep-alive");
  headers.remove("proxy-connection");
  headers.remove("transfer-encoding");
  if (!keep_upgrade) {
    headers.remove("upgrade");
  }
  if (const HeaderEntry* te = headers.get("te");
      te != nullptr && !absl::EqualsIgnoreCase(te->value, "trailers")) {
    headers.remove("te");
  }
}

// Envoy treats RFC 1918, loopback and unique-local addresses as internal.
bool isInternal(const network::address::Instance& address) {
  if (address.type() != network::address::Type::Ip) {
    return true;  // unix sockets are local
  }
  const std::string& ip = address.ipString();
  if (address.version() == network::address::IpVersion::V4) {
    return absl::StartsWith(ip, "10.") || absl::StartsWith(ip, "127.") ||
           absl::StartsWith(ip, "192.168.") ||
           (absl::StartsWith(ip, "172.") && ip.size() > 6 &&
            std::atoi(ip.substr(4, 2).c_str()) >= 16 && std::atoi(ip.substr(4, 2).c_str()) <= 31);
  }
  return ip == "::1" || absl::StartsWithIgnoreCase(ip, "fd");
}

}  // namespace

ConnectionManagerStats::ConnectionManagerStats(stats::Scope& scope)
    : downstream_cx_total(scope.counterFromString("downstream_cx_total")),
      downstream_cx_active(scope.gaugeFromString("downstream_cx_active")),
      downstream_cx_http1_total(scope.counterFromString("downstream_cx_http1_total")),
      downstream_cx_http2_total(scope.counterFromString("downstream_cx_http2_total")),
      downstream_cx_destroy(scope.counterFromString("downstream_cx_destroy")),
      downstream_cx_protocol_error(scope.counterFromString("downstream_cx_protocol_error")),
      downstream_cx_idle_timeout(scope.counterFromString("downstream_cx_idle_timeout")),
      downstream_cx_drain_close(scope.counterFromString("downstream_cx_drain_close")),
      downstream_cx_max_duration_reached(
          scope.counterFromString("downstream_cx_max_duration_reached")),
      downstream_cx_rx_bytes_total(scope.counterFromString("downstream_cx_rx_bytes_total")),
      downstream_cx_tx_bytes_total(scope.counterFromString("downstream_cx_tx_bytes_total")),
      downstream_rq_total(scope.counterFromString("downstream_rq_total")),
      downstream_rq_http1_total(scope.counterFromString("downstream_rq_http1_total")),
      downstream_rq_http2_total(scope.counterFromString("downstream_rq_http2_total")),
      downstream_rq_active(scope.gaugeFromString("downstream_rq_active")),
      downstream_rq_completed(scope.counterFromString("downstream_rq_completed")),
      downstream_rq_1xx(scope.counterFromString("downstream_rq_1xx")),
      downstream_rq_2xx(scope.counterFromString("downstream_rq_2xx")),
      downstream_rq_3xx(scope.counterFromString("downstream_rq_3xx")),
      downstream_rq_4xx(scope.counterFromString("downstream_rq_4xx")),
      downstream_rq_5xx(scope.counterFromString("downstream_rq_5xx")),
      downstream_rq_rx_reset(scope.counterFromString("downstream_rq_rx_reset")),
      downstream_rq_tx_reset(scope.counterFromString("downstream_rq_tx_reset")),
      downstream_rq_timeout(scope.counterFromString("downstream_rq_timeout")),
      downstream_rq_idle_timeout(scope.counterFromString("downstream_rq_idle_timeout")),
      downstream_rq_max_duration_reached(
          scope.counterFromString("downstream_rq_max_duration_reached")),
      downstream_rq_too_large(scope.counterFromString("downstream_rq_too_large")),
      downstream_rq_header_timeout(scope.counterFromString("downstream_rq_header_timeout")) {}

bool ConnectionManagerConfig::upgradeAllowed(absl::string_view type) const {
  for (const auto& allowed : upgrade_types) {
    if (absl::EqualsIgnoreCase(allowed, type)) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// ActiveStream: one request/response.

class ConnectionManagerImpl::ActiveStream final : public RequestDecoder,
                                                  public FilterManagerCallbacks,
                                                  public StreamCallbacks,
                                                  public event::DeferredDeletable {
 public:
  ActiveStream(ConnectionManagerImpl& parent, ResponseEncoder& encoder, uint64_t id)
      : parent_(parent),
        encoder_(encoder),
        id_(id),
        filter_manager_(*this, stream_info_, parent.config_->buffer_limit) {
    parent_.stats_.downstream_rq_active.inc();
    encoder_.getStream().addCallbacks(*this);
    network::Connection& connection = parent_.read_callbacks_->connection();
    stream_info_.downstream_remote_address = connection.remoteAddress();
    stream_info_.downstream_local_address = connection.localAddress();
    stream_info_.downstream_local_address_restored =
        connection.streamInfo().downstream_local_address_restored;
    stream_info_.downstream_ssl = connection.ssl();
    // The request's filter state sees what the connection's holds (listener and network filters,
    // what an internal listener received), and shares it upstream with its own entries.
    stream_info_.filter_state =
        std::make_shared<stream_info::FilterState>(connection.streamInfo().filter_state);
    const ConnectionManagerConfig& config = *parent_.config_;
    event::Dispatcher& dispatcher = parent_.read_callbacks_->dispatcher();
    if (config.stream_idle_timeout.count() > 0) {
      idle_timer_ = dispatcher.createTimer([this] { onIdleTimeout(); });
      idle_timer_->enableTimer(config.stream_idle_timeout);
    }
    if (config.request_timeout.count() > 0) {
      request_timer_ = dispatcher.createTimer([this] { onRequestTimeout(); });
      request_timer_->enableTimer(config.request_timeout);
    }
    // HTTP/1 makes the stream at the request's first byte. (The HTTP/2 codec makes it when the
    // headers are complete: nothing left to time.)
    if (config.request_headers_timeout.count() > 0 &&
        parent_.codec_->protocol() != Protocol::Http2) {
      request_headers_timer_ = dispatcher.createTimer([this] { onRequestHeadersTimeout(); });
      request_headers_timer_->enableTimer(config.request_headers_timeout);
    }
    if (config.max_stream_duration.count() > 0) {
      duration_timer_ = dispatcher.createTimer([this] { onMaxDuration(); });
      duration_timer_->enableTimer(config.max_stream_duration);
    }
  }

  // Freed by deferred deletion, possibly after the connection manager: touch nothing of it.
  ~ActiveStream() override = default;

  // RequestDecoder
  void decodeHeaders(RequestHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override {
    resetIdleTimer();
    if (end_stream) {
      request_end_seen_ = true;
      request_timer_.reset();
    }
    if (awaiting_request_end_) {
      if (tunnel_) {
        // A CONNECT tunnel whose upstream direction ended: the client's direction still flows
        // (TCP half-close).
        filter_manager_.decodeData(data, end_stream);
      } else {
        data.drain(data.length());  // answered already
      }
      if (end_stream) {
        end();
      }
      return;
    }
    filter_manager_.decodeData(data, end_stream);
  }
  void decodeTrailers(RequestTrailerMapPtr&& trailers) override {
    resetIdleTimer();
    request_end_seen_ = true;
    request_timer_.reset();
    if (awaiting_request_end_) {
      if (tunnel_) {
        filter_manager_.decodeTrailers(std::move(trailers));  // ends the client's direction
      }
      end();
      return;
    }
    filter_manager_.decodeTrailers(std::move(trailers));
  }

  // FilterManagerCallbacks
  void encode1xxHeaders(ResponseHeaderMap& headers) override { encoder_.encode1xxHeaders(headers); }
  void encodeHeaders(ResponseHeaderMap& headers, bool end_stream) override;
  void encodeData(buffer::Instance& data, bool end_stream) override {
    resetIdleTimer();
    encoder_.encodeData(data, end_stream);
    if (end_stream) {
      onResponseComplete();
    }
  }
  void encodeTrailers(ResponseTrailerMap& trailers) override {
    encoder_.encodeTrailers(trailers);
    onResponseComplete();
  }
  void onDecoderFilterAboveWriteBufferHighWatermark() override {
    encoder_.getStream().readDisable(true);
  }
  void onDecoderFilterBelowWriteBufferLowWatermark() override {
    encoder_.getStream().readDisable(false);
  }
  void resetStream() override {
    if (ended_) {
      return;
    }
    parent_.stats_.downstream_rq_tx_reset.inc();
    stream_info_.setResponseFlag(stream_info::LocalReset);
    // RFC 9113 §8.5, as Envoy does: a CONNECT whose upstream connection failed or broke is
    // reset with CONNECT_ERROR.
    const bool connect_error =
        request_headers_ != nullptr && request_headers_->method() == "CONNECT" &&
        (stream_info_.hasResponseFlag(stream_info::UpstreamConnectionFailure) ||
         stream_info_.hasResponseFlag(stream_info::UpstreamConnectionTermination));
    encoder_.getStream().resetStream(connect_error ? StreamResetReason::ConnectError
                                                   : StreamResetReason::LocalReset);
    // The codec may or may not report our own reset back; end here either way.
    onResetStream(StreamResetReason::LocalReset, "");
  }
  const router::Route* route() override {
    if (!route_resolved_ && request_headers_ != nullptr && parent_.config_->route_lookup) {
      route_ = parent_.config_->route_lookup(*request_headers_, parent_.random_());
      route_resolved_ = true;
    }
    return route_.get();
  }
  void clearRouteCache() override {
    route_resolved_ = false;
    route_.reset();
  }
  event::Dispatcher& dispatcher() override { return parent_.read_callbacks_->dispatcher(); }
  uint64_t streamId() const override { return id_; }
  bool isGrpcRequest() const override { return is_grpc_; }

  // StreamCallbacks
  void onResetStream(StreamResetReason reason, absl::string_view details) override {
    if (ended_) {
      return;
    }
    if (reason != StreamResetReason::LocalReset) {
      parent_.stats_.downstream_rq_rx_reset.inc();
      if (!filter_manager_.responseComplete()) {
        stream_info_.setResponseFlag(stream_info::DownstreamConnectionTermination);
      }
    }
    WAYSTONE_LOG(debug, http, "[stream %d] reset: %s %s", id_, resetReasonString(reason), details);
    end();
  }
  // The client reads slower than the response arrives: the router pauses the upstream.
  void onAboveWriteBufferHighWatermark() override {
    filter_manager_.onDownstreamAboveWriteBufferHighWatermark();
  }
  void onBelowWriteBufferLowWatermark() override {
    filter_manager_.onDownstreamBelowWriteBufferLowWatermark();
  }

  bool responseStarted() const { return filter_manager_.responseStarted(); }
  std::list<ActiveStreamPtr>::iterator position_;

 private:
  void resetIdleTimer() {
    if (idle_timer_ != nullptr) {
      idle_timer_->enableTimer(parent_.config_->stream_idle_timeout);
    }
  }
  // Envoy's answer to a downstream timeout: 408 while the request is still arriving, 504 once it
  // is all in (the wait was then the upstream's). After the response started: a reset.
  void timeoutReply(absl::string_view body, absl::string_view details, uint64_t flag,
                    std::optional<uint32_t> grpc_status = std::nullopt) {
    stream_info_.response_flags |= flag;
    if (filter_manager_.responseStarted()) {
      stream_info_.response_code_details = std::string(details);
      resetStream();
      return;
    }
    filter_manager_.sendLocalReply(request_end_seen_ ? 504 : 408, body, nullptr, grpc_status,
                                   details);
  }
  void onIdleTimeout() {
    if (awaiting_request_end_) {
      resetStream();  // the response went out; the rest of the request never came
      return;
    }
    parent_.stats_.downstream_rq_idle_timeout.inc();
    timeoutReply("stream timeout", "stream_idle_timeout", stream_info::StreamIdleTimeout);
  }
  void onRequestTimeout() {
    parent_.stats_.downstream_rq_timeout.inc();
    timeoutReply("request timeout", "request_overall_timeout", 0);
  }
  void onRequestHeadersTimeout() {
    parent_.stats_.downstream_rq_header_timeout.inc();
    timeoutReply("request header timeout", "request_header_timeout", 0);
  }
  void onMaxDuration() {
    parent_.stats_.downstream_rq_max_duration_reached.inc();
    timeoutReply("downstream duration timeout", "max_duration_timeout",
                 stream_info::DurationTimeout, /*grpc DEADLINE_EXCEEDED*/ 4);
  }
  void onResponseComplete() {
    if (ended_) {
      return;
    }
    if (!filter_manager_.requestComplete() && !request_end_seen_) {
      // The response is done but the request is still arriving. HTTP/1 cannot find the next
      // request's start, so the connection closes. HTTP/2: resetting now would make nghttp2 drop
      // the response frames still queued (a gRPC client would see CANCELLED instead of the
      // status), so the stream stays, discarding request data, until the request ends, the
      // client resets it, or the idle timer fires.
      if (parent_.codec_->protocol() == Protocol::Http2) {
        if (!awaiting_request_end_) {
          awaiting_request_end_ = true;
          parent_.stats_.downstream_rq_completed.inc();
        }
        return;
      }
      parent_.closing_ = true;
    }
    if (!awaiting_request_end_) {
      parent_.stats_.downstream_rq_completed.inc();
    }
    end();
  }
  void end() {
    if (ended_) {
      return;
    }
    ended_ = true;
    parent_.stats_.downstream_rq_active.dec();
    idle_timer_.reset();
    request_timer_.reset();
    request_headers_timer_.reset();
    duration_timer_.reset();
    stream_info_.duration = std::chrono::steady_clock::now() - stream_info_.start_time_monotonic;
    filter_manager_.destroyFilters();
    encoder_.getStream().removeCallbacks(*this);
    parent_.doEndStream(*this);
  }
  void sanitizeRequestHeaders(RequestHeaderMap& headers);

  ConnectionManagerImpl& parent_;
  ResponseEncoder& encoder_;
  const uint64_t id_;
  stream_info::StreamInfo stream_info_;
  FilterManager filter_manager_;
  RequestHeaderMap* request_headers_ = nullptr;  // owned by filter_manager_, or:
  RequestHeaderMapPtr refused_headers_;          // a refused request's, never decoded
  std::shared_ptr<const router::Route> route_;
  bool route_resolved_ = false;
  bool is_grpc_ = false;
  bool request_end_seen_ = false;
  bool awaiting_request_end_ = false;  // HTTP/2: response sent, request still arriving
  bool tunnel_ = false;                // a CONNECT answered 2xx
  bool ended_ = false;
  event::TimerPtr idle_timer_;
  event::TimerPtr request_timer_;
  event::TimerPtr request_headers_timer_;
  event::TimerPtr duration_timer_;
};

void ConnectionManagerImpl::ActiveStream::decodeHeaders(RequestHeaderMapPtr&& headers,
                                                        bool end_stream) {
  resetIdleTimer();
  request_headers_timer_.reset();
  request_end_seen_ = end_stream;
  if (end_stream) {
    request_timer_.reset();
  }
  const ConnectionManagerConfig& config = *parent_.config_;
  ConnectionManagerStats& stats = parent_.stats_;
  stats.downstream_rq_total.inc();
  const Protocol protocol = parent_.codec_->protocol();
  (protocol == Protocol::Http2 ? stats.downstream_rq_http2_total : stats.downstream_rq_http1_total)
      .inc();
  stream_info_.protocol = std::string(protocolString(protocol));
  is_grpc_ = absl::StartsWith(headers->getValue("content-type"), "application/grpc");

  // Build the filter chain first: even requests refused below get a response through it.
  for (const auto& factory : config.filter_factories) {
    factory(filter_manager_);
  }

  const bool is_connect = headers->method() == "CONNECT";
  const absl::string_view path = headers->path();
  absl::string_view refusal;
  uint32_t refusal_status = 400;
  if (headers->method().empty()) {
    refusal = "missing_required_header";
  } else if (is_connect) {
    if (!config.upgradeAllowed("CONNECT")) {
      refusal = "upgrade_failed";
      refusal_status = 403;
    }
  } else if (path.empty() || (path[0] != '/' && !(path == "*" && headers->method() == "OPTIONS"))) {
    refusal = "invalid_path";
  } else if (headers->has("upgrade") && !config.upgradeAllowed(headers->getValue("upgrade"))) {
    // Envoy refuses upgrades that no upgrade_config allows.
    refusal = "upgrade_failed";
    refusal_status = 403;
  }
  if (refusal.empty() && !is_connect && path != "*" &&
      (config.normalize_path || config.merge_slashes)) {
    // Normalise before routing and before any filter reads the path, so /a/../admin cannot
    // slip past a prefix match or an authorization rule on /admin.
    std::string normalized(path);
    bool ok = true;
    if (config.normalize_path) {
      ok = router::PathUtility::normalizePath(normalized, config.merge_slashes);
    } else {
      router::PathUtility::mergeSlashes(normalized);
    }
    if (ok) {
      headers->setCopy(":path", normalized);
    } else {
      refusal = "path_normalization_failed";
    }
  }
  if (refusal.empty()) {
    sanitizeRequestHeaders(*headers);
  }
  stream_info_.request_id = std::string(headers->getValue("x-request-id"));
  request_headers_ = headers.get();
  if (!refusal.empty()) {
    // As Envoy: the answer goes through the encoder filters (stats, logs), but no decoder filter
    // sees the request; above all the router must never forward it.
    stream_info_.setResponseFlag(stream_info::InvalidEnvoyRequestHeaders);
    refused_headers_ = std::move(headers);
    filter_manager_.sendLocalReply(refusal_status, reasonPhrase(refusal_status), nullptr,
                                   std::nullopt, refusal);
    return;
  }
  filter_manager_.decodeHeaders(std::move(headers), end_stream);
}

// Envoy's request header handling for the connection manager's own headers.
void ConnectionManagerImpl::ActiveStream::sanitizeRequestHeaders(RequestHeaderMap& headers) {
  const ConnectionManagerConfig& config = *parent_.config_;
  removeHopByHopHeaders(headers, /*keep_upgrade=*/headers.has("upgrade") &&
                                     config.upgradeAllowed(headers.getValue("upgrade")));
  // HTTP/1 requests carry no :scheme; an HTTP/2 upstream needs one.
  if (headers.scheme().empty() && headers.method() != "CONNECT") {
    headers.setCopy(":scheme",
                    parent_.read_callbacks_->connection().ssl() != nullptr ? "https" : "http");
  }
  const auto& remote = stream_info_.downstream_remote_address;
  const bool internal = remote == nullptr || isInternal(*remote);
  if (config.use_remote_address && remote != nullptr) {
    if (!config.skip_xff_append && remote->type() == network::address::Type::Ip) {
      headers.appendCopy("x-forwarded-for", remote->ipString());
    }
    headers.setCopy("x-forwarded-proto", headers.scheme().empty() ? "http" : headers.scheme());
    if (!internal) {
      // Headers an external client must not be able to set.
      headers.remove("x-envoy-internal");
      headers.removeIf([](const HeaderEntry& entry) {
        return absl::StartsWith(entry.key, "x-envoy-") && entry.key != "x-envoy-external-address";
      });
    }
  } else if (!headers.has("x-forwarded-proto")) {
    headers.setCopy("x-forwarded-proto", headers.scheme().empty() ? "http" : headers.scheme());
  }
  if (config.generate_request_id) {
    const bool regenerate =
        !headers.has("x-request-id") ||
        (config.use_remote_address && !internal && !config.preserve_external_request_id);
    if (regenerate) {
      headers.setCopy("x-request-id", uuid4(parent_.random_));
    }
  }
}

void ConnectionManagerImpl::ActiveStream::encodeHeaders(ResponseHeaderMap& headers,
                                                        bool end_stream) {
  resetIdleTimer();
  // The upstream's connection management is not the client's: the codec frames the response.
  removeHopByHopHeaders(headers, /*keep_upgrade=*/headers.status() == 101);
  const ConnectionManagerConfig& config = *parent_.config_;
  using Transformation = ConnectionManagerConfig::ServerHeaderTransformation;
  if (config.server_header_transformation == Transformation::Overwrite ||
      (config.server_header_transformation == Transformation::AppendIfAbsent &&
       !headers.has("server"))) {
    headers.setCopy("server", config.server_name);
  }
  if (!headers.has("date")) {
    headers.setCopy("date", httpDate());
  }
  if (config.always_set_request_id_in_response && !stream_info_.request_id.empty()) {
    headers.setCopy("x-request-id", stream_info_.request_id);
  }
  if (parent_.codec_->protocol() != Protocol::Http2) {
    // HTTP/1 has no GOAWAY: when draining, or when answering before the request is all in (its
    // rest could not be told from a next request), this response is the connection's last. Not
    // for a tunnel (101, or 2xx to CONNECT): its bytes are no longer HTTP.
    const bool tunnel = headers.status() == 101 ||
                        (request_headers_ != nullptr && request_headers_->method() == "CONNECT" &&
                         headers.status() / 100 == 2);
    const bool request_unfinished = !request_end_seen_ && !filter_manager_.requestComplete();
    if (!tunnel && (parent_.drain_state_ != DrainState::NotDraining || request_unfinished)) {
      headers.setCopy("connection", "close");
    }
  }
  const uint64_t status = headers.status();
  tunnel_ =
      request_headers_ != nullptr && request_headers_->method() == "CONNECT" && status / 100 == 2;
  ConnectionManagerStats& stats = parent_.stats_;
  switch (status / 100) {
    case 1:
      stats.downstream_rq_1xx.inc();
      break;
    case 2:
      stats.downstream_rq_2xx.inc();
      break;
    case 3:
      stats.downstream_rq_3xx.inc();
      break;
    case 4:
      stats.downstream_rq_4xx.inc();
      break;
    default:
      stats.downstream_rq_5xx.inc();
      break;
  }
  encoder_.encodeHeaders(headers, end_stream);
  if (end_stream) {
    onResponseComplete();
  }
}

// ---------------------------------------------------------------------------------------------
// ConnectionManagerImpl

ConnectionManagerImpl::ConnectionManagerImpl(ConnectionManagerConfigConstSharedPtr config)
    : config_(std::move(config)), stats_(*config_->stats), random_(std::random_device{}()) {}

ConnectionManagerImpl::~ConnectionManagerImpl() {
  resetAllStreams(StreamResetReason::ConnectionTermination);
  stats_.downstream_cx_active.dec();
  stats_.downstream_cx_destroy.inc();
}

void ConnectionManagerImpl::initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) {
  read_callbacks_ = &callbacks;
  read_callbacks_->connection().addConnectionCallbacks(*this);
  stats_.downstream_cx_total.inc();
  stats_.downstream_cx_active.inc();
}

network::FilterStatus ConnectionManagerImpl::onNewConnection() {
  if (config_->idle_timeout.count() > 0) {
    idle_timer_ = read_callbacks_->dispatcher().createTimer([this] { onIdleTimeout(); });
    idle_timer_->enableTimer(config_->idle_timeout);
  }
  if (config_->max_connection_duration.count() > 0) {
    max_duration_timer_ =
        read_callbacks_->dispatcher().createTimer([this] { onMaxConnectionDuration(); });
    max_duration_timer_->enableTimer(config_->max_connection_duration);
  }
  return network::FilterStatus::StopIteration;
}

bool ConnectionManagerImpl::createCodec(buffer::Instance& data, bool end_stream) {
  Protocol protocol = Protocol::Http11;
  if (config_->codec_type == CodecType::Http2) {
    protocol = Protocol::Http2;
  } else if (config_->codec_type == CodecType::Auto) {
    // Sniff HTTP/2 prior knowledge (h2c, or h2 over TLS) by its connection preface.
    const uint64_t n = std::min<uint64_t>(data.length(), kHttp2Preface.size());
    std::string head(n, '\0');
    data.copyOut(0, n, head.data());
    if (kHttp2Preface.substr(0, n) == head) {
      if (n < kHttp2Preface.size() && !end_stream) {
        return false;  // could still be HTTP/2: wait for more bytes
      }
      protocol = n == kHttp2Preface.size() ? Protocol::Http2 : Protocol::Http11;
    }
  }
  (protocol == Protocol::Http2 ? stats_.downstream_cx_http2_total
                               : stats_.downstream_cx_http1_total)
      .inc();
  codec_ = createServerCodec(protocol, *this, *this, *config_, read_callbacks_->dispatcher(),
                             [this](const absl::Status& status) { handleCodecError(status); });
  if (drain_state_ == DrainState::Draining) {
    codec_->shutdownNotice();  // the drain began before the first byte
  }
  return true;
}

network::FilterStatus ConnectionManagerImpl::onData(buffer::Instance& data, bool end_stream) {
  stats_.downstream_cx_rx_bytes_total.add(data.length());
  if (closing_) {
    data.drain(data.length());
    return network::FilterStatus::StopIteration;
  }
  if (codec_ == nullptr && !createCodec(data, end_stream)) {
    return network::FilterStatus::StopIteration;
  }
  if (idle_timer_ != nullptr) {
    idle_timer_->disableTimer();
  }
  const absl::Status status = codec_->dispatch(data);
  if (!status.ok()) {
    handleCodecError(status);
    return network::FilterStatus::StopIteration;
  }
  // What the peer sent may have let the last queued frames out (WINDOW_UPDATE).
  checkForDeferredClose();
  if (closing_) {
    return network::FilterStatus::StopIteration;
  }
  if (end_stream) {
    remote_closed_ = true;
    if (streams_.empty()) {
      closing_ = true;
      read_callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
      return network::FilterStatus::StopIteration;
    }
  }
  checkIdle();
  return network::FilterStatus::StopIteration;
}

void ConnectionManagerImpl::handleCodecError(const absl::Status& status) {
  WAYSTONE_LOG(debug, http, "[C%d] codec error: %s", read_callbacks_->connection().id(),
               status.message());
  stats_.downstream_cx_protocol_error.inc();
  if (isBufferFloodError(status)) {
    closing_ = true;
    resetAllStreams(StreamResetReason::Overflow);
    read_callbacks_->connection().close(network::ConnectionCloseType::NoFlush);
    return;
  }
  if (codec_->protocol() != Protocol::Http2) {
    // HTTP/1: answer the broken request if no response is under way, then close.
    bool response_started = false;
    for (const auto& stream : streams_) {
      response_started |= stream->responseStarted();
    }
    if (!response_started) {
      const uint32_t code = http1ErrorStatus(*codec_);
      if (code == 431) {
        stats_.downstream_rq_too_large.inc();
      }
      const absl::string_view reason = reasonPhrase(code);
      buffer::OwnedImpl reply(
          absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\ncontent-length: ", reason.size(),
                       "\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n", reason));
      stats_.downstream_cx_tx_bytes_total.add(reply.length());
      read_callbacks_->connection().write(reply, false);
    }
  }
  // HTTP/2: the codec queued a GOAWAY already; let it go out.
  closing_ = true;
  resetAllStreams(StreamResetReason::ProtocolError);
  read_callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
}

RequestDecoder& ConnectionManagerImpl::newStream(ResponseEncoder& encoder) {
  auto stream = std::make_unique<ActiveStream>(*this, encoder, next_stream_id_++);
  ActiveStream& ref = *stream;
  streams_.push_front(std::move(stream));
  ref.position_ = streams_.begin();
  if (idle_timer_ != nullptr) {
    idle_timer_->disableTimer();
  }
  return ref;
}

void ConnectionManagerImpl::doEndStream(ActiveStream& stream) {
  ActiveStreamPtr owned = std::move(*stream.position_);
  streams_.erase(stream.position_);
  // We may be inside the stream's own callback (codec or filter): free it after this turn.
  read_callbacks_->dispatcher().deferredDelete(std::move(owned));
  if (streams_.empty() && (closing_ || remote_closed_) &&
      read_callbacks_->connection().state() == network::Connection::State::Open) {
    closing_ = true;
    read_callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
    return;
  }
  checkForDeferredClose();
  if (closing_) {
    return;
  }
  checkIdle();
}

void ConnectionManagerImpl::checkIdle() {
  if (streams_.empty() && idle_timer_ != nullptr && !closing_) {
    idle_timer_->enableTimer(config_->idle_timeout);
  }
}

void ConnectionManagerImpl::onIdleTimeout() {
  if (!streams_.empty()) {
    return;
  }
  stats_.downstream_cx_idle_timeout.inc();
  if (codec_ != nullptr) {
    codec_->goAway();
  }
  closing_ = true;
  read_callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
}

void ConnectionManagerImpl::resetAllStreams(StreamResetReason reason) {
  while (!streams_.empty()) {
    ActiveStream* stream = streams_.front().get();
    stream->onResetStream(reason, "connection closed");
    if (!streams_.empty() && streams_.front().get() == stream) {
      streams_.pop_front();  // defensive: never loop forever
    }
  }
}

void ConnectionManagerImpl::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected) {
    return;
  }
  closing_ = true;
  idle_timer_.reset();
  drain_timer_.reset();
  drain_start_timer_.reset();
  max_duration_timer_.reset();
  resetAllStreams(StreamResetReason::ConnectionTermination);
}

void ConnectionManagerImpl::onAboveWriteBufferHighWatermark() {
  if (codec_ != nullptr) {
    codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  }
}

void ConnectionManagerImpl::onBelowWriteBufferLowWatermark() {
  if (codec_ != nullptr) {
    codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  }
}

void ConnectionManagerImpl::write(buffer::Instance& data, bool end_stream) {
  stats_.downstream_cx_tx_bytes_total.add(data.length());
  read_callbacks_->connection().write(data, end_stream);
}

void ConnectionManagerImpl::readDisable(bool disable) {
  read_callbacks_->connection().readDisable(disable);
}

uint32_t ConnectionManagerImpl::bufferLimit() const {
  return read_callbacks_->connection().bufferLimit();
}

void ConnectionManagerImpl::onDrainStart(const network::DrainEvent& event) {
  if (drain_state_ != DrainState::NotDraining || closing_ || drain_start_timer_ != nullptr) {
    return;
  }
  const std::chrono::milliseconds delay =
      network::drainDelay(event, std::chrono::steady_clock::now(), random_());
  auto start = [this] {
    if (drain_state_ == DrainState::NotDraining && !closing_) {
      stats_.downstream_cx_drain_close.inc();
      startDrain();
    }
  };
  if (delay.count() == 0) {
    start();
    return;
  }
  drain_start_timer_ = read_callbacks_->dispatcher().createTimer(start);
  drain_start_timer_->enableTimer(delay);
}

void ConnectionManagerImpl::startDrain() {
  if (drain_state_ != DrainState::NotDraining || closing_) {
    return;
  }
  WAYSTONE_LOG(debug, http, "[C%d] draining", read_callbacks_->connection().id());
  drain_state_ = DrainState::Draining;
  if (codec_ != nullptr) {
    codec_->shutdownNotice();
  }
  drain_timer_ = read_callbacks_->dispatcher().createTimer([this] { onDrainTimeout(); });
  drain_timer_->enableTimer(config_->drain_timeout);
}

void ConnectionManagerImpl::onDrainTimeout() {
  drain_state_ = DrainState::Closing;
  if (codec_ != nullptr) {
    // HTTP/2: the final GOAWAY with the last stream id processed; HTTP/1: the current response
    // (if any) is the last.
    codec_->goAway();
  }
  checkForDeferredClose();
}

void ConnectionManagerImpl::onMaxConnectionDuration() {
  WAYSTONE_LOG(debug, http, "[C%d] max connection duration reached",
               read_callbacks_->connection().id());
  stats_.downstream_cx_max_duration_reached.inc();
  if (codec_ == nullptr) {
    // Not a byte yet: nothing to drain.
    closing_ = true;
    read_callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
    return;
  }
  startDrain();
}

void ConnectionManagerImpl::checkForDeferredClose() {
  if (drain_state_ != DrainState::Closing || closing_ || !streams_.empty() ||
      (codec_ != nullptr && codec_->wantsToWrite()) ||
      read_callbacks_->connection().state() != network::Connection::State::Open) {
    return;
  }
  closing_ = true;
  idle_timer_.reset();
  read_callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
}

}  // namespace waystone::http
