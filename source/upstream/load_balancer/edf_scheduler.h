#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "source/common/common/assert.h"

namespace waystone::upstream::lb {

// Earliest-deadline-first scheduler, Envoy's weighted round robin: an item of weight w is due
// every 1/w units of virtual time, so over any stretch of picks each item is chosen in proportion
// to its weight and the choices are interleaved (smooth), at O(log n) per pick. Equal deadlines
// go to the item added first, which makes the order deterministic.
template <class T>
class EdfScheduler {
 public:
  // `weight` must be > 0.
  void add(double weight, T item) {
    WAYSTONE_ASSERT(weight > 0, "EDF weight must be positive");
    queue_.push(Entry{current_time_ + 1.0 / weight, order_offset_++, std::move(item)});
  }

  // Takes the item with the earliest deadline and schedules it again with the weight
  // `weight_fn(item)` returns now (which lets least-request weights follow the host's load).
  // nullopt when empty.
  template <class WeightFn>
  std::optional<T> pickAndAdd(WeightFn weight_fn) {
    if (queue_.empty()) {
      return std::nullopt;
    }
    Entry entry = queue_.top();
    queue_.pop();
    current_time_ = entry.deadline;
    add(weight_fn(entry.item), entry.item);
    return std::move(entry.item);
  }

  bool empty() const { return queue_.empty(); }
  size_t size() const { return queue_.size(); }

 private:
  struct Entry {
    double deadline;
    uint64_t order;
    T item;
  };
  // std::priority_queue is a max-heap: "less" means "due later".
  struct DueLater {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.deadline != b.deadline) {
        return a.deadline > b.deadline;
      }
      return a.order > b.order;
    }
  };

  std::priority_queue<Entry, std::vector<Entry>, DueLater> queue_;
  double current_time_ = 0;
  uint64_t order_offset_ = 0;
};

}  // namespace waystone::upstream::lb
