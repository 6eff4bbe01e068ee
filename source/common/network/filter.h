#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"

namespace waystone::network {

// A drain sequence (graceful /drain_listeners, SIGTERM), captured once on the main thread and
// handed unchanged to every connection of every worker, so that all share one timeline however
// late each one hears of it (a connection accepted during the drain hears at accept time).
struct DrainEvent {
  enum class Strategy { Gradual, Immediate };
  std::chrono::steady_clock::time_point start_time;
  std::chrono::milliseconds drain_time{0};  // --drain-time-s
  Strategy strategy = Strategy::Gradual;    // --drain-strategy
};

// When a connection told of `event` at `now` should start draining itself, from now. Immediate:
// at once. Gradual: spread so that the share of connections draining by time t is t / drain_time
// (Envoy's drain manager answers "drain close" with that probability); a connection that joins
// late drains at once with probability elapsed / drain_time, else at a uniform point of what is
// left. `random_value` is a uniformly random 64-bit number.
inline std::chrono::milliseconds drainDelay(const DrainEvent& event,
                                            std::chrono::steady_clock::time_point now,
                                            uint64_t random_value) {
  using std::chrono::milliseconds;
  if (event.strategy == DrainEvent::Strategy::Immediate || event.drain_time.count() <= 0) {
    return milliseconds(0);
  }
  const auto elapsed = std::chrono::duration_cast<milliseconds>(now - event.start_time);
  const milliseconds remaining = event.drain_time - elapsed;
  if (remaining.count() <= 0) {
    return milliseconds(0);
  }
  const uint64_t total = static_cast<uint64_t>(event.drain_time.count());
  const uint64_t point = random_value % total;  // uniform over the whole drain time
  if (elapsed.count() > 0 && point < static_cast<uint64_t>(elapsed.count())) {
    return milliseconds(0);  // its turn has passed already
  }
  return milliseconds(point - static_cast<uint64_t>(std::max<int64_t>(elapsed.count(), 0)));
}

enum class FilterStatus {
  Continue,       // let the next filter see the event
  StopIteration,  // stop here; the filter resumes with continueReading()
};

// What a read filter may do with its connection.
class ReadFilterCallbacks {
 public:
  virtual ~ReadFilterCallbacks() = default;
  virtual Connection& connection() = 0;
  virtual event::Dispatcher& dispatcher() = 0;
  // Resumes iteration after StopIteration, from the filter after the caller.
  virtual void continueReading() = 0;
};

// A network (L4) filter on the read path of a downstream connection, in Envoy's shape. Filters
// run in configuration order; the last one (tcp_proxy, http_connection_manager) terminates.
class ReadFilter {
 public:
  virtual ~ReadFilter() = default;
  virtual void initializeReadFilterCallbacks(ReadFilterCallbacks& callbacks) = 0;
  // Called once, when the connection is accepted.
  virtual FilterStatus onNewConnection() = 0;
  // Bytes from the peer; the filter drains what it consumes. `end_stream`: the peer half-closed.
  virtual FilterStatus onData(buffer::Instance& data, bool end_stream) = 0;
  // The listener is draining: a filter that can ask its peer to go away politely (HTTP: GOAWAY,
  // "connection: close") does so, in its own time (drainDelay()). Called at most once.
  virtual void onDrainStart(const DrainEvent& event) { (void)event; }
};

using ReadFilterPtr = std::unique_ptr<ReadFilter>;

// Built once per filter from immutable config on the main thread; called on a worker for each
// new connection to create that connection's filter instance.
using FilterFactoryCb = std::function<ReadFilterPtr()>;

}  // namespace waystone::network
