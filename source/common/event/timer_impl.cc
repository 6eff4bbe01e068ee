#include "source/common/event/timer_impl.h"

#include "source/common/common/assert.h"

namespace waystone::event {

TimerImpl::TimerImpl(event_base& base, TimerCb cb)
    : cb_(std::move(cb)), event_(evtimer_new(&base, &TimerImpl::onFire, this)) {
  WAYSTONE_RELEASE_ASSERT(event_ != nullptr, "evtimer_new failed");
}

void TimerImpl::onFire(evutil_socket_t, short, void* arg) {
  // Copy first: the callback may destroy or re-arm this timer.
  TimerCb cb = static_cast<TimerImpl*>(arg)->cb_;
  cb();
}

void TimerImpl::enableTimer(std::chrono::milliseconds duration) {
  timeval tv;
  const int64_t ms = duration.count() < 0 ? 0 : duration.count();
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  WAYSTONE_RELEASE_ASSERT(evtimer_add(event_.get(), &tv) == 0, "evtimer_add failed");
}

void TimerImpl::disableTimer() { evtimer_del(event_.get()); }

bool TimerImpl::enabled() const { return evtimer_pending(event_.get(), nullptr) != 0; }

}  // namespace waystone::event
