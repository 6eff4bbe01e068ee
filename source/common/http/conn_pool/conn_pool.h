#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>

#include "absl/strings/string_view.h"

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/http/codec_client.h"
#include "source/upstream/cluster.h"

namespace waystone::http {

enum class PoolFailureReason { Overflow, ConnectionFailure, Timeout };

class PoolCallbacks {
 public:
  virtual ~PoolCallbacks() = default;
  virtual void onPoolFailure(PoolFailureReason reason, absl::string_view details,
                             const upstream::HostConstSharedPtr& host) = 0;
  // A stream is ready; `encoder` sends the request.
  virtual void onPoolReady(RequestEncoder& encoder, const upstream::HostConstSharedPtr& host) = 0;
};

// A request waiting for a connection; cancel() withdraws it.
class Cancellable {
 public:
  virtual ~Cancellable() = default;
  virtual void cancel() = 0;
};

// Connections to one upstream host with one protocol, on one worker. HTTP/1.1: one request per
// connection at a time, connections kept alive for reuse. HTTP/2: requests multiplexed up to the
// concurrency limit, a new connection when all are full. Respects the cluster's circuit
// breakers (connections, pending requests), counting overflows.
class ConnPool final : public CodecClientCallbacks {
 public:
  ConnPool(event::Dispatcher& dispatcher, upstream::HostConstSharedPtr host,
           upstream::ClusterConstSharedPtr cluster, Protocol protocol);
  ~ConnPool() override;

  // Either calls back at once (ready or failed; returns nullptr) or queues the request and
  // returns a handle to cancel it.
  Cancellable* newStream(ResponseDecoder& decoder, PoolCallbacks& callbacks);

  Protocol protocol() const { return protocol_; }
  size_t numConnections() const { return ready_.size() + busy_.size() + connecting_.size(); }
  size_t numPending() const { return pending_.size(); }

  // The host left its cluster: close idle connections now and every other one as its last
  // request completes (requests in flight and queued ones finish). `on_drained` runs once, when
  // nothing is left, possibly from inside drain(); the owner may then free the pool, but only
  // after the current callback returns (deferredDelete). No newStream() after drain().
  void drain(std::function<void()> on_drained);
  bool draining() const { return draining_; }

  // CodecClientCallbacks
  void onConnected(CodecClient& client) override;
  void onClose(CodecClient& client, bool connected, absl::string_view reason) override;
  void onStreamComplete(CodecClient& client) override;
  void onGoAway(CodecClient& client) override;
  void onSettingsChanged(CodecClient& client) override;

 private:
  class PendingRequest;
  using ClientList = std::list<CodecClientPtr>;

  // Streams per connection: the cluster's limit, and for one client also its peer's.
  uint64_t streamLimit() const;
  uint64_t streamLimit(const CodecClient& client) const;
  void createConnectionsForPending();
  void createConnection();
  void attach(CodecClient& client, ResponseDecoder& decoder, PoolCallbacks& callbacks);
  void servePending();
  void moveTo(CodecClient& client, ClientList& to);
  ClientList& listOf(CodecClient& client);
  void onConnectTimeout(CodecClient& client);
  // Draining: closes connected clients without requests, then reports when nothing is left.
  void closeIdleIfDraining();
  void checkDrained();

  event::Dispatcher& dispatcher_;
  const upstream::HostConstSharedPtr host_;
  const upstream::ClusterConstSharedPtr cluster_;
  const Protocol protocol_;
  ClientList ready_;       // connected, with spare capacity
  ClientList busy_;        // connected, full (or going away)
  ClientList connecting_;  // connect() in progress
  std::list<std::unique_ptr<PendingRequest>> pending_;
  // Connect timers, one per connecting client.
  std::list<std::pair<CodecClient*, event::TimerPtr>> connect_timers_;
  // Which list each client is in.
  std::unordered_map<CodecClient*, ClientList*> where_;
  bool destroying_ = false;
  bool draining_ = false;
  std::function<void()> on_drained_;
};

using ConnPoolPtr = std::unique_ptr<ConnPool>;

}  // namespace waystone::http
