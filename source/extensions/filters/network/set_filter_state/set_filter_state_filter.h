#pragma once

#include "source/common/network/filter.h"
#include "source/extensions/filters/common/set_filter_state/set_filter_state_config.h"

namespace waystone::extensions::network_filters::set_filter_state {

// envoy.filters.network.set_filter_state: when a connection is accepted, formats each
// configured value against the connection's own stream info (addresses, TLS facts, the filter
// state and dynamic metadata that listener filters or the previous internal hop left) and sets
// it on the connection's filter state, which every later filter and every request on the
// connection sees. Header operators (%REQ(...)%) have nothing to read here and give "-".
class SetFilterStateFilter final : public network::ReadFilter {
 public:
  explicit SetFilterStateFilter(
      common_filters::set_filter_state::SetFilterStateConfigConstSharedPtr config)
      : config_(std::move(config)) {}

  // network::ReadFilter
  void initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) override {
    callbacks_ = &callbacks;
  }
  network::FilterStatus onNewConnection() override;
  network::FilterStatus onData(buffer::Instance&, bool) override {
    return network::FilterStatus::Continue;
  }

 private:
  const common_filters::set_filter_state::SetFilterStateConfigConstSharedPtr config_;
  network::ReadFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace waystone::extensions::network_filters::set_filter_state
