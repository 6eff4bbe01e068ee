#include "source/common/event/libevent.h"

#include <mutex>

#include <event2/thread.h>

#include "source/common/common/assert.h"

namespace waystone::event::libevent {

void initialize() {
  static std::once_flag once;
  std::call_once(once, [] {
    WAYSTONE_RELEASE_ASSERT(evthread_use_pthreads() == 0, "evthread_use_pthreads failed");
  });
}

}  // namespace waystone::event::libevent
