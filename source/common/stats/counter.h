#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "source/common/stats/metric.h"

namespace waystone::stats {

// A monotonically increasing count. inc()/add() are relaxed atomic operations: cheap enough for
// the data path, and the readers (admin, Prometheus scrapes) need no ordering with other memory.
class Counter : public Metric {
 public:
  explicit Counter(std::string name) : Metric(std::move(name)) {}

  void inc() { add(1); }
  void add(uint64_t amount) {
    value_.fetch_add(amount, std::memory_order_relaxed);
    markUsed();
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  // True once the counter has been incremented (even by 0), as Envoy's "used" flag.
  bool used() const { return used_.load(std::memory_order_relaxed); }

 private:
  // Load before store: after the first increment this stays a read, so the cache line holding
  // the flag is not written on every increment.
  void markUsed() {
    if (!used_.load(std::memory_order_relaxed)) {
      used_.store(true, std::memory_order_relaxed);
    }
  }

  std::atomic<uint64_t> value_{0};
  std::atomic<bool> used_{false};
};

}  // namespace waystone::stats
