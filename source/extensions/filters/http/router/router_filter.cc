#include "source/extensions/filters/http/router/router_filter.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

#include "source/common/common/logger.h"
#include "source/extensions/filters/http/router/shadow_writer.h"

namespace waystone::extensions::http_filters::router {
namespace {

// A copy of `data` (slices are shared by evbuffer where it can; bytes otherwise).
void copyInto(const buffer::Instance& data, buffer::Instance& out) {
  data.forEachSlice([&out](absl::string_view slice) { out.add(slice); });
}

http::Protocol upstreamProtocol(const upstream::Cluster& cluster,
                                const stream_info::StreamInfo& info) {
  switch (cluster.protocolSelection()) {
    case upstream::UpstreamProtocolSelection::Http2:
      return http::Protocol::Http2;
    case upstream::UpstreamProtocolSelection::UseDownstream:
      return info.protocol == "HTTP/2" ? http::Protocol::Http2 : http::Protocol::Http11;
    case upstream::UpstreamProtocolSelection::Http1:
      break;
  }
  return http::Protocol::Http11;
}

}  // namespace

RouterStats::RouterStats(stats::Scope& scope)
    : no_route(scope.counterFromString("no_route")),
      no_cluster(scope.counterFromString("no_cluster")),
      rq_redirect(scope.counterFromString("rq_redirect")),
      rq_direct_response(scope.counterFromString("rq_direct_response")),
      rq_total(scope.counterFromString("rq_total")),
      rq_reset_after_downstream_response_started(
          scope.counterFromString("rq_reset_after_downstream_response_started")),
      mirror_no_cluster(scope.counterFromString("mirror_no_cluster")) {}

RouterFilter::~RouterFilter() { onDestroy(); }

void RouterFilter::onDestroy() {
  if (destroyed_) {
    return;
  }
  destroyed_ = true;
  global_timer_.reset();
  retry_timer_.reset();
  resetUpstream();
  cancelMirrors();
  if (callbacks_ != nullptr && request_headers_ != nullptr) {
    callbacks_->removeDownstreamWatermarkCallbacks(*this);
  }
}

void RouterFilter::localReply(uint32_t status, absl::string_view body, absl::string_view details,
                              stream_info::ResponseFlag flag) {
  callbacks_->streamInfo().setResponseFlag(flag);
  callbacks_->sendLocalReply(status, body, nullptr, std::nullopt, details);
}

http::FilterHeadersStatus RouterFilter::decodeHeaders(http::RequestHeaderMap& headers,
                                                      bool end_stream) {
  request_headers_ = &headers;
  downstream_end_stream_ = end_stream;
  config_->stats.rq_total.inc();
  callbacks_->addDownstreamWatermarkCallbacks(*this);

  route_ = callbacks_->route();
  if (route_ == nullptr) {
    config_->stats.no_route.inc();
    localReply(404, "", "route_not_found", stream_info::NoRouteFound);
    return http::FilterHeadersStatus::StopIteration;
  }
  callbacks_->streamInfo().route_name = route_->routeName();
  if (const auto* direct = route_->directResponseEntry(); direct != nullptr) {
    if (direct->isRedirect()) {
      config_->stats.rq_redirect.inc();
      const std::string location = direct->newLocation(headers);
      callbacks_->sendLocalReply(
          direct->responseCode(), "",
          [location](http::ResponseHeaderMap& response) { response.setCopy("location", location); },
          std::nullopt, "direct_response");
    } else {
      config_->stats.rq_direct_response.inc();
      callbacks_->sendLocalReply(direct->responseCode(), direct->responseBody(), nullptr,
                                 std::nullopt, "direct_response");
    }
    return http::FilterHeadersStatus::StopIteration;
  }
  route_entry_ = route_->routeEntry();
  auto* managers = config_->cluster_managers.forDispatcher(callbacks_->dispatcher());
  cluster_ = managers == nullptr ? nullptr : managers->get(route_entry_->clusterName());
  if (cluster_ == nullptr) {
    config_->stats.no_cluster.inc();
    WAYSTONE_LOG(debug, router, "[stream %d] unknown cluster '%s'", callbacks_->streamId(),
                 route_entry_->clusterName());
    localReply(route_entry_->clusterNotFoundResponseCode(), "", "cluster_not_found",
               stream_info::NoClusterFound);
    return http::FilterHeadersStatus::StopIteration;
  }
  callbacks_->streamInfo().upstream_cluster = cluster_->info().name();

  const bool is_connect = headers.method() == "CONNECT";
  if (is_connect && route_entry_->upgradeEnabled("CONNECT") == std::optional<bool>(false)) {
    // The route turns off what the connection manager allows (Envoy answers 403 too).
    callbacks_->sendLocalReply(403, "", nullptr, std::nullopt, "upgrade_failed");
    return http::FilterHeadersStatus::StopIteration;
  }
  // Envoy's CONNECT termination: the route's CONNECT upgrade has connect_config (allow_post:
  // a POST too). A CONNECT without it goes through the HTTP pool as an HTTP request.
  if (const auto& connect_config = route_entry_->connectConfig(); connect_config.has_value()) {
    tunnel_ = is_connect || (connect_config->allow_post && headers.method() == "POST");
  }

  // Timeouts: the route's, unless the (trusted) request asks otherwise.
  timeout_ = route_entry_->timeout();
  uint64_t header_ms = 0;
  if (absl::SimpleAtoi(headers.getValue("x-envoy-upstream-rq-timeout-ms"), &header_ms)) {
    timeout_ = std::chrono::milliseconds(header_ms);
  }
  per_try_timeout_ = route_entry_->retryPolicy().perTryTimeout();
  if (absl::SimpleAtoi(headers.getValue("x-envoy-upstream-rq-per-try-timeout-ms"), &header_ms)) {
    per_try_timeout_ = std::chrono::milliseconds(header_ms);
  }
  headers.remove("x-envoy-upstream-rq-timeout-ms");
  headers.remove("x-envoy-upstream-rq-per-try-timeout-ms");

  if (!tunnel_) {
    // A tunnel is never retried: its bytes cannot be replayed once they flow.
    retry_state_.emplace(route_entry_->retryPolicy(), headers);
    retry_buffering_ = retry_state_->enabled();
  }
  headers.remove("x-envoy-retry-on");
  headers.remove("x-envoy-retry-grpc-on");
  headers.remove("x-envoy-max-retries");

  route_entry_->finalizeRequestHeaders(headers, callbacks_->streamInfo(),
                                       !config_->suppress_envoy_headers);
  if (!config_->suppress_envoy_headers && timeout_.count() > 0) {
    headers.setCopy("x-envoy-expected-rq-timeout-ms",
                    absl::StrCat((per_try_timeout_.count() > 0 && per_try_timeout_ < timeout_)
                                     ? per_try_timeout_.count()
                                     : timeout_.count()));
  }
  if (end_stream && timeout_.count() > 0) {
    global_timer_ = callbacks_->dispatcher().createTimer([this] { onGlobalTimeout(); });
    global_timer_->enableTimer(timeout_);
  }
  if (tunnel_) {
    startTunnel();
    return http::FilterHeadersStatus::StopIteration;
  }
  // Before the attempt: the mirror gets the headers as finalized for the route, without the
  // per-attempt changes (auto_host_rewrite, x-envoy-attempt-count).
  startMirrors(headers, end_stream);
  startAttempt();
  return http::FilterHeadersStatus::StopIteration;
}

void RouterFilter::startMirrors(const http::RequestHeaderMap& headers, bool end_stream) {
  const auto& policies = route_entry_->requestMirrorPolicies();
  // Envoy never mirrors CONNECT: a tunnel cannot be replayed.
  if (policies.empty() || headers.method() == "CONNECT") {
    return;
  }
  auto* managers = config_->cluster_managers.forDispatcher(callbacks_->dispatcher());
  if (managers == nullptr) {
    return;
  }
  ShadowWriter& writer = ShadowWriter::get(*managers, callbacks_->dispatcher());
  for (const waystone::router::RequestMirrorPolicy& policy : policies) {
    if (!policy.shouldMirror(writer.random())) {
      continue;
    }
    std::string name = policy.cluster();
    if (name.empty()) {
      name = std::string(headers.getValue(policy.clusterHeader()));
      if (name.empty()) {
        continue;  // no cluster named: nothing to mirror, as in Envoy
      }
    }
    upstream::ThreadLocalCluster* cluster = managers->get(name);
    if (cluster == nullptr) {
      config_->stats.mirror_no_cluster.inc();
      WAYSTONE_LOG(debug, router, "[stream %d] unknown mirror cluster '%s'", callbacks_->streamId(),
                   name);
      continue;
    }
    auto mirror_headers = std::make_unique<http::RequestHeaderMap>(headers);
    if (!policy.disableShadowHostSuffixAppend() && !headers.host().empty()) {
      mirror_headers->setCopy(":authority",
                              waystone::router::RequestMirrorPolicy::shadowHost(headers.host()));
    }
    // Envoy sends mirrors through its async client, which marks them internal.
    mirror_headers->setCopy("x-envoy-internal", "true");
    MirrorOptions options;
    options.timeout = timeout_;
    options.buffer_limit = callbacks_->decoderBufferLimit();
    options.protocol = upstreamProtocol(cluster->info(), callbacks_->streamInfo());
    std::weak_ptr<MirrorRequest> mirror =
        writer.start(*cluster, std::move(mirror_headers), end_stream, options);
    if (!end_stream) {
      mirrors_.push_back(std::move(mirror));
    }
  }
}

void RouterFilter::cancelMirrors() {
  for (const auto& handle : mirrors_) {
    if (auto mirror = handle.lock(); mirror != nullptr && !mirror->requestComplete()) {
      mirror->cancel();
    }
  }
  mirrors_.clear();
}

void RouterFilter::startAttempt() {
  ++attempts_;
  upstream::HostConstSharedPtr host = cluster_->chooseHost(this);
  if (host == nullptr) {
    cluster_->info().stats().upstream_cx_none_healthy.inc();
    localReply(503, "no healthy upstream", "no_healthy_upstream", stream_info::NoHealthyUpstream);
    return;
  }
  attempted_hosts_.push_back(host);
  callbacks_->streamInfo().upstream_host_address = host->address();
  if (route_entry_->autoHostRewrite() && !host->hostname().empty()) {
    request_headers_->setCopy(":authority", host->hostname());
  }
  if (route_->virtualHost().includeAttemptCountInRequest() && !config_->suppress_envoy_headers) {
    request_headers_->setCopy("x-envoy-attempt-count", absl::StrCat(attempts_));
  }
  const http::Protocol protocol = upstreamProtocol(cluster_->info(), callbacks_->streamInfo());
  upstream_request_ = std::make_unique<UpstreamRequest>(*this, host);
  // start() may call back synchronously (ready, or failed); keep a handle to tell.
  UpstreamRequest* request = upstream_request_.get();
  request->start(cluster_->httpConnPool(host, protocol));
  (void)request;
}

void RouterFilter::onUpstreamReady(UpstreamRequest& request, http::RequestEncoder&) {
  const bool headers_only =
      downstream_end_stream_ && request_body_.length() == 0 && request_trailers_ == nullptr;
  const absl::Status status = request.encodeHeaders(*request_headers_, headers_only);
  if (!status.ok()) {
    WAYSTONE_LOG(debug, router, "[stream %d] cannot send request upstream: %s",
                 callbacks_->streamId(), status.message());
    resetUpstream();
    localReply(503, "", "upstream_request_encode_failure", stream_info::UpstreamProtocolError);
    return;
  }
  if (!headers_only) {
    sendRequestBody(request);
  }
  if (downstream_end_stream_) {
    startPerTryTimer(request);
  }
}

void RouterFilter::startTunnel() {
  ++attempts_;
  upstream::HostConstSharedPtr host = cluster_->chooseHost(this);
  if (host == nullptr) {
    cluster_->info().stats().upstream_cx_none_healthy.inc();
    localReply(503, "no healthy upstream", "no_healthy_upstream", stream_info::NoHealthyUpstream);
    return;
  }
  attempted_hosts_.push_back(host);
  callbacks_->streamInfo().upstream_host_address = host->address();
  tcp_upstream_ = std::make_unique<TcpUpstreamRequest>(*this, callbacks_->dispatcher(),
                                                       std::move(host), cluster_->cluster());
  for (uint32_t i = 0; i < downstream_above_watermark_; ++i) {
    tcp_upstream_->readDisable(true);
  }
  // The request's filter state (its parent is the connection's): what it shares with the
  // upstream reaches an internal listener.
  const TcpUpstreamRequest::StartResult result =
      tcp_upstream_->start(callbacks_->streamInfo().filter_state.get());
  if (result != TcpUpstreamRequest::StartResult::Started) {
    tcp_upstream_.reset();  // nothing was opened, and we are not inside its callbacks
    retryOrFail(http::StreamResetReason::Overflow, "", false, true, false);
  }
}

void RouterFilter::onTcpUpstreamConnected() {
  WAYSTONE_LOG(debug, router, "[stream %d] CONNECT to %s established", callbacks_->streamId(),
               tcp_upstream_->host()->address()->asString());
  // What the client sent while we connected, and its end if it came (trailers end it too).
  if (request_body_.length() > 0 || downstream_end_stream_) {
    tcp_upstream_->write(request_body_, downstream_end_stream_);
  }
  if (downstream_paused_) {
    downstream_paused_ = false;
    callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
  }
  if (auto* detector = cluster_->outlierDetector(); detector != nullptr) {
    detector->reportHttpResult(*tcp_upstream_->host(), 200);
  }
  // As Envoy's TCP upstream: a synthesized 200 (headers only) completes the CONNECT handshake;
  // from now on the response body is the host's bytes.
  auto headers = std::make_unique<http::ResponseHeaderMap>();
  headers->setCopy(":status", "200");
  response_started_ = true;
  countResponseCode(200);
  decorateResponseHeaders(*headers, tcp_upstream_->startTime());
  callbacks_->encodeHeaders(std::move(headers), false, "via_upstream");
}

void RouterFilter::onTcpUpstreamData(buffer::Instance& data, bool end_stream) {
  if (end_stream) {
    tunnel_upstream_ended_ = true;
    onResponseComplete();
  }
  callbacks_->encodeData(data, end_stream);
}

void RouterFilter::onTcpUpstreamConnectFailure(absl::string_view details) {
  if (auto* detector = cluster_->outlierDetector(); detector != nullptr) {
    detector->reportConnectFailure(*tcp_upstream_->host());
  }
  // No retries for CONNECT (retry_state_ is unset): a 503 with UF.
  retryOrFail(http::StreamResetReason::ConnectionFailure, details, true, false, false);
}

void RouterFilter::onTcpUpstreamClosed() {
  if (tunnel_upstream_ended_ && downstream_end_stream_) {
    return;  // both directions ended: the stream is ending anyway
  }
  // The host reset the connection (or closed it while the client still had bytes for it): the
  // client's stream is reset, as Envoy does after the response started (HTTP/2 RST_STREAM).
  WAYSTONE_LOG(debug, router, "[stream %d] CONNECT upstream closed before the tunnel ended",
               callbacks_->streamId());
  config_->stats.rq_reset_after_downstream_response_started.inc();
  callbacks_->streamInfo().setResponseFlag(stream_info::UpstreamConnectionTermination);
  callbacks_->streamInfo().response_code_details =
      "upstream_reset_after_response_started{connection_termination}";
  global_timer_.reset();
  resetUpstream();
  callbacks_->resetStream();
}

void RouterFilter::onTcpUpstreamAboveWriteBufferHighWatermark() {
  callbacks_->onDecoderFilterAboveWriteBufferHighWatermark();
}

void RouterFilter::onTcpUpstreamBelowWriteBufferLowWatermark() {
  callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
}

// Sends what the router holds of the body: a copy when a retry may need it again.
void RouterFilter::sendRequestBody(UpstreamRequest& request) {
  const bool end = downstream_end_stream_ && request_trailers_ == nullptr;
  if (request_body_.length() > 0 || end) {
    if (retry_buffering_) {
      buffer::OwnedImpl copy;
      copyInto(request_body_, copy);
      request.encodeData(copy, end);
    } else {
      request.encodeData(request_body_, end);
    }
  }
  if (request_trailers_ != nullptr) {
    request.encodeTrailers(*request_trailers_);
  }
  if (downstream_paused_ && !retry_buffering_) {
    downstream_paused_ = false;
    callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
  }
}

http::FilterDataStatus RouterFilter::decodeData(buffer::Instance& data, bool end_stream) {
  downstream_end_stream_ = end_stream;
  // The mirrors get their copy first: everything below may move `data` away.
  for (const auto& handle : mirrors_) {
    if (auto mirror = handle.lock(); mirror != nullptr) {
      mirror->sendData(data, end_stream);
    }
  }
  if (end_stream) {
    mirrors_.clear();
  }
  if (end_stream && timeout_.count() > 0 && global_timer_ == nullptr) {
    global_timer_ = callbacks_->dispatcher().createTimer([this] { onGlobalTimeout(); });
    global_timer_->enableTimer(timeout_);
  }
  if (tunnel_) {
    if (tcp_upstream_ != nullptr && tcp_upstream_->connected()) {
      tcp_upstream_->write(data, end_stream);
    } else {
      // Still connecting: keep the bytes (and the end) for onTcpUpstreamConnected(), and stop
      // reading the client beyond the buffer limit.
      request_body_.move(data);
      if (request_body_.length() > callbacks_->decoderBufferLimit() && !downstream_paused_) {
        downstream_paused_ = true;
        callbacks_->onDecoderFilterAboveWriteBufferHighWatermark();
      }
    }
    data.drain(data.length());
    return http::FilterDataStatus::StopIterationNoBuffer;
  }
  if (retry_buffering_) {
    if (request_body_.length() + data.length() > callbacks_->decoderBufferLimit()) {
      // Too big to replay: no more retries for this request, as in Envoy.
      retry_buffering_ = false;
      cluster_->info().statsScope().counterFromString("retry_or_shadow_abandoned").inc();
      if (upstream_request_ != nullptr && upstream_request_->ready()) {
        request_body_.drain(request_body_.length());  // already sent
      }
    } else {
      copyInto(data, request_body_);
    }
  }
  if (upstream_request_ != nullptr && upstream_request_->ready()) {
    upstream_request_->encodeData(data, end_stream);
    if (end_stream) {
      startPerTryTimer(*upstream_request_);
    }
  } else if (!retry_buffering_) {
    request_body_.move(data);
    if (request_body_.length() > callbacks_->decoderBufferLimit() && !downstream_paused_) {
      // The upstream is not ready: stop reading the client until it is.
      downstream_paused_ = true;
      callbacks_->onDecoderFilterAboveWriteBufferHighWatermark();
    }
  }
  data.drain(data.length());
  return http::FilterDataStatus::StopIterationNoBuffer;
}

http::FilterTrailersStatus RouterFilter::decodeTrailers(http::RequestTrailerMap& trailers) {
  downstream_end_stream_ = true;
  request_trailers_ = &trailers;
  for (const auto& handle : mirrors_) {
    if (auto mirror = handle.lock(); mirror != nullptr) {
      mirror->sendTrailers(trailers);
    }
  }
  mirrors_.clear();
  if (timeout_.count() > 0 && global_timer_ == nullptr) {
    global_timer_ = callbacks_->dispatcher().createTimer([this] { onGlobalTimeout(); });
    global_timer_->enableTimer(timeout_);
  }
  if (tunnel_) {
    // Trailers cannot cross a TCP connection: they only end the client's direction.
    if (tcp_upstream_ != nullptr && tcp_upstream_->connected()) {
      buffer::OwnedImpl none;
      tcp_upstream_->write(none, true);
    }
    return http::FilterTrailersStatus::StopIteration;
  }
  if (upstream_request_ != nullptr && upstream_request_->ready()) {
    upstream_request_->encodeTrailers(trailers);
    startPerTryTimer(*upstream_request_);
  }
  return http::FilterTrailersStatus::StopIteration;
}

void RouterFilter::startPerTryTimer(UpstreamRequest& request) {
  if (per_try_timeout_.count() == 0 || request.perTryTimer() != nullptr) {
    return;
  }
  auto timer = callbacks_->dispatcher().createTimer([this, &request] { onPerTryTimeout(request); });
  timer->enableTimer(per_try_timeout_);
  request.setPerTryTimer(std::move(timer));
}

void RouterFilter::onUpstream1xxHeaders(http::ResponseHeaderMapPtr&& headers) {
  callbacks_->encode1xxHeaders(std::move(headers));
}

void RouterFilter::onUpstreamHeaders(UpstreamRequest& request, http::ResponseHeaderMapPtr&& headers,
                                     bool end_stream) {
  const upstream::ClusterStats& stats = cluster_->info().stats();
  // Every attempt's result counts, including ones about to be retried.
  if (auto* detector = cluster_->outlierDetector(); detector != nullptr) {
    detector->reportHttpResult(*request.host(), static_cast<uint32_t>(headers->status()));
  }
  const bool retriable_response =
      retry_state_.has_value() && retry_state_->wouldRetryFromHeaders(*headers);
  if (retriable_response) {
    if (retry_state_->retriesLeft() && (retry_buffering_ || request_body_.length() == 0) &&
        cluster_->info().resources().retries.canCreate()) {
      WAYSTONE_LOG(debug, router, "[stream %d] retrying after %d from %s", callbacks_->streamId(),
                   headers->status(), request.host()->address()->asString());
      resetUpstream();
      scheduleRetry();
      return;
    }
    if (!retry_state_->retriesLeft()) {
      stats.upstream_rq_retry_limit_exceeded.inc();
      callbacks_->streamInfo().setResponseFlag(stream_info::UpstreamRetryLimitExceeded);
    } else if (!cluster_->info().resources().retries.canCreate()) {
      stats.upstream_rq_retry_overflow.inc();
    }
  }
  if (attempts_ > 1 && !retriable_response) {
    stats.upstream_rq_retry_success.inc();
  }
  response_started_ = true;
  countResponseCode(headers->status());
  decorateResponseHeaders(*headers, request.startTime());
  if (end_stream) {
    onResponseComplete();
  }
  callbacks_->encodeHeaders(std::move(headers), end_stream, "via_upstream");
}

void RouterFilter::countResponseCode(uint64_t status) {
  const upstream::ClusterStats& stats = cluster_->info().stats();
  switch (status / 100) {
    case 1:
      stats.upstream_rq_1xx.inc();
      break;
    case 2:
      stats.upstream_rq_2xx.inc();
      break;
    case 3:
      stats.upstream_rq_3xx.inc();
      break;
    case 4:
      stats.upstream_rq_4xx.inc();
      break;
    default:
      stats.upstream_rq_5xx.inc();
      break;
  }
}

void RouterFilter::decorateResponseHeaders(http::ResponseHeaderMap& headers,
                                           std::chrono::steady_clock::time_point start) {
  if (!config_->suppress_envoy_headers) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    headers.setCopy("x-envoy-upstream-service-time", absl::StrCat(elapsed.count()));
    if (route_->virtualHost().includeAttemptCountInResponse()) {
      headers.setCopy("x-envoy-attempt-count", absl::StrCat(attempts_));
    }
  }
  route_->finalizeResponseHeaders(headers, request_headers_, callbacks_->streamInfo());
}

