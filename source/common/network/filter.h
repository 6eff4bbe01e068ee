#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"

namespace waystone::network {

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
};

using ReadFilterPtr = std::unique_ptr<ReadFilter>;

// Built once per filter from immutable config on the main thread; called on a worker for each
// new connection to create that connection's filter instance.
using FilterFactoryCb = std::function<ReadFilterPtr()>;

}  // namespace waystone::network
