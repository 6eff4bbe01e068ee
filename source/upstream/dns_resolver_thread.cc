#include "source/upstream/dns_resolver_thread.h"

#include <pthread.h>

#include "source/common/common/logger.h"

namespace waystone::upstream {

DnsResolverThread::DnsResolverThread(DnsResolverSharedPtr resolver,
                                     event::Dispatcher& callback_dispatcher)
    : resolver_(std::move(resolver)), callback_dispatcher_(callback_dispatcher) {}

DnsResolverThread::~DnsResolverThread() {
  std::deque<Job> dropped;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stopping_ = true;
    dropped.swap(jobs_);
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void DnsResolverThread::resolve(std::string name, uint16_t port, DnsLookupFamily family,
                                Callback callback) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (stopping_) {
      return;
    }
    jobs_.push_back(Job{std::move(name), port, family, std::move(callback)});
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { threadRoutine(); });
    }
  }
  wake_.notify_one();
}

void DnsResolverThread::threadRoutine() {
  pthread_setname_np(pthread_self(), "dns_resolver");
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> guard(lock_);
      wake_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) {
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    DnsResolution resolution = resolver_->resolve(job.name, job.port, job.family);
    WAYSTONE_LOG(debug, dns, "resolved %s: %s, %d addresses%s", job.name,
                 resolution.status == DnsResolution::Status::kSuccess ? "success" : "failure",
                 resolution.addresses.size(),
                 resolution.details.empty() ? "" : " (" + resolution.details + ")");
    callback_dispatcher_.post(
        [callback = std::move(job.callback), resolution = std::move(resolution)]() mutable {
          callback(std::move(resolution));
        });
  }
}

}  // namespace waystone::upstream