void RouterFilter::onUpstreamData(buffer::Instance& data, bool end_stream) {
  if (end_stream) {
    onResponseComplete();
  }
  callbacks_->encodeData(data, end_stream);
}

void RouterFilter::onUpstreamTrailers(http::ResponseTrailerMapPtr&& trailers) {
  onResponseComplete();
  callbacks_->encodeTrailers(std::move(trailers));
}

void RouterFilter::onResponseComplete() {
  global_timer_.reset();
  cluster_->info().stats().upstream_rq_completed.inc();
}

void RouterFilter::onUpstreamReset(UpstreamRequest& request, http::StreamResetReason reason,
                                   absl::string_view details, bool connect_failure, bool overflow) {
  // Overflow is our own circuit breaker, not the host's fault.
  if (auto* detector = cluster_->outlierDetector(); detector != nullptr && !overflow) {
    if (connect_failure) {
      detector->reportConnectFailure(*request.host());
    } else {
      detector->reportHttpResult(*request.host(), 503);
    }
  }
  if (response_started_) {
    // Part of the response is already with the client: all that is left is a reset.
    config_->stats.rq_reset_after_downstream_response_started.inc();
    callbacks_->streamInfo().setResponseFlag(stream_info::UpstreamRemoteReset);
    upstream_request_.reset();
    callbacks_->resetStream();
    return;
  }
  retryOrFail(reason, details, connect_failure, overflow, false);
}

