#pragma once

#include <atomic>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/common/event/libevent.h"

namespace waystone::event {

// Dispatcher over one libevent event_base. post() is the only cross-thread entry: callbacks are
// queued under a mutex and one libevent event is activated to drain them on the owning thread.
class DispatcherImpl final : public Dispatcher {
 public:
  explicit DispatcherImpl(std::string name);
  ~DispatcherImpl() override;

  // Dispatcher
  const std::string& name() const override { return name_; }
  TimerPtr createTimer(TimerCb cb) override;
  FileEventPtr createFileEvent(int fd, FileReadyCb cb, uint32_t events) override;
  SignalEventPtr listenForSignal(int signal_num, SignalCb cb) override;
  void deferredDelete(DeferredDeletablePtr&& to_delete) override;
  void post(PostCb cb) override;
  void run(RunType type) override;
  void exit() override;
  bool isThreadSafe() const override;
  // libevent 2.1 has no per-iteration hook to cache the time in, and a vDSO clock read costs
  // tens of nanoseconds: read the clock.
  std::chrono::steady_clock::time_point approximateMonotonicTime() const override {
    return std::chrono::steady_clock::now();
  }
  void updateApproximateMonotonicTime() override;

  event_base& base() { return *base_; }
  // Frees what deferredDelete() queued, now (the owning thread's last act before it exits).
  void clearDeferredDeleteList();

 private:
  static void onPost(evutil_socket_t, short, void* arg);
  static void onDeferredDelete(evutil_socket_t, short, void* arg);
  void runPostCallbacks();

  const std::string name_;
  libevent::BasePtr base_;
  libevent::EventPtr post_event_;
  libevent::EventPtr deferred_delete_event_;
  std::mutex post_lock_;
  std::list<PostCb> post_callbacks_;  // guarded by post_lock_
  std::vector<DeferredDeletablePtr> to_delete_;
  bool deleting_ = false;
  std::atomic<std::thread::id> run_thread_id_{};
  std::chrono::steady_clock::time_point approximate_now_;
};

}  // namespace waystone::event
