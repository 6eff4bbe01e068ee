#include "source/server/worker.h"

#include <pthread.h>

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"

namespace waystone::server {

Worker::Worker(uint32_t index)
    : index_(index),
      dispatcher_(std::make_unique<event::DispatcherImpl>(absl::StrCat("worker_", index))) {}

Worker::~Worker() { stop(); }

void Worker::start(std::function<void()> on_started, std::function<void()> on_exit) {
  thread_ = std::thread([this, started = std::move(on_started), exit = std::move(on_exit)]() {
    threadRoutine(started, exit);
  });
}

void Worker::threadRoutine(std::function<void()> on_started, std::function<void()> on_exit) {
  // The thread name shows up in top/perf; Linux limits it to 15 characters.
  pthread_setname_np(pthread_self(), absl::StrCat("wrk:worker_", index_).substr(0, 15).c_str());
  WAYSTONE_LOG(debug, main, "worker %d entering dispatch loop", index_);
  dispatcher_->post(std::move(on_started));
  dispatcher_->run(event::Dispatcher::RunType::RunUntilExit);
  // Tear down on this thread: connections and listeners belong to this dispatcher.
  listeners_.clear();
  if (on_exit) {
    on_exit();
  }
  dispatcher_->clearDeferredDeleteList();
  WAYSTONE_LOG(debug, main, "worker %d exited dispatch loop", index_);
}

void Worker::addListener(ListenerConfigConstSharedPtr config,
                         std::shared_ptr<network::ListenSocket> socket) {
  dispatcher_->post([this, config = std::move(config), socket = std::move(socket)]() mutable {
    listeners_.push_back(
        std::make_unique<ActiveListener>(*dispatcher_, std::move(config), std::move(socket)));
  });
}

void Worker::stopListeners(std::function<void()> done) {
  dispatcher_->post([this, done = std::move(done)] {
    for (auto& listener : listeners_) {
      listener->stopAccepting();
    }
    if (done) {
      done();
    }
  });
}

void Worker::startDrain(const network::DrainEvent& event) {
  dispatcher_->post([this, event] {
    for (auto& listener : listeners_) {
      listener->startDrain(event);
    }
  });
}

void Worker::stop() {
  if (!thread_.joinable()) {
    return;
  }
  dispatcher_->post([this] {
    for (auto& listener : listeners_) {
      listener->closeConnections();
    }
    dispatcher_->exit();
  });
  thread_.join();
}

}  // namespace waystone::server