void RouterFilter::retryOrFail(http::StreamResetReason reason, absl::string_view details,
                               bool connect_failure, bool overflow, bool per_try_timeout) {
  resetUpstream();
  const bool retriable =
      !overflow && retry_state_.has_value() &&
      (per_try_timeout ? retry_state_->wouldRetryFromPerTryTimeout()
                       : retry_state_->wouldRetryFromReset(reason, connect_failure)) &&
      (retry_buffering_ || request_body_.length() == 0);
  if (retriable && retry_state_->retriesLeft() &&
      cluster_->info().resources().retries.canCreate()) {
    scheduleRetry();
    return;
  }
  if (retriable && !retry_state_->retriesLeft()) {
    cluster_->info().stats().upstream_rq_retry_limit_exceeded.inc();
    callbacks_->streamInfo().setResponseFlag(stream_info::UpstreamRetryLimitExceeded);
  }
  if (per_try_timeout) {
    localReply(504, "upstream request timeout", "upstream_per_try_timeout",
               stream_info::UpstreamRequestTimeout);
    return;
  }
  stream_info::ResponseFlag flag = stream_info::UpstreamRemoteReset;
  std::string reason_text(http::resetReasonString(reason));
  if (overflow) {
    // Envoy marks circuit-breaker refusals so clients can tell them from upstream failures.
    callbacks_->streamInfo().setResponseFlag(stream_info::UpstreamOverflow);
    callbacks_->sendLocalReply(
        503, "upstream connect error or disconnect/reset before headers. reset reason: overflow",
        [](http::ResponseHeaderMap& response) { response.setCopy("x-envoy-overloaded", "true"); },
        std::nullopt, "upstream_reset_before_response_started{overflow}");
    return;
  } else if (connect_failure) {
    flag = stream_info::UpstreamConnectionFailure;
    reason_text = "connection failure";
  } else if (reason == http::StreamResetReason::ConnectionTermination) {
    flag = stream_info::UpstreamConnectionTermination;
  }
  const std::string body = absl::StrCat(
      "upstream connect error or disconnect/reset before headers. reset reason: ", reason_text,
      details.empty() ? "" : ", transport failure reason: ", details);
  // Envoy's response code details never contain spaces (StreamInfo replaces them with '_').
  localReply(
      503, body,
      absl::StrReplaceAll(absl::StrCat("upstream_reset_before_response_started{", reason_text,
                                       details.empty() ? "" : ",", details, "}"),
                          {{" ", "_"}}),
      flag);
}

