#pragma once

#include <chrono>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/common/network/listen_socket.h"
#include "source/common/network/listener.h"
#include "source/common/network/transport_socket.h"

namespace waystone::network {

// Accepts connections from a ListenSocket on one dispatcher and hands each, as a ConnectionImpl
// with a raw transport and its remote and local addresses, to ListenerCallbacks::onAccept().
// The socket must outlive the listener.
//
// Each readable event accepts at most kMaxAcceptsPerEvent connections, so that a connection storm
// cannot starve the established connections of the same loop. When the process runs out of file
// descriptors (EMFILE, ENFILE) or kernel memory, the listener stops for kAcceptBackoff instead of
// spinning on a readable socket it cannot accept from; the pending connections wait in the
// backlog. onAccept() may call disable()/enable(); it must not destroy the listener (post the
// destruction instead).
class ListenerImpl final : public Listener {
 public:
  static constexpr int kMaxAcceptsPerEvent = 64;
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};

  // `transport_factory` makes each accepted connection's transport (TLS); empty means raw.
  ListenerImpl(event::Dispatcher& dispatcher, ListenSocket& socket, ListenerCallbacks& callbacks,
               TransportSocketFactoryCb transport_factory = nullptr);

  // Listener
  void disable() override;
  void enable() override;

  bool enabled() const { return enabled_; }
  // True while paused after running out of descriptors.
  bool backingOff() const { return backoff_timer_->enabled(); }

 private:
  void onAcceptReady();
  void updateEvents();

  event::Dispatcher& dispatcher_;
  ListenSocket& socket_;
  TransportSocketFactoryCb transport_factory_;
  ListenerCallbacks& callbacks_;
  event::FileEventPtr file_event_;
  event::TimerPtr backoff_timer_;
  bool enabled_ = true;
  bool listening_ = false;  // the file event is armed
};

}  // namespace waystone::network
