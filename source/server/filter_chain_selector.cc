#include "source/server/filter_chain_selector.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wrappers.pb.h"

#include "source/common/matcher/cidr_range.h"
#include "source/common/matcher/ip_prefix_table.h"
#include "source/common/matcher/match_tree_factory.h"
#include "source/common/matcher/network_inputs.h"
#include "source/common/protobuf/utility.h"

namespace waystone::server {

using envoy::config::listener::v3::FilterChainMatch;
using matcher::CidrRange;
using matcher::IpAddress;
using matcher::IpPrefixTable;
using network::address::IpVersion;

namespace {

// The classic tree, level by level as in Envoy's FilterChainManagerImpl. Node-based maps keep
// references stable while the tree is built; the leaves hold indexes into filter_chains.
using SourcePortsMap = absl::flat_hash_map<uint32_t, uint32_t>;
using SourceIpsTable = IpPrefixTable<SourcePortsMap>;
// Indexed by FilterChainMatch::ConnectionSourceType (ANY, SAME_IP_OR_LOOPBACK, EXTERNAL).
struct SourceTypes {
  std::array<SourceIpsTable, 3> by_type;
};
using DirectSourceIpsTable = IpPrefixTable<SourceTypes>;
using ApplicationProtocolsMap = absl::node_hash_map<std::string, DirectSourceIpsTable>;
using TransportProtocolsMap = absl::node_hash_map<std::string, ApplicationProtocolsMap>;
// Exact names as they are, "*.example.com" as ".example.com", no names as "".
using ServerNamesMap = absl::node_hash_map<std::string, TransportProtocolsMap>;
using DestinationIpsTable = IpPrefixTable<ServerNamesMap>;

// What a filter_chain_matcher action resolves to.
class FilterChainAction : public matcher::Action {
 public:
  explicit FilterChainAction(uint32_t index) : index_(index) {}
  uint32_t index() const { return index_; }

