#include "source/server/active_socket.h"

#include "source/common/common/logger.h"
#include "source/server/active_listener.h"

namespace waystone::server {

ActiveSocket::ActiveSocket(ActiveListener& listener, network::ConnectionSocketPtr socket)
    : listener_(listener), config_(listener.configPtr()), socket_(std::move(socket)) {
  config_->stats().downstream_pre_cx_active.inc();
}

ActiveSocket::~ActiveSocket() { config_->stats().downstream_pre_cx_active.dec(); }

event::Dispatcher& ActiveSocket::dispatcher() { return listener_.dispatcher(); }

void ActiveSocket::start() {
  if (config_->listenerFiltersTimeout().count() > 0 && !config_->listenerFilters().empty()) {
    timer_ = listener_.dispatcher().createTimer([this] { onTimeout(); });
    timer_->enableTimer(config_->listenerFiltersTimeout());
  }
  iterate();
}

void ActiveSocket::iterate() {
  const auto& configs = config_->listenerFilters();
  while (next_ < configs.size()) {
    const ListenerFilterConfig& filter_config = configs[next_];
    // Evaluated now, not at accept: an earlier filter (original_dst) may have changed what the
    // predicate looks at (the destination port).
    if (filter_config.disabled && filter_config.disabled(*socket_)) {
      ++next_;
      continue;
    }
    filters_.push_back(filter_config.factory());
    if (filters_.back()->onAccept(*this) == network::ListenerFilterStatus::StopIteration) {
      return;  // continueFilterChain() resumes
    }
    ++next_;
  }
  done_ = true;
  if (timer_ != nullptr) {
    timer_->disableTimer();
  }
  listener_.onSocketReady(*this, std::move(socket_));
}

void ActiveSocket::continueFilterChain(bool success) {
  if (done_) {
    return;
  }
  if (!success) {
    done_ = true;
    WAYSTONE_LOG(debug, conn_handler, "[%s] listener filter \"%s\" rejected the connection from %s",
                 config_->name(), config_->listenerFilters()[next_].name,
                 socket_->remoteAddress()->asString());
    listener_.onSocketReady(*this, nullptr);
    return;
  }
  ++next_;
  iterate();
}

void ActiveSocket::onTimeout() {
  if (done_) {
    return;
  }
  config_->stats().downstream_pre_cx_timeout.inc();
  socket_->cancelWait();
  if (config_->continueOnListenerFiltersTimeout()) {
    // As Envoy: skip every remaining filter and go straight to filter chain selection. Running
    // the next ones would let a later inspector wait again, with no timer left, forever for a
    // client that sends nothing (server-first protocols).
    WAYSTONE_LOG(debug, conn_handler,
                 "[%s] listener filter timeout; continuing without the remaining filters",
                 config_->name());
    next_ = config_->listenerFilters().size();
    iterate();
    return;
  }
  WAYSTONE_LOG(debug, conn_handler, "[%s] listener filter timeout; closing connection from %s",
               config_->name(), socket_->remoteAddress()->asString());
  done_ = true;
  listener_.onSocketReady(*this, nullptr);
}

}  // namespace waystone::server
