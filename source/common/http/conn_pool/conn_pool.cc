#include "source/common/http/conn_pool/conn_pool.h"

#include <algorithm>

#include "source/common/common/logger.h"
#include "source/upstream/upstream_connection.h"

namespace waystone::http {

class ConnPool::PendingRequest final : public Cancellable {
 public:
  PendingRequest(ConnPool& parent, ResponseDecoder& decoder, PoolCallbacks& callbacks)
      : parent_(parent), decoder_(decoder), callbacks_(callbacks) {
    parent_.cluster_->stats().upstream_rq_pending_total.inc();
    parent_.cluster_->stats().upstream_rq_pending_active.inc();
    parent_.cluster_->resources().pending_requests.inc();
  }
  ~PendingRequest() override {
    parent_.cluster_->stats().upstream_rq_pending_active.dec();
    parent_.cluster_->resources().pending_requests.dec();
  }

  void cancel() override {
    parent_.cluster_->stats().upstream_rq_cancelled.inc();
    ConnPool& parent = parent_;
    std::unique_ptr<PendingRequest> self = std::move(*position_);
    parent.pending_.erase(position_);
    self.reset();
    parent.closeIdleIfDraining();
  }

  ConnPool& parent_;
  ResponseDecoder& decoder_;
  PoolCallbacks& callbacks_;
  std::list<std::unique_ptr<PendingRequest>>::iterator position_;
};

ConnPool::ConnPool(event::Dispatcher& dispatcher, upstream::HostConstSharedPtr host,
                   upstream::ClusterConstSharedPtr cluster, Protocol protocol)
    : dispatcher_(dispatcher),
      host_(std::move(host)),
      cluster_(std::move(cluster)),
      protocol_(protocol) {}

ConnPool::~ConnPool() {
  destroying_ = true;
  pending_.clear();
  connect_timers_.clear();
  for (ClientList* list : {&ready_, &busy_, &connecting_}) {
    for (auto& client : *list) {
      client->close();
    }
  }
  // close() reported each client to onClose (which ignores them while destroying); free them.
  for (ClientList* list : {&ready_, &busy_, &connecting_}) {
    for (auto& client : *list) {
      dispatcher_.deferredDelete(std::move(client));
    }
    list->clear();
  }
}

uint64_t ConnPool::streamLimit() const {
  return protocol_ == Protocol::Http2 ? cluster_->http2MaxConcurrentStreams() : 1;
}

uint64_t ConnPool::streamLimit(const CodecClient& client) const {
  // The peer's SETTINGS_MAX_CONCURRENT_STREAMS may be lower than what the cluster allows.
  return std::min<uint64_t>(streamLimit(), client.maxConcurrentStreams());
}

void ConnPool::createConnectionsForPending() {
  // A connection still connecting may turn out to carry fewer streams than counted on (its
  // peer's SETTINGS): requests left waiting get connections of their own.
  while (pending_.size() > connecting_.size() * streamLimit() &&
         cluster_->resources().connections.canCreate()) {
    createConnection();
  }
}

Cancellable* ConnPool::newStream(ResponseDecoder& decoder, PoolCallbacks& callbacks) {
  if (!ready_.empty()) {
    attach(*ready_.front(), decoder, callbacks);
    return nullptr;
  }
  if (!cluster_->resources().pending_requests.canCreate()) {
    cluster_->stats().upstream_rq_pending_overflow.inc();
    callbacks.onPoolFailure(PoolFailureReason::Overflow, "pending requests overflow", host_);
    return nullptr;
  }
  auto pending = std::make_unique<PendingRequest>(*this, decoder, callbacks);
  PendingRequest& ref = *pending;
  pending_.push_back(std::move(pending));
  ref.position_ = std::prev(pending_.end());
  // One new connection per pending request beyond what connecting ones will carry.
  const uint64_t coming = connecting_.size() * streamLimit();
  if (pending_.size() > coming) {
    if (cluster_->resources().connections.canCreate()) {
      createConnection();
    } else if (numConnections() == 0) {
      // No connection and none allowed: fail rather than wait forever.
      cluster_->stats().upstream_cx_overflow.inc();
      PoolCallbacks& cb = ref.callbacks_;
      std::unique_ptr<PendingRequest> owned = std::move(*ref.position_);
      pending_.erase(ref.position_);
      cb.onPoolFailure(PoolFailureReason::Overflow, "connections overflow", host_);
      return nullptr;
    } else {
      cluster_->stats().upstream_cx_overflow.inc();
    }
  }
  return &ref;
}

void ConnPool::createConnection() {
  // Pools are per host, so an internal host's passthrough metadata is right for every
  // connection; filter state is per request and is not passed on pooled connections.
  auto connection = upstream::createUpstreamConnection(dispatcher_, *host_, *cluster_, nullptr);
  connection->setBufferLimits(cluster_->perConnectionBufferLimitBytes());
  Http2Settings http2;
  http2.max_concurrent_streams = cluster_->http2MaxConcurrentStreams();
  auto client = std::make_unique<CodecClient>(protocol_, std::move(connection), host_, dispatcher_,
                                              http2, HeaderLimits{}, *this);
  CodecClient& ref = *client;
  connecting_.push_back(std::move(client));
  where_[&ref] = &connecting_;
  cluster_->resources().connections.inc();
  cluster_->stats().upstream_cx_total.inc();
  cluster_->stats().upstream_cx_active.inc();
  (protocol_ == Protocol::Http2 ? cluster_->stats().upstream_cx_http2_total
                                : cluster_->stats().upstream_cx_http1_total)
      .inc();
  host_->stats().cx_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().cx_active.fetch_add(1, std::memory_order_relaxed);
  auto timer = dispatcher_.createTimer([this, &ref] { onConnectTimeout(ref); });
  timer->enableTimer(cluster_->connectTimeout());
  connect_timers_.emplace_back(&ref, std::move(timer));
  ref.connect();
}

void ConnPool::onConnectTimeout(CodecClient& client) {
  WAYSTONE_LOG(debug, pool, "connect to %s timed out", host_->address()->asString());
  cluster_->stats().upstream_cx_connect_timeout.inc();
  client.close();
}

void ConnPool::attach(CodecClient& client, ResponseDecoder& decoder, PoolCallbacks& callbacks) {
  RequestEncoder& encoder = client.newStream(decoder);
  const bool full = client.numActiveRequests() >= streamLimit(client) ||
                    (cluster_->maxRequestsPerConnection() > 0 &&
                     client.totalRequests() >= cluster_->maxRequestsPerConnection());
  if (full && where_[&client] == &ready_) {
    moveTo(client, busy_);
  }
  callbacks.onPoolReady(encoder, host_);
}

void ConnPool::servePending() {
  while (!pending_.empty() && !ready_.empty()) {
    std::unique_ptr<PendingRequest> request = std::move(pending_.front());
    pending_.pop_front();
    attach(*ready_.front(), request->decoder_, request->callbacks_);
  }
}

ConnPool::ClientList& ConnPool::listOf(CodecClient& client) { return *where_.at(&client); }

void ConnPool::moveTo(CodecClient& client, ClientList& to) {
  ClientList& from = listOf(client);
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (it->get() == &client) {
      to.splice(to.end(), from, it);
      where_[&client] = &to;
      return;
    }
  }
}

