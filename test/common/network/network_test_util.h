#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"

namespace waystone::network::test {

// Drives `dispatcher` until `done()` holds, checking after every loop wake-up (and at least every
// millisecond). Returns false if `timeout` passes first, so a broken test fails instead of hanging.
inline bool runUntil(event::Dispatcher& dispatcher, const std::function<bool()>& done,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  if (done()) {
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  event::TimerPtr poll;
  poll = dispatcher.createTimer([&] {
    if (done()) {
      dispatcher.exit();
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      dispatcher.exit();
      return;
    }
    poll->enableTimer(std::chrono::milliseconds(1));
  });
  poll->enableTimer(std::chrono::milliseconds(0));
  dispatcher.run(event::Dispatcher::RunType::RunUntilExit);
  return !timed_out && done();
}

// Runs the loop for `duration` of wall time (for "nothing more happens" checks).
inline void runFor(event::Dispatcher& dispatcher, std::chrono::milliseconds duration) {
  event::TimerPtr timer = dispatcher.createTimer([&] { dispatcher.exit(); });
  timer->enableTimer(duration);
  dispatcher.run(event::Dispatcher::RunType::RunUntilExit);
}

// Records every event and watermark notification.
class RecordingCallbacks : public ConnectionCallbacks {
 public:
  void onEvent(ConnectionEvent event) override { events.push_back(event); }
  void onAboveWriteBufferHighWatermark() override { ++above_high; }
  void onBelowWriteBufferLowWatermark() override { ++below_low; }

  int count(ConnectionEvent event) const {
    int n = 0;
    for (ConnectionEvent e : events) {
      n += e == event ? 1 : 0;
    }
    return n;
  }
  bool closed() const {
    return count(ConnectionEvent::RemoteClose) + count(ConnectionEvent::LocalClose) > 0;
  }

  std::vector<ConnectionEvent> events;
  int above_high = 0;
  int below_low = 0;
};

// Collects the bytes read (when `drain` is set) and the end of stream.
class CollectingReader : public ReadCallback {
 public:
  void onData(buffer::Instance& data, bool end_stream) override {
    if (end_streams > 0) {
      ++calls_after_end_stream;  // must never happen
    }
    ++calls;
    max_seen_length = std::max<uint64_t>(max_seen_length, data.length());
    if (end_stream) {
      ++end_streams;
    }
    if (drain) {
      received += data.toString();
      data.drain(data.length());
    }
    if (on_data) {
      on_data(data, end_stream);
    }
  }

  bool drain = true;
  int calls = 0;
  int end_streams = 0;
  int calls_after_end_stream = 0;
  uint64_t max_seen_length = 0;
  std::string received;
  std::function<void(buffer::Instance&, bool)> on_data;
};

// Deterministic pseudo-random bytes, so that a reordering or a lost slice is detected.
inline std::string pattern(size_t size, uint32_t seed = 1) {
  std::string out(size, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace waystone::network::test
