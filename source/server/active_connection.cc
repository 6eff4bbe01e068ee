#include "source/server/active_connection.h"

#include "source/common/common/logger.h"
#include "source/server/active_listener.h"

namespace waystone::server {

ActiveConnection::ActiveConnection(ActiveListener& listener, network::ConnectionPtr&& connection,
                                   const FilterChain& chain)
    : listener_(listener),
      dispatcher_(listener.dispatcher()),
      config_(listener.configPtr()),
      connection_(std::move(connection)),
      chain_(chain) {
  config_->stats().downstream_cx_total.inc();
  config_->stats().downstream_cx_active.inc();
  connection_->setBufferLimits(config_->perConnectionBufferLimitBytes());
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
}

ActiveConnection::~ActiveConnection() {
  // Filters first: they may still use the connection while they shut down.
  filters_.clear();
  config_->stats().downstream_cx_active.dec();
  config_->stats().downstream_cx_destroy.inc();
}

event::Dispatcher& ActiveConnection::dispatcher() { return dispatcher_; }

void ActiveConnection::start() {
  for (const auto& factory : chain_.filter_factories) {
    filters_.push_back({factory(), false});
    filters_.back().filter->initializeReadFilterCallbacks(*this);
  }
  if (filters_.empty()) {
    // A listener without filters has nothing to do with the bytes: refuse, as Envoy does.
    config_->stats().no_filter_chain_match.inc();
    connection_->close(network::ConnectionCloseType::NoFlush);
    return;
  }
  iterate(0, nullptr, false);
}

void ActiveConnection::iterate(size_t from, buffer::Instance* data, bool end_stream) {
  for (size_t i = from; i < filters_.size() && !closed_; ++i) {
    current_filter_ = i;
    ActiveFilter& active = filters_[i];
    if (!active.initialized) {
      active.initialized = true;
      if (active.filter->onNewConnection() == network::FilterStatus::StopIteration) {
        return;
      }
    }
    if (data != nullptr && (data->length() > 0 || end_stream) &&
        active.filter->onData(*data, end_stream) == network::FilterStatus::StopIteration) {
      return;
    }
  }
}

void ActiveConnection::startDrain(const network::DrainEvent& event) {
  if (closed_ || drain_started_) {
    return;
  }
  drain_started_ = true;
  for (ActiveFilter& active : filters_) {
    active.filter->onDrainStart(event);
    if (closed_) {
      return;  // a filter closed the connection: the others have nothing left to drain
    }
  }
}

// Data already read stays in the connection's buffer and is delivered with the next read.
void ActiveConnection::continueReading() { iterate(current_filter_ + 1, nullptr, false); }

void ActiveConnection::onData(buffer::Instance& data, bool end_stream) {
  iterate(0, &data, end_stream);
}

void ActiveConnection::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected || closed_) {
    return;
  }
  closed_ = true;
  listener_.removeConnection(*this);
}

}  // namespace waystone::server
