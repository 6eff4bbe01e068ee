#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace waystone::buffer {

// A byte queue made of owned slices. Moving data between buffers moves slices, not bytes.
// Not thread-safe: a buffer belongs to one dispatcher thread.
class Instance {
 public:
  virtual ~Instance() = default;

  virtual void add(const void* data, uint64_t size) = 0;
  virtual void add(absl::string_view data) = 0;
  // Appends all of `other` (which is left empty) without copying.
  virtual void move(Instance& other) = 0;
  // Appends the first `length` bytes of `other` (removed from it) without copying where possible.
  virtual void move(Instance& other, uint64_t length) = 0;
  virtual void prepend(absl::string_view data) = 0;
  virtual void drain(uint64_t size) = 0;
  virtual uint64_t length() const = 0;
  // Copies `size` bytes starting at `start` into `data`.
  virtual void copyOut(uint64_t start, uint64_t size, void* data) const = 0;
  // Makes the first `size` bytes contiguous and returns them (may copy).
  virtual absl::string_view linearize(uint64_t size) = 0;
  // Position of `needle` at or after `start`, or -1.
  virtual int64_t search(absl::string_view needle, uint64_t start = 0) const = 0;
  virtual std::string toString() const = 0;

  // Calls `cb` on each contiguous slice in order, without copying.
  virtual void forEachSlice(const std::function<void(absl::string_view)>& cb) const = 0;
};

using InstancePtr = std::unique_ptr<Instance>;

}  // namespace waystone::buffer