void ConnPool::onConnected(CodecClient& client) {
  connect_timers_.remove_if([&client](const auto& entry) { return entry.first == &client; });
  moveTo(client, streamLimit(client) > 0 ? ready_ : busy_);
  servePending();
  createConnectionsForPending();
  closeIdleIfDraining();
}

void ConnPool::onSettingsChanged(CodecClient& client) {
  if (destroying_ || where_.count(&client) == 0 || where_[&client] == &connecting_ ||
      client.remoteGoAway()) {
    return;
  }
  const bool exhausted = cluster_->maxRequestsPerConnection() > 0 &&
                         client.totalRequests() >= cluster_->maxRequestsPerConnection();
  const bool has_room = !exhausted && client.numActiveRequests() < streamLimit(client);
  if (has_room && where_[&client] == &busy_) {
    moveTo(client, ready_);
  } else if (!has_room && where_[&client] == &ready_) {
    moveTo(client, busy_);
  }
  servePending();
  createConnectionsForPending();
}

void ConnPool::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  closeIdleIfDraining();
}

void ConnPool::closeIdleIfDraining() {
  if (!draining_ || destroying_) {
    return;
  }
  // A connection still connecting is idle too once no request waits for one.
  std::vector<CodecClient*> idle;
  for (ClientList* list : {&ready_, &busy_, &connecting_}) {
    for (auto& client : *list) {
      if (client->numActiveRequests() == 0 && (list != &connecting_ || pending_.empty())) {
        idle.push_back(client.get());
      }
    }
  }
  // close() reports to onClose, which takes the client out of its list (and may call back here:
  // the recheck finds nothing more to close).
  for (CodecClient* client : idle) {
    if (where_.count(client) != 0) {
      client->close();
    }
  }
  checkDrained();
}

