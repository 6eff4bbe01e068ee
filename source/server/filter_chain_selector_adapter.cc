#include "source/server/filter_chain_selector_adapter.h"

#include <memory>

#include "source/server/filter_chain_selector.h"

namespace waystone::server {

absl::StatusOr<FilterChainSelectorAdapter::Selector> FilterChainSelectorAdapter::create(
    const envoy::config::listener::v3::Listener& proto, const std::string& path) {
  auto created = FilterChainSelector::create(proto, path);
  if (!created.ok()) {
    return created.status();
  }
  std::shared_ptr<const FilterChainSelector> selector = std::move(*created);
  const size_t configured = static_cast<size_t>(proto.filter_chains_size());
  const bool has_default = proto.has_default_filter_chain();
  return Selector([selector, configured, has_default](
                      const std::vector<FilterChain>& chains,
                      const network::ConnectionSocket& socket) -> const FilterChain* {
    const FilterChainSelection selection = selector->select(socket);
    switch (selection.kind) {
      case FilterChainSelection::Kind::Chain:
        return selection.index < configured ? &chains[selection.index] : nullptr;
      case FilterChainSelection::Kind::Default:
        return has_default ? &chains.back() : nullptr;
      case FilterChainSelection::Kind::None:
        break;
    }
    return nullptr;
  });
}

}  // namespace waystone::server
