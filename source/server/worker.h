#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "source/common/event/dispatcher_impl.h"
#include "source/server/active_listener.h"

namespace waystone::server {

// A worker thread: one dispatcher, its share of every listener, and the connections accepted
// there. The main thread talks to it only through post().
class Worker {
 public:
  explicit Worker(uint32_t index);
  ~Worker();

  // Starts the thread; `on_started` runs on the worker thread once its loop is running.
  // `on_exit` runs on the worker thread after its listeners and connections are gone: the
  // place to free other per-worker state tied to this loop.
  void start(std::function<void()> on_started, std::function<void()> on_exit = nullptr);

  // Adds a listener. Called on the main thread; the work happens on the worker.
  void addListener(ListenerConfigConstSharedPtr config,
                   std::shared_ptr<network::ListenSocket> socket);
  // Stops accepting on every listener; `done` runs on the worker afterwards.
  void stopListeners(std::function<void()> done);
  // Tells every listener's connections that a drain started. Called on the main thread.
  void startDrain(const network::DrainEvent& event);
  // Closes all connections and exits the loop; joins the thread.
  void stop();

  event::Dispatcher& dispatcher() { return *dispatcher_; }

 private:
  void threadRoutine(std::function<void()> on_started, std::function<void()> on_exit);

  const uint32_t index_;
  std::unique_ptr<event::DispatcherImpl> dispatcher_;
  // Touched only on the worker thread.
  std::list<std::unique_ptr<ActiveListener>> listeners_;
  std::thread thread_;
};

using WorkerPtr = std::unique_ptr<Worker>;

}  // namespace waystone::server
