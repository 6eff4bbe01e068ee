#include "source/common/event/dispatcher_impl.h"

#include <csignal>

#include "source/common/common/assert.h"
#include "source/common/event/file_event_impl.h"
#include "source/common/event/timer_impl.h"

namespace waystone::event {
namespace {

class SignalEventImpl final : public SignalEvent {
 public:
  SignalEventImpl(event_base& base, int signal_num, SignalCb cb) : cb_(std::move(cb)) {
    event_.reset(evsignal_new(&base, signal_num, &SignalEventImpl::onSignal, this));
    WAYSTONE_RELEASE_ASSERT(event_ != nullptr, "evsignal_new failed");
    WAYSTONE_RELEASE_ASSERT(event_add(event_.get(), nullptr) == 0, "event_add(signal) failed");
  }

 private:
  static void onSignal(evutil_socket_t, short, void* arg) {
    static_cast<SignalEventImpl*>(arg)->cb_();
  }

  SignalCb cb_;
  libevent::EventPtr event_;
};

}  // namespace

DispatcherImpl::DispatcherImpl(std::string name) : name_(std::move(name)) {
  libevent::initialize();
  base_.reset(event_base_new());
  WAYSTONE_RELEASE_ASSERT(base_ != nullptr, "event_base_new failed");
  post_event_.reset(event_new(base_.get(), -1, 0, &DispatcherImpl::onPost, this));
  deferred_delete_event_.reset(
      event_new(base_.get(), -1, 0, &DispatcherImpl::onDeferredDelete, this));
  WAYSTONE_RELEASE_ASSERT(post_event_ != nullptr && deferred_delete_event_ != nullptr,
                          "event_new failed");
  updateApproximateMonotonicTime();
}

DispatcherImpl::~DispatcherImpl() {
  // Objects queued for deletion may still reference the loop's events; free them first.
  clearDeferredDeleteList();
}

TimerPtr DispatcherImpl::createTimer(TimerCb cb) {
  return std::make_unique<TimerImpl>(*base_, std::move(cb));
}

FileEventPtr DispatcherImpl::createFileEvent(int fd, FileReadyCb cb, uint32_t events) {
  return std::make_unique<FileEventImpl>(*base_, fd, std::move(cb), events);
}

SignalEventPtr DispatcherImpl::listenForSignal(int signal_num, SignalCb cb) {
  return std::make_unique<SignalEventImpl>(*base_, signal_num, std::move(cb));
}

void DispatcherImpl::deferredDelete(DeferredDeletablePtr&& to_delete) {
  WAYSTONE_ASSERT(isThreadSafe(), "deferredDelete from another thread");
  if (to_delete == nullptr) {
    return;
  }
  to_delete_.push_back(std::move(to_delete));
  if (to_delete_.size() == 1) {
    event_active(deferred_delete_event_.get(), EV_TIMEOUT, 0);
  }
}

void DispatcherImpl::onDeferredDelete(evutil_socket_t, short, void* arg) {
  static_cast<DispatcherImpl*>(arg)->clearDeferredDeleteList();
}

void DispatcherImpl::clearDeferredDeleteList() {
  if (deleting_) {
    return;
  }
  deleting_ = true;
  // A destructor may queue more deletions; loop until the list stays empty.
  while (!to_delete_.empty()) {
    std::vector<DeferredDeletablePtr> batch;
    batch.swap(to_delete_);
    batch.clear();
  }
  deleting_ = false;
}

void DispatcherImpl::post(PostCb cb) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    was_empty = post_callbacks_.empty();
    post_callbacks_.push_back(std::move(cb));
  }
  if (was_empty) {
    // evthread_use_pthreads() makes this safe from any thread, and it wakes a sleeping loop.
    event_active(post_event_.get(), EV_TIMEOUT, 0);
  }
}

void DispatcherImpl::onPost(evutil_socket_t, short, void* arg) {
  static_cast<DispatcherImpl*>(arg)->runPostCallbacks();
}

void DispatcherImpl::runPostCallbacks() {
  std::list<PostCb> callbacks;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    callbacks.swap(post_callbacks_);
  }
  for (auto& cb : callbacks) {
    cb();
  }
}

void DispatcherImpl::run(RunType type) {
  run_thread_id_ = std::this_thread::get_id();
  updateApproximateMonotonicTime();
  // Callbacks posted before the loop started must run even though the activation happened
  // before this thread owned the base.
  runPostCallbacks();
  switch (type) {
    case RunType::NonBlock:
      event_base_loop(base_.get(), EVLOOP_NONBLOCK);
      break;
    case RunType::Block:
      event_base_loop(base_.get(), 0);
      break;
    case RunType::RunUntilExit:
      event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY);
      break;
  }
  clearDeferredDeleteList();
}

void DispatcherImpl::exit() { event_base_loopexit(base_.get(), nullptr); }

bool DispatcherImpl::isThreadSafe() const {
  const std::thread::id id = run_thread_id_.load();
  return id == std::thread::id() || id == std::this_thread::get_id();
}

void DispatcherImpl::updateApproximateMonotonicTime() {
  approximate_now_ = std::chrono::steady_clock::now();
}

}  // namespace waystone::event
