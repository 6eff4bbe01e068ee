#include "source/extensions/filters/network/set_filter_state/set_filter_state_filter.h"

namespace waystone::extensions::network_filters::set_filter_state {

network::FilterStatus SetFilterStateFilter::onNewConnection() {
  config_->updateFilterState(formatter::Context{}, callbacks_->connection().streamInfo(),
                             "set_filter_state");
  return network::FilterStatus::Continue;
}

}  // namespace waystone::extensions::network_filters::set_filter_state
