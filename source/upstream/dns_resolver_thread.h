#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "source/common/event/dispatcher.h"
#include "source/upstream/dns_resolver.h"

namespace waystone::upstream {

// One background thread that runs blocking DnsResolver calls for every DNS cluster, so that
// neither the workers nor the main loop ever wait on DNS (Envoy's getaddrinfo resolver works the
// same way). Results come back on `callback_dispatcher` (the main thread) by post().
//
// The thread starts with the first resolve() and is joined by the destructor; a resolution in
// progress is waited for (the getaddrinfo timeout bounds it), queued ones are dropped with their
// callbacks. A callback already posted may still run after the destructor: callbacks must not
// assume their requester is alive (capture a weak_ptr).
class DnsResolverThread {
 public:
  using Callback = std::function<void(DnsResolution)>;

  DnsResolverThread(DnsResolverSharedPtr resolver, event::Dispatcher& callback_dispatcher);
  ~DnsResolverThread();
  DnsResolverThread(const DnsResolverThread&) = delete;
  DnsResolverThread& operator=(const DnsResolverThread&) = delete;

  // Any thread. Queues a resolution; `callback` runs on the callback dispatcher with its result.
  void resolve(std::string name, uint16_t port, DnsLookupFamily family, Callback callback);

 private:
  struct Job {
    std::string name;
    uint16_t port;
    DnsLookupFamily family;
    Callback callback;
  };

  void threadRoutine();

  const DnsResolverSharedPtr resolver_;
  event::Dispatcher& callback_dispatcher_;
  std::mutex lock_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // guarded by lock_
  bool stopping_ = false;  // guarded by lock_
  std::thread thread_;     // started under lock_ by the first resolve()
};

}  // namespace waystone::upstream
