#pragma once

#include <string>
#include <utility>

namespace waystone::stats {

// What every stat has: its full Envoy dotted name, fixed at creation. Metrics are created only
// by a Store, which owns them and never moves them, so callers may keep references.
class Metric {
 public:
  Metric(const Metric&) = delete;
  Metric& operator=(const Metric&) = delete;

  const std::string& name() const { return name_; }

 protected:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  ~Metric() = default;

 private:
  const std::string name_;
};

}  // namespace waystone::stats