void RouterFilter::scheduleRetry() {
  cluster_->info().stats().upstream_rq_retry.inc();
  cluster_->info().resources().retries.inc();
  const std::chrono::milliseconds delay = retry_state_->consumeRetry();
  retry_timer_ = callbacks_->dispatcher().createTimer([this] {
    cluster_->info().resources().retries.dec();
    retry_timer_.reset();
    startAttempt();
  });
  retry_timer_->enableTimer(delay);
}

void RouterFilter::onGlobalTimeout() {
  cluster_->info().stats().upstream_rq_timeout.inc();
  if (upstream_request_ != nullptr && upstream_request_->host() != nullptr) {
    upstream_request_->host()->stats().rq_timeout.fetch_add(1, std::memory_order_relaxed);
  }
  if (tcp_upstream_ != nullptr) {
    tcp_upstream_->host()->stats().rq_timeout.fetch_add(1, std::memory_order_relaxed);
  }
  resetUpstream();
  if (retry_timer_ != nullptr) {
    retry_timer_.reset();
    cluster_->info().resources().retries.dec();
  }
  if (response_started_) {
    config_->stats.rq_reset_after_downstream_response_started.inc();
    callbacks_->streamInfo().setResponseFlag(stream_info::UpstreamRequestTimeout);
    callbacks_->resetStream();
    return;
  }
  localReply(504, "upstream request timeout", "upstream_response_timeout",
             stream_info::UpstreamRequestTimeout);
}

