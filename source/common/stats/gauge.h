#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "source/common/stats/metric.h"

namespace waystone::stats {

// A value that goes up and down (active connections, ...). Unsigned like Envoy's gauges:
// decrementing below zero wraps, which is a caller bug. Relaxed atomics, as for Counter.
class Gauge : public Metric {
 public:
  explicit Gauge(std::string name) : Metric(std::move(name)) {}

  void inc() { add(1); }
  void dec() { sub(1); }
  void add(uint64_t amount) {
    value_.fetch_add(amount, std::memory_order_relaxed);
    markUsed();
  }
  void sub(uint64_t amount) {
    value_.fetch_sub(amount, std::memory_order_relaxed);
    markUsed();
  }
  void set(uint64_t value) {
    value_.store(value, std::memory_order_relaxed);
    markUsed();
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  // True once the gauge has been changed in any way.
  bool used() const { return used_.load(std::memory_order_relaxed); }

 private:
  void markUsed() {
    if (!used_.load(std::memory_order_relaxed)) {
      used_.store(true, std::memory_order_relaxed);
    }
  }

  std::atomic<uint64_t> value_{0};
  std::atomic<bool> used_{false};
};

}  // namespace waystone::stats
