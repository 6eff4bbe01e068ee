#include "source/server/listener_manager.h"

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/network/address_proto.h"
#include "source/extensions/transport_sockets/transport_socket_config.h"
#include "source/server/filter_chain_selector_adapter.h"
#include "source/server/listener_filter_predicate.h"
#include "source/server/listener_filter_registry.h"

namespace waystone::server {

ListenerManager::ListenerManager(stats::Store& store, uint32_t concurrency, bool bind_sockets)
    : store_(store),
      concurrency_(concurrency),
      bind_sockets_(bind_sockets),
      total_listeners_active_(store.gaugeFromString("listener_manager.total_listeners_active")),
      listener_added_(store.counterFromString("listener_manager.listener_added")),
      listener_create_success_(store.counterFromString("listener_manager.listener_create_success")),
      lds_update_success_(store.counterFromString("listener_manager.lds.update_success")) {
  // Exist from the start (at zero) so readiness probes can read them.
  store.counterFromString("listener_manager.lds.update_rejected");
  store.counterFromString("listener_manager.lds.update_attempt");
}

absl::Status ListenerManager::addStaticListeners(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, FactoryContext& context) {
  for (const auto& extension : bootstrap.bootstrap_extensions()) {
    if (protobuf::typeUrlOf(extension.typed_config()) ==
        "envoy.extensions.bootstrap.internal_listener.v3.InternalListener") {
      internal_listeners_enabled_ = true;
    }
  }
  const auto& listeners = bootstrap.static_resources().listeners();
  for (int i = 0; i < listeners.size(); ++i) {
    absl::Status status =
        addListener(listeners[i], absl::StrCat("static_resources.listeners[", i, "]"), context);
    if (!status.ok()) {
      listeners_.clear();
      return status;
    }
  }
  // Static config counts as one successful LDS update, as in Envoy; pilot-agent's readiness
  // check needs it to be > 0.
  lds_update_success_.inc();
  store_.counterFromString("listener_manager.lds.update_attempt").inc();
  return absl::OkStatus();
}

absl::StatusOr<FilterChain> ListenerManager::buildFilterChain(
    const envoy::config::listener::v3::FilterChain& chain, const std::string& path, bool internal,
    FactoryContext& context) {
  FilterChain built;
  built.name = chain.name();
  if (chain.has_transport_socket()) {
    auto factory = extensions::transport_sockets::createServerTransportFactory(
        chain.transport_socket(), context.load_options, absl::StrCat(path, ".transport_socket"));
    if (!factory.ok()) {
      return factory.status();
    }
    if (internal && *factory != nullptr) {
      return absl::UnimplementedError(
          absl::StrCat(path, ".transport_socket: TLS on an internal listener is not supported"));
    }
    built.transport_factory = std::move(*factory);
  }
  for (int j = 0; j < chain.filters_size(); ++j) {
    const auto& filter = chain.filters(j);
    const std::string filter_path = absl::StrCat(path, ".filters[", j, "]");
    if (!filter.has_typed_config()) {
      return absl::InvalidArgumentError(
          absl::StrCat(filter_path, ".typed_config: required (filter \"", filter.name(), "\")"));
    }
    const std::string type = protobuf::typeUrlOf(filter.typed_config());
    const NetworkFilterConfigFactory* factory = FilterRegistry::get().networkFilter(type);
    if (factory == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(filter_path, ".typed_config: unsupported network filter type \"", type,
                       "\" (name \"", filter.name(), "\")"));
    }
    auto cb =
        (*factory)(filter.typed_config(), context, absl::StrCat(filter_path, ".typed_config"));
    if (!cb.ok()) {
      return cb.status();
    }
    built.filter_factories.push_back(std::move(*cb));
  }
  return built;
}