 private:
  const uint32_t index_;
};

absl::Status error(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// Envoy matches a socket whose address is not IP (a pipe) as 255.255.255.255, which only the
// catch-all ranges (no prefix_ranges, or 0.0.0.0/0) contain.
IpAddress ipOrFake(const network::address::InstanceConstSharedPtr& address) {
  std::optional<IpAddress> ip;
  if (address != nullptr) {
    ip = IpAddress::fromAddress(*address);
  }
  return ip.has_value() ? *ip : IpAddress{IpVersion::V4, absl::uint128(0xffffffffu)};
}

}  // namespace

struct FilterChainSelector::ClassicTree {
  absl::node_hash_map<uint32_t, DestinationIpsTable> destination_ports;  // 0: any port
};

namespace {

// One chain's filter_chain_match, validated and normalized. Empty lists mean "any" and become
// the single catch-all key of their level.
struct ChainRules {
  uint32_t index = 0;
  uint32_t destination_port = 0;
  std::vector<CidrRange> destination_ips;
  std::vector<std::string> server_names;
  std::string transport_protocol;
  std::vector<std::string> application_protocols;
  std::vector<CidrRange> direct_source_ips;
  FilterChainMatch::ConnectionSourceType source_type = FilterChainMatch::ANY;
  std::vector<CidrRange> source_ips;
  std::vector<uint32_t> source_ports;
};

absl::StatusOr<std::vector<CidrRange>> parseRanges(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::CidrRange>& ranges,
    const std::string& path) {
  std::vector<CidrRange> result;
  for (int i = 0; i < ranges.size(); ++i) {
    auto range = CidrRange::fromProto(ranges.Get(i), absl::StrCat(path, "[", i, "]"));
    if (!range.ok()) {
      return range.status();
    }
    result.push_back(*range);
  }
  if (result.empty()) {
    // No ranges: every address of both families, as Envoy's catch-all entry.
    result.push_back(CidrRange::any(IpVersion::V4));
    result.push_back(CidrRange::any(IpVersion::V6));
  }
  return result;
}

absl::StatusOr<ChainRules> parseRules(const FilterChainMatch& match, uint32_t index,
                                      const std::string& path) {
  ChainRules rules;
  rules.index = index;
  if (match.has_destination_port()) {
    const uint32_t port = match.destination_port().value();
    if (port < 1 || port > 65535) {
      return error(path + ".destination_port", absl::StrCat(port, " is not a port (1-65535)"));
    }
    rules.destination_port = port;
  }
  auto destination_ips = parseRanges(match.prefix_ranges(), path + ".prefix_ranges");
  if (!destination_ips.ok()) {
    return destination_ips.status();
  }
  rules.destination_ips = std::move(*destination_ips);
  for (int i = 0; i < match.server_names_size(); ++i) {
    const std::string& name = match.server_names(i);
    const bool wildcard = absl::StartsWith(name, "*.");
    if (absl::StrContains(name, '*') && !wildcard) {
      return error(
          absl::StrCat(path, ".server_names[", i, "]"),
          absl::StrCat("partial wildcards are not supported in \"server_names\" ('", name, "')"));
    }
    // SNI is case-insensitive: Envoy lower-cases the configured names (and tls_inspector the
    // requested one). "*.example.com" is stored as ".example.com".
    rules.server_names.push_back(absl::AsciiStrToLower(wildcard ? name.substr(1) : name));
  }
  if (rules.server_names.empty()) {
    rules.server_names.emplace_back();
  }
  rules.transport_protocol = match.transport_protocol();
  rules.application_protocols.assign(match.application_protocols().begin(),
                                     match.application_protocols().end());
  if (rules.application_protocols.empty()) {
    rules.application_protocols.emplace_back();
  }
  auto direct_source_ips =
      parseRanges(match.direct_source_prefix_ranges(), path + ".direct_source_prefix_ranges");
  if (!direct_source_ips.ok()) {
    return direct_source_ips.status();
  }
  rules.direct_source_ips = std::move(*direct_source_ips);
  if (!FilterChainMatch::ConnectionSourceType_IsValid(match.source_type())) {
    return error(path + ".source_type", absl::StrCat("unknown value ", match.source_type()));
  }
  rules.source_type = match.source_type();
  auto source_ips = parseRanges(match.source_prefix_ranges(), path + ".source_prefix_ranges");
  if (!source_ips.ok()) {
    return source_ips.status();
  }
  rules.source_ips = std::move(*source_ips);
  for (int i = 0; i < match.source_ports_size(); ++i) {
    const uint32_t port = match.source_ports(i);
    if (port < 1 || port > 65535) {
      return error(absl::StrCat(path, ".source_ports[", i, "]"),
                   absl::StrCat(port, " is not a port (1-65535)"));
    }
    rules.source_ports.push_back(port);
  }
  if (rules.source_ports.empty()) {
    rules.source_ports.push_back(0);
  }
  return rules;
}

// Adds every combination of `rules` to the tree. A combination that is already taken means two
// chains (or one chain listing a value twice) claim the same connections: Envoy's "overlapping
// matching rules" error.
absl::Status addChain(FilterChainSelector::ClassicTree& tree, const ChainRules& rules,
                      const envoy::config::listener::v3::Listener& listener,
                      const std::string& path) {
  DestinationIpsTable& destination_ips = tree.destination_ports[rules.destination_port];
  for (const CidrRange& destination_ip : rules.destination_ips) {
    ServerNamesMap& server_names = destination_ips.entry(destination_ip);
    for (const std::string& server_name : rules.server_names) {
      ApplicationProtocolsMap& application_protocols =
          server_names[server_name][rules.transport_protocol];
      for (const std::string& application_protocol : rules.application_protocols) {
        DirectSourceIpsTable& direct_source_ips = application_protocols[application_protocol];
        for (const CidrRange& direct_source_ip : rules.direct_source_ips) {
          SourceIpsTable& source_ips =
              direct_source_ips.entry(direct_source_ip).by_type[rules.source_type];
          for (const CidrRange& source_ip : rules.source_ips) {
            SourcePortsMap& source_ports = source_ips.entry(source_ip);
            for (const uint32_t source_port : rules.source_ports) {
              auto [it, inserted] = source_ports.try_emplace(source_port, rules.index);
              if (!inserted) {
                const uint32_t other = it->second;
                return error(
                    path, absl::StrCat("multiple filter chains with overlapping matching rules are "
                                       "defined: filter_chains[",
                                       other, "] '", listener.filter_chains(other).name(),
                                       "' and filter_chains[", rules.index, "] '",
                                       listener.filter_chains(rules.index).name(), "'"));
              }
            }
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string deterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

absl::StatusOr<std::unique_ptr<FilterChainSelector::ClassicTree>> buildClassicTree(
    const envoy::config::listener::v3::Listener& listener, const std::string& path) {
  auto tree = std::make_unique<FilterChainSelector::ClassicTree>();
  // Identical filter_chain_match messages, reported by name first as Envoy does.
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < listener.filter_chains_size(); ++i) {
    const auto& chain = listener.filter_chains(i);
    const std::string match_path = absl::StrCat(path, ".filter_chains[", i, "].filter_chain_match");
    auto [it, inserted] = seen.try_emplace(deterministicBytes(chain.filter_chain_match()), i);
    if (!inserted) {
      return error(match_path, absl::StrCat("filter chain '", chain.name(),
                                            "' has the same matching rules defined as '",
                                            listener.filter_chains(it->second).name(),
                                            "' (filter_chains[", it->second, "])"));
    }
    auto rules = parseRules(chain.filter_chain_match(), static_cast<uint32_t>(i), match_path);
    if (!rules.ok()) {
      return rules.status();
    }
    absl::Status status = addChain(*tree, *rules, listener, match_path);
    if (!status.ok()) {
      return status;
    }
  }
  return tree;
}

// The selection functions below mirror FilterChainManagerImpl::findFilterChainFor*: at every
// level the most specific candidate is taken and its subtree's answer is final.

std::optional<uint32_t> findForSourceIpAndPort(const SourceIpsTable& table,
                                               const network::ConnectionSocket& socket) {
  const auto& remote = socket.remoteAddress();
  const SourcePortsMap* ports = table.longestMatch(ipOrFake(remote));
  if (ports == nullptr) {
    return std::nullopt;
  }
  const uint32_t port =
      remote != nullptr && remote->type() == network::address::Type::Ip ? remote->port() : 0;
  auto it = ports->find(port);
  if (it != ports->end()) {
    return it->second;
  }
  if (port != 0) {
    it = ports->find(0);
    if (it != ports->end()) {
      return it->second;
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> findForSourceType(const SourceTypes& types,
                                          const network::ConnectionSocket& socket) {
  const SourceIpsTable& local = types.by_type[FilterChainMatch::SAME_IP_OR_LOOPBACK];
  const SourceIpsTable& external = types.by_type[FilterChainMatch::EXTERNAL];
  // Only ask when some chain cares.
  const bool is_local =
      (!local.empty() || !external.empty()) && matcher::isSameIpOrLoopback(socket);
  if (is_local) {
    if (!local.empty()) {
      return findForSourceIpAndPort(local, socket);
    }
  } else if (!external.empty()) {
    return findForSourceIpAndPort(external, socket);
  }
  const SourceIpsTable& any = types.by_type[FilterChainMatch::ANY];
  if (!any.empty()) {
    return findForSourceIpAndPort(any, socket);
  }
  return std::nullopt;
}

std::optional<uint32_t> findForDirectSourceIp(const DirectSourceIpsTable& table,
                                              const network::ConnectionSocket& socket) {
  const SourceTypes* types = table.longestMatch(ipOrFake(socket.directRemoteAddress()));
  return types == nullptr ? std::nullopt : findForSourceType(*types, socket);
}

std::optional<uint32_t> findForApplicationProtocols(const ApplicationProtocolsMap& map,
                                                    const network::ConnectionSocket& socket) {
  for (const std::string& protocol : socket.requestedApplicationProtocols()) {
    auto it = map.find(protocol);
    if (it != map.end()) {
      return findForDirectSourceIp(it->second, socket);
    }
  }
  auto it = map.find("");
  return it == map.end() ? std::nullopt : findForDirectSourceIp(it->second, socket);
}

std::optional<uint32_t> findForTransportProtocol(const TransportProtocolsMap& map,
                                                 const network::ConnectionSocket& socket) {
  auto it = map.find(socket.detectedTransportProtocol());
  if (it == map.end()) {
    it = map.find("");
  }
  return it == map.end() ? std::nullopt : findForApplicationProtocols(it->second, socket);
}

std::optional<uint32_t> findForServerName(const ServerNamesMap& map,
                                          const network::ConnectionSocket& socket) {
  absl::string_view name = socket.requestedServerName();
  // tls_inspector lower-cases SNI already; fold here only if someone else set it.
  std::string lowered;
  if (std::any_of(name.begin(), name.end(), absl::ascii_isupper)) {
    lowered = absl::AsciiStrToLower(name);
    name = lowered;
  }
  auto it = map.find(name);
  if (it != map.end()) {
    return findForTransportProtocol(it->second, socket);
  }
  // Wildcards, most specific first: "www.example.com" tries ".example.com", then ".com".
  size_t pos = name.find('.', 1);
  while (pos != absl::string_view::npos && pos + 1 < name.size()) {
    it = map.find(name.substr(pos));
    if (it != map.end()) {
      return findForTransportProtocol(it->second, socket);
    }
    pos = name.find('.', pos + 1);
  }
  it = map.find("");
  return it == map.end() ? std::nullopt : findForTransportProtocol(it->second, socket);
}

std::optional<uint32_t> findForDestinationIp(const DestinationIpsTable& table,
                                             const network::ConnectionSocket& socket) {
  const ServerNamesMap* names = table.longestMatch(ipOrFake(socket.localAddress()));
  return names == nullptr ? std::nullopt : findForServerName(*names, socket);
}

std::optional<uint32_t> findClassic(const FilterChainSelector::ClassicTree& tree,
                                    const network::ConnectionSocket& socket) {
  const auto& local = socket.localAddress();
  if (local != nullptr && local->type() == network::address::Type::Ip) {
    auto it = tree.destination_ports.find(local->port());
    if (it != tree.destination_ports.end()) {
      // A chain for this very port exists: its subtree decides, port 0 is not consulted.
      return findForDestinationIp(it->second, socket);
    }
  }
  auto it = tree.destination_ports.find(0);
  return it == tree.destination_ports.end() ? std::nullopt
                                            : findForDestinationIp(it->second, socket);
}

absl::StatusOr<matcher::MatchTreePtr<network::ConnectionSocket>> buildMatcher(
    const envoy::config::listener::v3::Listener& listener, const std::string& path) {
  absl::flat_hash_map<std::string, uint32_t> chains_by_name;
  for (int i = 0; i < listener.filter_chains_size(); ++i) {
    const std::string& name = listener.filter_chains(i).name();
    const std::string name_path = absl::StrCat(path, ".filter_chains[", i, "].name");
    if (name.empty()) {
      return error(name_path, "required when the listener has a filter_chain_matcher");
    }
    auto [it, inserted] = chains_by_name.try_emplace(name, static_cast<uint32_t>(i));
    if (!inserted) {
      return error(name_path, absl::StrCat("duplicated value '", name, "' (also filter_chains[",
                                           it->second, "])"));
    }
  }
  auto actions =
      [&chains_by_name](
          const xds::core::v3::TypedExtensionConfig& action,
          const std::string& action_path) -> absl::StatusOr<matcher::ActionConstSharedPtr> {
    const std::string config_path = action_path + ".typed_config";
    const std::string type = protobuf::typeUrlOf(action.typed_config());
    google::protobuf::StringValue chain_name;
    if (type != chain_name.GetDescriptor()->full_name()) {
      return error(config_path, absl::StrCat("unsupported action type '", type,
                                             "' (a filter chain matcher's actions are "
                                             "google.protobuf.StringValue naming a filter chain)"));
    }
    absl::Status status = protobuf::unpackTo(action.typed_config(), chain_name, {}, config_path);
    if (!status.ok()) {
      return status;
    }
    auto it = chains_by_name.find(chain_name.value());
    if (it == chains_by_name.end()) {
      return error(config_path, absl::StrCat("no filter chain named '", chain_name.value(),
                                             "' in filter_chains"));
    }
    return std::make_shared<const FilterChainAction>(it->second);
  };
  matcher::MatchTreeFactory<network::ConnectionSocket> factory(matcher::networkInputFactories(),
                                                               std::move(actions));
  return factory.create(listener.filter_chain_matcher(), path + ".filter_chain_matcher");
}

}  // namespace

FilterChainSelector::~FilterChainSelector() = default;

absl::StatusOr<std::unique_ptr<const FilterChainSelector>> FilterChainSelector::create(
    const envoy::config::listener::v3::Listener& listener, const std::string& path) {
  // Envoy rejects these fields in every mode.
  for (int i = 0; i < listener.filter_chains_size(); ++i) {
    const FilterChainMatch& match = listener.filter_chains(i).filter_chain_match();
    if (!match.address_suffix().empty() || match.has_suffix_len()) {
      return error(absl::StrCat(path, ".filter_chains[", i, "].filter_chain_match"),
                   absl::StrCat("filter chain '", listener.filter_chains(i).name(),
                                "' contains unimplemented fields (address_suffix, suffix_len)"));
    }
  }
  std::unique_ptr<FilterChainSelector> selector(new FilterChainSelector());
  selector->has_default_ = listener.has_default_filter_chain();
  if (listener.has_filter_chain_matcher()) {
    auto tree = buildMatcher(listener, path);
    if (!tree.ok()) {
      return tree.status();
    }
    selector->matcher_ = std::move(*tree);
  } else {
    auto tree = buildClassicTree(listener, path);
    if (!tree.ok()) {
      return tree.status();
    }
    selector->classic_ = std::move(*tree);
  }
  return std::unique_ptr<const FilterChainSelector>(std::move(selector));
}

FilterChainSelection FilterChainSelector::select(const network::ConnectionSocket& socket) const {
  std::optional<uint32_t> index;
  if (matcher_ != nullptr) {
    // Every action in this tree was made by buildMatcher()'s factory.
    if (const matcher::Action* action = matcher_->match(socket)) {
      index = static_cast<const FilterChainAction*>(action)->index();
    }
  } else {
    index = findClassic(*classic_, socket);
  }
  if (index.has_value()) {
    return FilterChainSelection::chain(*index);
  }
  return has_default_ ? FilterChainSelection::defaultChain() : FilterChainSelection::none();
}

}  // namespace waystone::server