void RouterFilter::onPerTryTimeout(UpstreamRequest& request) {
  if (&request != upstream_request_.get() || response_started_) {
    return;
  }
  cluster_->info().stats().upstream_rq_per_try_timeout.inc();
  request.host()->stats().rq_timeout.fetch_add(1, std::memory_order_relaxed);
  if (auto* detector = cluster_->outlierDetector(); detector != nullptr) {
    detector->reportTimeout(*request.host());
  }
  retryOrFail(http::StreamResetReason::LocalReset, "", false, false, true);
}

void RouterFilter::resetUpstream() {
  if (tcp_upstream_ != nullptr) {
    // A tunnel ended well when both directions did: its last bytes (the client's end) may still
    // be on their way out, and are flushed before the connection closes.
    tcp_upstream_->abandon(tunnel_upstream_ended_ && downstream_end_stream_);
    auto* managers = config_->cluster_managers.forDispatcher(callbacks_->dispatcher());
    if (tcp_upstream_->flushing() && managers != nullptr) {
      TcpUpstreamLinger::get(*managers, callbacks_->dispatcher()).add(std::move(tcp_upstream_));
    } else {
      callbacks_->dispatcher().deferredDelete(std::move(tcp_upstream_));
    }
  }
  if (upstream_request_ != nullptr) {
    upstream_request_->abandon();
    // May be inside its callback: free it after this loop turn.
    struct Holder : event::DeferredDeletable {
      explicit Holder(UpstreamRequestPtr r) : request(std::move(r)) {}
      UpstreamRequestPtr request;
    };
    callbacks_->dispatcher().deferredDelete(std::make_unique<Holder>(std::move(upstream_request_)));
  }
}

