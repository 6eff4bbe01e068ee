#include "source/common/event/dispatcher_impl.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "gtest/gtest.h"
#include <sys/socket.h>

namespace waystone::event {
namespace {

TEST(DispatcherImplTest, PostFromAnotherThreadRunsOnLoopThreadInOrder) {
  DispatcherImpl dispatcher("test");
  std::vector<int> seen;
  std::thread::id loop_thread;
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) {
      dispatcher.post([&, i] {
        seen.push_back(i);
        loop_thread = std::this_thread::get_id();
        if (i == 99) {
          dispatcher.exit();
        }
      });
    }
  });
  dispatcher.run(Dispatcher::RunType::RunUntilExit);
  poster.join();
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(seen[i], i);
  }
  EXPECT_EQ(loop_thread, std::this_thread::get_id());
}

TEST(DispatcherImplTest, TimerFiresAndCanBeDisabled) {
  DispatcherImpl dispatcher("test");
  int fired = 0;
  TimerPtr never = dispatcher.createTimer([&] { fired += 100; });
  never->enableTimer(std::chrono::milliseconds(5));
  EXPECT_TRUE(never->enabled());
  never->disableTimer();
  EXPECT_FALSE(never->enabled());
  TimerPtr timer = dispatcher.createTimer([&] {
    ++fired;
    dispatcher.exit();
  });
  timer->enableTimer(std::chrono::milliseconds(1));
  dispatcher.run(Dispatcher::RunType::RunUntilExit);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer->enabled());
}

class Tracked : public DeferredDeletable {
 public:
  explicit Tracked(int& destroyed) : destroyed_(destroyed) {}
  ~Tracked() override { ++destroyed_; }

 private:
  int& destroyed_;
};

TEST(DispatcherImplTest, DeferredDeleteHappensAfterTheCurrentCallback) {
  DispatcherImpl dispatcher("test");
  int destroyed = 0;
  int destroyed_during_callback = -1;
  dispatcher.post([&] {
    dispatcher.deferredDelete(std::make_unique<Tracked>(destroyed));
    destroyed_during_callback = destroyed;
    dispatcher.post([&] { dispatcher.exit(); });
  });
  dispatcher.run(Dispatcher::RunType::RunUntilExit);
  EXPECT_EQ(destroyed_during_callback, 0);
  EXPECT_EQ(destroyed, 1);
}

TEST(DispatcherImplTest, FileEventReportsReadable) {
  DispatcherImpl dispatcher("test");
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  uint32_t got = 0;
  FileEventPtr ev = dispatcher.createFileEvent(
      fds[0],
      [&](uint32_t events) {
        got = events;
        dispatcher.exit();
      },
      FileReadyType::kRead);
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  dispatcher.run(Dispatcher::RunType::RunUntilExit);
  EXPECT_TRUE(got & FileReadyType::kRead);
  ev.reset();
  close(fds[0]);
  close(fds[1]);
}

TEST(DispatcherImplTest, SignalIsDeliveredAsCallback) {
  DispatcherImpl dispatcher("test");
  int count = 0;
  SignalEventPtr sig = dispatcher.listenForSignal(SIGUSR2, [&] {
    ++count;
    dispatcher.exit();
  });
  dispatcher.post([] { raise(SIGUSR2); });
  dispatcher.run(Dispatcher::RunType::RunUntilExit);
  EXPECT_EQ(count, 1);
}

TEST(DispatcherImplTest, IsThreadSafeOnlyOnLoopThread) {
  DispatcherImpl dispatcher("test");
  bool other_thread_safe = true;
  dispatcher.post([&] {
    std::thread t([&] { other_thread_safe = dispatcher.isThreadSafe(); });
    t.join();
    EXPECT_TRUE(dispatcher.isThreadSafe());
    dispatcher.exit();
  });
  dispatcher.run(Dispatcher::RunType::RunUntilExit);
  EXPECT_FALSE(other_thread_safe);
}

}  // namespace
}  // namespace waystone::event
