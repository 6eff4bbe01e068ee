#pragma once

#include <memory>

namespace waystone::matcher {

// The result of a successful match (Envoy's Matcher::Action). Each user of the matcher defines
// its own action types and creates them through its action factory, so it knows the dynamic
// type of every action its trees can return and may static_cast.
class Action {
 public:
  virtual ~Action() = default;
};

using ActionConstSharedPtr = std::shared_ptr<const Action>;

}  // namespace waystone::matcher