void RouterFilter::onAboveWriteBufferHighWatermark() {
  ++downstream_above_watermark_;
  if (upstream_request_ != nullptr) {
    upstream_request_->readDisable(true);
  }
  if (tcp_upstream_ != nullptr) {
    tcp_upstream_->readDisable(true);
  }
}

void RouterFilter::onBelowWriteBufferLowWatermark() {
  if (downstream_above_watermark_ == 0) {
    return;
  }
  --downstream_above_watermark_;
  if (upstream_request_ != nullptr) {
    upstream_request_->readDisable(false);
  }
  if (tcp_upstream_ != nullptr) {
    tcp_upstream_->readDisable(false);
  }
}

void RouterFilter::onUpstreamAboveWriteBufferHighWatermark() {
  callbacks_->onDecoderFilterAboveWriteBufferHighWatermark();
}

void RouterFilter::onUpstreamBelowWriteBufferLowWatermark() {
  callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
}

std::optional<uint64_t> RouterFilter::computeHashKey() {
  const waystone::router::HashPolicy* policy =
      route_entry_ == nullptr ? nullptr : route_entry_->hashPolicy();
  if (policy == nullptr || request_headers_ == nullptr) {
    return std::nullopt;
  }
  const auto& remote = callbacks_->streamInfo().downstream_remote_address;
  const std::string ip = remote != nullptr && remote->type() == network::address::Type::Ip
                             ? remote->ipString()
                             : std::string();
  return policy->generateHash(*request_headers_, ip);
}

bool RouterFilter::shouldSelectAnotherHost(const upstream::Host& host) {
  if (route_entry_ == nullptr) {
    return false;
  }
  for (const auto& predicate : route_entry_->retryPolicy().retryHostPredicates()) {
    if (predicate == waystone::router::RetryPolicy::kPreviousHostsPredicate) {
      for (const auto& previous : attempted_hosts_) {
        if (previous.get() == &host) {
          return true;
        }
      }
    }
  }
  return false;
}

uint32_t RouterFilter::hostSelectionRetryCount() const {
  return route_entry_ == nullptr ? 0 : route_entry_->retryPolicy().hostSelectionMaxAttempts();
}

// ORIGINAL_DST's destination; used only when the original_dst listener filter restored it
// (downstream_local_address_restored in the stream info), as Envoy does.
network::address::InstanceConstSharedPtr RouterFilter::downstreamLocalAddress() const {
  return callbacks_ == nullptr ? nullptr : callbacks_->streamInfo().downstream_local_address;
}

}  // namespace waystone::extensions::http_filters::router
