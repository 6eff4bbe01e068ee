#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "source/common/stats/metric.h"

namespace waystone::stats {

// A string-valued stat (e.g. server.version). Set rarely, so a mutex is fine here.
class TextReadout : public Metric {
 public:
  explicit TextReadout(std::string name) : Metric(std::move(name)) {}

  void set(absl::string_view value) {
    absl::MutexLock lock(&mutex_);
    value_.assign(value.data(), value.size());
    used_ = true;
  }
  std::string value() const {
    absl::MutexLock lock(&mutex_);
    return value_;
  }
  bool used() const {
    absl::MutexLock lock(&mutex_);
    return used_;
  }

 private:
  mutable absl::Mutex mutex_;
  std::string value_ ABSL_GUARDED_BY(mutex_);
  bool used_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace waystone::stats