absl::Status ListenerManager::addListener(const envoy::config::listener::v3::Listener& proto,
                                          const std::string& path, FactoryContext& context) {
  const bool internal = proto.has_internal_listener();
  if (proto.has_use_original_dst() && proto.use_original_dst().value()) {
    return absl::UnimplementedError(absl::StrCat(
        path,
        ".use_original_dst: not supported (use the envoy.filters.listener.original_dst "
        "listener filter)"));
  }
  network::address::InstanceConstSharedPtr address;
  if (internal) {
    if (proto.has_address()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".address: an internal listener has no address"));
    }
    if (!internal_listeners_enabled_) {
      // Envoy's rule: internal listeners exist only with the bootstrap extension.
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ".internal_listener: internal listeners need the bootstrap extension "
                       "envoy.bootstrap.internal_listener (bootstrap_extensions)"));
    }
    if (proto.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".name: an internal listener needs a name (clients find it by it)"));
    }
    address = network::address::envoyInternal(proto.name(), "");
  } else {
    auto parsed = network::address::fromProto(proto.address());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".address.", parsed.status().message()));
    }
    address = *std::move(parsed);
  }

  ListenerConfig::Parts parts;
  for (int i = 0; i < proto.listener_filters_size(); ++i) {
    const auto& filter = proto.listener_filters(i);
    const std::string filter_path = absl::StrCat(path, ".listener_filters[", i, "]");
    if (!filter.has_typed_config()) {
      return absl::InvalidArgumentError(absl::StrCat(
          filter_path, ".typed_config: required (listener filter \"", filter.name(), "\")"));
    }
    const std::string type = protobuf::typeUrlOf(filter.typed_config());
    const ListenerFilterConfigFactory* factory = ListenerFilterRegistry::get().find(type);
    if (factory == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(filter_path, ".typed_config: unsupported listener filter type \"", type,
                       "\" (name \"", filter.name(), "\")"));
    }
    auto cb = (*factory)(filter.typed_config(), context.load_options,
                         absl::StrCat(filter_path, ".typed_config"));
    if (!cb.ok()) {
      return cb.status();
    }
    ListenerFilterConfig config{filter.name(), std::move(*cb), nullptr};
    if (filter.has_filter_disabled()) {
      auto disabled = compileListenerFilterPredicate(filter.filter_disabled(),
                                                     filter_path + ".filter_disabled");
      if (!disabled.ok()) {
        return disabled.status();
      }
      config.disabled = std::move(*disabled);
    }
    parts.listener_filters.push_back(std::move(config));
  }
  for (int i = 0; i < proto.filter_chains_size(); ++i) {
    auto chain = buildFilterChain(proto.filter_chains(i),
                                  absl::StrCat(path, ".filter_chains[", i, "]"), internal, context);
    if (!chain.ok()) {
      return chain.status();
    }
    parts.filter_chains.push_back(std::move(*chain));
  }
  if (proto.has_default_filter_chain()) {
    auto chain = buildFilterChain(proto.default_filter_chain(), path + ".default_filter_chain",
                                  internal, context);
    if (!chain.ok()) {
      return chain.status();
    }
    parts.filter_chains.push_back(std::move(*chain));
  }
  auto selector = FilterChainSelectorAdapter::create(proto, path);
  if (!selector.ok()) {
    return selector.status();
  }
  parts.selector = std::move(*selector);

  ActiveListenerInfo info;
  info.bound_address = address;
  // Bind the first socket, then bind the others to the port it got (port 0 case). Internal
  // listeners have no socket: each worker registers them by name.
  network::address::InstanceConstSharedPtr bind_address = address;
  const uint32_t sockets = !bind_sockets_ || internal                      ? 0
                           : address->type() == network::address::Type::Ip ? concurrency_
                                                                           : 1;
  for (uint32_t w = 0; w < sockets; ++w) {
    auto socket = network::ListenSocket::create(bind_address, network::ListenSocketOptions{});
    if (!socket.ok()) {
      return absl::UnavailableError(absl::StrCat(path, ".address: ", socket.status().message()));
    }
    if (w == 0) {
      bind_address = (*socket)->localAddress();
      info.bound_address = bind_address;
    }
    info.sockets.push_back(std::move(*socket));
  }
  // Internal listeners have no address to name them by: their stats use the listener name.
  auto scope = store_.createScope(absl::StrCat(
      "listener.",
      internal ? proto.name() : ListenerConfig::statPrefixFor(proto, *info.bound_address), "."));
  info.config = std::make_shared<const ListenerConfig>(proto, info.bound_address, std::move(parts),
                                                       std::move(scope));
  if (bind_sockets_) {
    WAYSTONE_LOG(info, config, "listener '%s' bound to %s", proto.name(),
                 info.bound_address->asString());
  }
  listeners_.push_back(std::move(info));
  listener_added_.inc();
  listener_create_success_.add(concurrency_);
  return absl::OkStatus();
}

void ListenerManager::startWorkers(std::vector<WorkerPtr>& workers) {
  for (size_t w = 0; w < workers.size(); ++w) {
    for (const auto& info : listeners_) {
      // Pipes have one shared socket; IP listeners one per worker.
      auto socket = info.sockets.empty()       ? nullptr
                    : info.sockets.size() == 1 ? info.sockets[0]
                                               : info.sockets[w];
      workers[w]->addListener(info.config, socket);
    }
  }
  total_listeners_active_.set(listeners_.size());
}

void ListenerManager::stopListeners(std::vector<WorkerPtr>& workers) {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  for (auto& worker : workers) {
    worker->stopListeners(nullptr);
  }
  // Each socket closes when its last holder lets go: here, and on each worker after it has
  // unregistered the socket from its own event loop (closing it under a live registration
  // could confuse the worker's epoll set if the descriptor number were reused).
  for (auto& info : listeners_) {
    info.sockets.clear();
  }
  total_listeners_active_.set(0);
}

}  // namespace waystone::server
