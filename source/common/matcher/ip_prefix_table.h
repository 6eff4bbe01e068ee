#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/numeric/int128.h"

#include "source/common/matcher/cidr_range.h"

namespace waystone::matcher {

// Values keyed by CIDR range, looked up by address, longest prefix first. One hash map per
// prefix length in use: a lookup masks the address once per length (a handful in practice, one
// for istiod's /32 VIPs), so it costs no allocation and no scan over the ranges.
//
// Built once on the main thread, then read concurrently (const lookups only).
template <class T>
class IpPrefixTable {
 public:
  // The value stored for exactly `range`, default-constructed on first use. References stay valid
  // as more ranges are added (node-based maps).
  T& entry(const CidrRange& range) {
    std::vector<Level>& levels = levels_[index(range.version())];
    auto it = std::find_if(levels.begin(), levels.end(), [&](const Level& level) {
      return level.prefix_len <= range.prefixLen();
    });
    if (it == levels.end() || it->prefix_len != range.prefixLen()) {
      it = levels.insert(it, Level{range.prefixLen(), {}});
    }
    return it->entries[range.bits()];
  }

  // The value of exactly `range`, or nullptr.
  const T* find(const CidrRange& range) const {
    for (const Level& level : levels_[index(range.version())]) {
      if (level.prefix_len == range.prefixLen()) {
        auto it = level.entries.find(range.bits());
        return it == level.entries.end() ? nullptr : &it->second;
      }
    }
    return nullptr;
  }

  // Calls `f(const T&, uint32_t prefix_len)` for every range containing `address`, longest prefix
  // first, until `f` returns true. Returns whether some call returned true.
  template <class F>
  bool forEachMatch(const IpAddress& address, F&& f) const {
    for (const Level& level : levels_[index(address.version)]) {
      auto it =
          level.entries.find(CidrRange::mask(address.bits, address.version, level.prefix_len));
      if (it != level.entries.end() && f(it->second, level.prefix_len)) {
        return true;
      }
    }
    return false;
  }

  // The value of the longest range containing `address`, or nullptr.
  const T* longestMatch(const IpAddress& address) const {
    const T* found = nullptr;
    forEachMatch(address, [&](const T& value, uint32_t) {
      found = &value;
      return true;
    });
    return found;
  }

  bool empty() const { return levels_[0].empty() && levels_[1].empty(); }

  // Calls `f(const T&)` for every stored value (any order).
  template <class F>
  void forEachValue(F&& f) const {
    for (const auto& levels : levels_) {
      for (const Level& level : levels) {
        for (const auto& [bits, value] : level.entries) {
          f(value);
        }
      }
    }
  }

 private:
  struct Level {
    uint32_t prefix_len;
    absl::node_hash_map<absl::uint128, T> entries;  // masked network address -> value
  };

  static int index(network::address::IpVersion version) {
    return version == network::address::IpVersion::V4 ? 0 : 1;
  }

  // Per IP version, longest prefix first.
  std::vector<Level> levels_[2];
};

}  // namespace waystone::matcher