void ConnPool::checkDrained() {
  if (draining_ && !destroying_ && numConnections() == 0 && pending_.empty() && on_drained_) {
    std::function<void()> done = std::move(on_drained_);
    on_drained_ = nullptr;
    done();
  }
}

void ConnPool::onClose(CodecClient& client, bool connected, absl::string_view reason) {
  if (destroying_) {
    return;
  }
  connect_timers_.remove_if([&client](const auto& entry) { return entry.first == &client; });
  cluster_->resources().connections.dec();
  cluster_->stats().upstream_cx_active.dec();
  cluster_->stats().upstream_cx_destroy.inc();
  host_->stats().cx_active.fetch_sub(1, std::memory_order_relaxed);
  const bool was_connecting = where_.at(&client) == &connecting_;
  if (!connected && was_connecting) {
    cluster_->stats().upstream_cx_connect_fail.inc();
    host_->stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
  }
  // Remove the client; it is deleted after this loop turn (we are inside its callback).
  ClientList& list = listOf(client);
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->get() == &client) {
      CodecClientPtr owned = std::move(*it);
      list.erase(it);
      where_.erase(&client);
      dispatcher_.deferredDelete(std::move(owned));
      break;
    }
  }
  if (was_connecting && !connected) {
    // Requests waiting for a connection that will not come: fail those the remaining
    // connecting clients cannot carry.
    const uint64_t carried = connecting_.size() * streamLimit() + ready_.size();
    while (pending_.size() > carried) {
      std::unique_ptr<PendingRequest> request = std::move(pending_.back());
      pending_.pop_back();
      cluster_->stats().upstream_rq_pending_failure_eject.inc();
      request->callbacks_.onPoolFailure(PoolFailureReason::ConnectionFailure,
                                        reason.empty() ? "connection failure" : reason, host_);
    }
  } else if (!pending_.empty() && connecting_.empty() && ready_.empty() &&
             cluster_->resources().connections.canCreate()) {
    createConnection();
  }
  closeIdleIfDraining();
}

void ConnPool::onStreamComplete(CodecClient& client) {
  if (destroying_ || where_.count(&client) == 0 || !client.connected()) {
    return;
  }
  const bool exhausted = cluster_->maxRequestsPerConnection() > 0 &&
                         client.totalRequests() >= cluster_->maxRequestsPerConnection();
  if (exhausted || client.remoteGoAway()) {
    if (client.numActiveRequests() == 0) {
      client.close();
    }
    return;
  }
  if (where_[&client] == &busy_ && client.numActiveRequests() < streamLimit(client)) {
    moveTo(client, ready_);
  }
  servePending();
  closeIdleIfDraining();
}

void ConnPool::onGoAway(CodecClient& client) {
  if (where_.count(&client) != 0 && where_[&client] == &ready_) {
    moveTo(client, busy_);
  }
  if (client.numActiveRequests() == 0) {
    client.close();
  }
}

}  // namespace waystone::http
