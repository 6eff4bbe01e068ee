#pragma once

#include "source/upstream/load_balancer/load_balancer_context.h"

namespace waystone::upstream::lb {

// A context with no hash, no retry predicate and no retries; callers override what they have.
class LoadBalancerContextBase : public LoadBalancerContext {
 public:
  std::optional<uint64_t> computeHashKey() override { return std::nullopt; }
  bool shouldSelectAnotherHost(const Host&) override { return false; }
  uint32_t hostSelectionRetryCount() const override { return 0; }
};

}  // namespace waystone::upstream::lb
