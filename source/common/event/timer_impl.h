#pragma once

#include "source/common/event/libevent.h"
#include "source/common/event/timer.h"

namespace waystone::event {

// Timer over a libevent event with no file descriptor.
class TimerImpl final : public Timer {
 public:
  TimerImpl(event_base& base, TimerCb cb);

  // Timer
  void enableTimer(std::chrono::milliseconds duration) override;
  void disableTimer() override;
  bool enabled() const override;

 private:
  static void onFire(evutil_socket_t, short, void* arg);

  TimerCb cb_;
  libevent::EventPtr event_;
};

}  // namespace waystone::event
