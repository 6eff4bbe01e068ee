#include "source/common/formatter/command_parser.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "source/common/formatter/header_provider.h"
#include "source/common/formatter/stream_info_formatters.h"

namespace waystone::formatter {
namespace {

using stream_info::StreamInfo;

// Envoy's CommandSyntaxChecker flags.
enum Syntax : unsigned {
  kCommandOnly = 0,
  kParamsRequired = 1u << 0,
  kParamsOptional = 1u << 1,
  kLengthAllowed = 1u << 2,
};

using CreateFn = std::function<absl::StatusOr<FormatterProviderPtr>(
    absl::string_view argument, std::optional<size_t> max_length)>;

struct Command {
  unsigned syntax;
  CreateFn create;
};

template <class T, class... Args>
absl::StatusOr<FormatterProviderPtr> make(Args&&... args) {
  return FormatterProviderPtr(std::make_unique<T>(std::forward<Args>(args)...));
}

CreateFn string(StringProvider::AppendFn fn) {
  return [fn](absl::string_view, std::optional<size_t>) { return make<StringProvider>(fn); };
}

CreateFn number(NumberProvider::GetFn fn) {
  return [fn](absl::string_view, std::optional<size_t>) { return make<NumberProvider>(fn); };
}

CreateFn address(AddressProvider::GetFn fn, AddressProvider::Part part) {
  return [fn, part](absl::string_view, std::optional<size_t>) {
    return make<AddressProvider>(fn, part);
  };
}

CreateFn unavailable() {
  return [](absl::string_view, std::optional<size_t>) { return make<UnavailableProvider>(); };
}

bool appendNonEmpty(absl::string_view text, std::string& out) {
  if (text.empty()) {
    return false;
  }
  out.append(text.data(), text.size());
  return true;
}

// A fact of the downstream TLS connection; missing on plain connections and when empty.
template <absl::string_view (tls::ConnectionInfo::*Getter)() const>
bool sslString(const Context&, const StreamInfo& info, std::string& out) {
  return info.downstream_ssl != nullptr && appendNonEmpty((info.downstream_ssl->*Getter)(), out);
}

// A list of SANs, comma-joined as Envoy does.
template <const std::vector<std::string>& (tls::ConnectionInfo::*Getter)() const>
bool sslList(const Context&, const StreamInfo& info, std::string& out) {
  if (info.downstream_ssl == nullptr) {
    return false;
  }
  const std::vector<std::string>& list = (info.downstream_ssl->*Getter)();
  if (list.empty()) {
    return false;
  }
  absl::StrAppend(&out, absl::StrJoin(list, ","));
  return true;
}

const network::address::InstanceConstSharedPtr& remoteAddress(const StreamInfo& info) {
  return info.downstream_remote_address;
}
const network::address::InstanceConstSharedPtr& localAddress(const StreamInfo& info) {
  return info.downstream_local_address;
}
const network::address::InstanceConstSharedPtr& upstreamHost(const StreamInfo& info) {
  return info.upstream_host_address;
}

std::optional<std::string> hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) {
    return std::nullopt;
  }
  return std::string(name);
}

// Header names as Envoy accepts them in %REQ()%: tokens, or a pseudo-header (":path").
bool validHeaderName(absl::string_view name) {
  if (name.empty()) {
    return false;
  }
  if (name[0] == ':') {
    name.remove_prefix(1);
    if (name.empty()) {
      return false;
    }
  }
  for (const char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f ||
        absl::string_view("\"(),/:;<=>?@[\\]{}").find(c) != absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

CreateFn header(HeaderProvider::Source source) {
  return [source](absl::string_view argument,
                  std::optional<size_t> max_length) -> absl::StatusOr<FormatterProviderPtr> {
    const std::vector<absl::string_view> names = absl::StrSplit(argument, '?');
    if (names.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than one alternative header in \"", argument, "\""));
    }
    const absl::string_view main = names[0];
    const absl::string_view alternative = names.size() == 2 ? names[1] : absl::string_view();
    if (!validHeaderName(main) || (names.size() == 2 && !validHeaderName(alternative))) {
      return absl::InvalidArgumentError(absl::StrCat("invalid header name in \"", argument, "\""));
    }
    return make<HeaderProvider>(source, main, alternative, max_length);
  };
}

absl::StatusOr<FormatterProviderPtr> filterState(absl::string_view argument,
                                                 std::optional<size_t> max_length) {
  const std::vector<absl::string_view> parts = absl::StrSplit(argument, ':');
  const absl::string_view key = parts[0];
  if (key.empty()) {
    return absl::InvalidArgumentError("the filter state key must not be empty");
  }
  const absl::string_view type = parts.size() > 1 ? parts[1] : "TYPED";
  if (type == "FIELD") {
    return absl::InvalidArgumentError(
        "FIELD is not supported: Waystone's filter state objects have no fields (use PLAIN or "
        "TYPED)");
  }
  if (type != "PLAIN" && type != "TYPED") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown serialization \"", type, "\" (expected PLAIN or TYPED)"));
  }
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected \":", parts[2], "\" after ", type,
                                                   " (the key cannot contain ':')"));
  }
  return make<FilterStateProvider>(std::string(key), type == "PLAIN", max_length);
}

absl::StatusOr<FormatterProviderPtr> dynamicMetadata(absl::string_view argument,
                                                     std::optional<size_t> max_length) {
  std::vector<std::string> parts = absl::StrSplit(argument, ':');
  if (parts[0].empty()) {
    return absl::InvalidArgumentError("the metadata namespace must not be empty");
  }
  std::string filter_namespace = std::move(parts[0]);
  parts.erase(parts.begin());
  return make<DynamicMetadataProvider>(std::move(filter_namespace), std::move(parts), max_length);
}

absl::StatusOr<FormatterProviderPtr> startTime(absl::string_view argument, std::optional<size_t>) {
  absl::StatusOr<DateFormatter> formatter = DateFormatter::create(argument);
  if (!formatter.ok()) {
    return formatter.status();
  }
  return make<StartTimeProvider>(std::move(*formatter));
}

absl::StatusOr<FormatterProviderPtr> environment(absl::string_view argument,
                                                 std::optional<size_t> max_length) {
  const char* value = std::getenv(std::string(argument).c_str());
  if (value == nullptr) {
    return make<ConstantProvider>(std::nullopt);
  }
  std::string text = value;
  if (max_length.has_value() && text.size() > *max_length) {
    text.resize(*max_length);
  }
  return make<ConstantProvider>(std::move(text));
}

absl::StatusOr<FormatterProviderPtr> responseCodeDetails(absl::string_view argument,
                                                         std::optional<size_t>) {
  if (argument == "ALLOW_WHITESPACES") {
    return make<StringProvider>([](const Context&, const StreamInfo& info, std::string& out) {
      return appendNonEmpty(info.response_code_details, out);
    });
  }
  if (!argument.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown option \"", argument, "\" (expected ALLOW_WHITESPACES)"));
  }
  // Envoy replaces whitespace with '_' so the details stay one log field.
  return make<StringProvider>([](const Context&, const StreamInfo& info, std::string& out) {
    if (info.response_code_details.empty()) {
      return false;
    }
    for (const char c : info.response_code_details) {
      out.push_back(absl::ascii_isspace(static_cast<unsigned char>(c)) ? '_' : c);
    }
    return true;
  });
}

const absl::flat_hash_map<absl::string_view, Command>& commands() {
  using Part = AddressProvider::Part;
  static const auto* table = new absl::flat_hash_map<absl::string_view, Command>{
      // Addresses.
      {"DOWNSTREAM_REMOTE_ADDRESS", {kCommandOnly, address(remoteAddress, Part::WithPort)}},
      {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
       {kCommandOnly, address(remoteAddress, Part::WithoutPort)}},
      {"DOWNSTREAM_REMOTE_PORT", {kCommandOnly, address(remoteAddress, Part::JustPort)}},
      {"DOWNSTREAM_LOCAL_ADDRESS", {kCommandOnly, address(localAddress, Part::WithPort)}},
      {"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
       {kCommandOnly, address(localAddress, Part::WithoutPort)}},
      {"DOWNSTREAM_LOCAL_PORT", {kCommandOnly, address(localAddress, Part::JustPort)}},
      {"UPSTREAM_HOST", {kCommandOnly, address(upstreamHost, Part::WithPort)}},
      // Downstream TLS.
      {"DOWNSTREAM_PEER_URI_SAN",
       {kCommandOnly, string(sslList<&tls::ConnectionInfo::peerUriSans>)}},
      {"DOWNSTREAM_PEER_DNS_SAN",
       {kCommandOnly, string(sslList<&tls::ConnectionInfo::peerDnsSans>)}},
      {"DOWNSTREAM_LOCAL_URI_SAN",
       {kCommandOnly, string(sslString<&tls::ConnectionInfo::localUriSan>)}},
      {"DOWNSTREAM_PEER_SUBJECT",
       {kCommandOnly, string(sslString<&tls::ConnectionInfo::peerSubject>)}},
      {"DOWNSTREAM_PEER_FINGERPRINT_256",
       {kCommandOnly, string(sslString<&tls::ConnectionInfo::peerCertificateSha256>)}},
      {"DOWNSTREAM_TLS_VERSION",
       {kCommandOnly, string(sslString<&tls::ConnectionInfo::tlsVersion>)}},
      {"DOWNSTREAM_TLS_CIPHER",
       {kCommandOnly, string(sslString<&tls::ConnectionInfo::cipherSuite>)}},
      {"REQUESTED_SERVER_NAME", {kCommandOnly, string(sslString<&tls::ConnectionInfo::sni>)}},
      // Strings of the stream info.
      {"PROTOCOL",
       {kCommandOnly, string([](const Context&, const StreamInfo& info, std::string& out) {
          return info.protocol.has_value() && appendNonEmpty(*info.protocol, out);
        })}},
      {"RESPONSE_CODE_DETAILS", {kParamsOptional, responseCodeDetails}},
      {"RESPONSE_FLAGS",
       {kCommandOnly, string([](const Context&, const StreamInfo& info, std::string& out) {
          if (info.response_flags == 0) {
            return false;
          }
          out.append(stream_info::responseFlagsToString(info.response_flags));
          return true;
        })}},
      {"UPSTREAM_CLUSTER",
       {kCommandOnly, string([](const Context&, const StreamInfo& info, std::string& out) {
          return appendNonEmpty(info.upstream_cluster, out);
        })}},
      {"UPSTREAM_CLUSTER_RAW",
       {kCommandOnly, string([](const Context&, const StreamInfo& info, std::string& out) {
          return appendNonEmpty(info.upstream_cluster, out);
        })}},
      {"ROUTE_NAME",
       {kCommandOnly, string([](const Context&, const StreamInfo& info, std::string& out) {
          return appendNonEmpty(info.route_name, out);
        })}},
      {"STREAM_ID",
       {kCommandOnly, string([](const Context&, const StreamInfo& info, std::string& out) {
          return appendNonEmpty(info.request_id, out);
        })}},
      {"LOCAL_REPLY_BODY",
       {kCommandOnly, string([](const Context& context, const StreamInfo&, std::string& out) {
          out.append(context.local_reply_body.data(), context.local_reply_body.size());
          return true;
        })}},
      // Numbers.
      {"RESPONSE_CODE", {kCommandOnly, number([](const StreamInfo& info) {
                           return std::optional<uint64_t>(info.response_code.value_or(0));
                         })}},
      {"BYTES_RECEIVED", {kCommandOnly, number([](const StreamInfo& info) {
                            return std::optional<uint64_t>(info.bytes_received);
                          })}},
      {"BYTES_SENT", {kCommandOnly, number([](const StreamInfo& info) {
                        return std::optional<uint64_t>(info.bytes_sent);
                      })}},
      // Milliseconds: the final duration, or so far while the stream is still going (Envoy's
      // currentDuration()).
      {"DURATION", {kCommandOnly, number([](const StreamInfo& info) {
                      const std::chrono::nanoseconds duration =
                          info.duration.has_value()
                              ? *info.duration
                              : std::chrono::steady_clock::now() - info.start_time_monotonic;
                      return std::optional<uint64_t>(std::max<int64_t>(
                          0,
                          std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()));
                    })}},
      {"START_TIME", {kParamsOptional, startTime}},
      // Headers.
      {"REQ", {kParamsRequired | kLengthAllowed, header(HeaderProvider::Source::RequestHeaders)}},
      {"RESP", {kParamsRequired | kLengthAllowed, header(HeaderProvider::Source::ResponseHeaders)}},
      {"TRAILER",
       {kParamsRequired | kLengthAllowed, header(HeaderProvider::Source::ResponseTrailers)}},
      // Filter state and metadata.
      {"FILTER_STATE", {kParamsRequired | kLengthAllowed, filterState}},
      {"DYNAMIC_METADATA", {kParamsRequired | kLengthAllowed, dynamicMetadata}},
      // Fixed when config loads.
      {"HOSTNAME",
       {kCommandOnly, [](absl::string_view,
                         std::optional<size_t>) { return make<ConstantProvider>(hostname()); }}},
      {"ENVIRONMENT", {kParamsRequired | kLengthAllowed, environment}},
      // Known to Envoy, not recorded by Waystone's StreamInfo yet: always "-".
      {"CONNECTION_TERMINATION_DETAILS", {kCommandOnly, unavailable()}},
      {"UPSTREAM_TRANSPORT_FAILURE_REASON", {kCommandOnly, unavailable()}},
      {"DOWNSTREAM_TRANSPORT_FAILURE_REASON", {kCommandOnly, unavailable()}},
      {"UPSTREAM_LOCAL_ADDRESS", {kCommandOnly, unavailable()}},
      {"UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", {kCommandOnly, unavailable()}},
      {"UPSTREAM_LOCAL_PORT", {kCommandOnly, unavailable()}},
      {"REQUEST_DURATION", {kCommandOnly, unavailable()}},
      {"REQUEST_TX_DURATION", {kCommandOnly, unavailable()}},
      {"RESPONSE_DURATION", {kCommandOnly, unavailable()}},
      {"RESPONSE_TX_DURATION", {kCommandOnly, unavailable()}},
  };
  return *table;
}

}  // namespace

absl::StatusOr<FormatterProviderPtr> CommandParser::parse(absl::string_view command,
                                                          std::optional<absl::string_view> argument,
                                                          std::optional<size_t> max_length) {
  const auto& table = commands();
  const auto it = table.find(command);
  if (it == table.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown command \"%", command, "%\""));
  }
  const unsigned syntax = it->second.syntax;
  const absl::string_view arg = argument.value_or("");
  if (syntax == kCommandOnly && !arg.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("%", command, "% takes no argument"));
  }
  if ((syntax & kParamsRequired) != 0 && arg.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("%", command, "% needs an argument: %", command, "(...)%"));
  }
  if ((syntax & kLengthAllowed) == 0 && max_length.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("%", command, "% takes no length limit"));
  }
  absl::StatusOr<FormatterProviderPtr> provider = it->second.create(arg, max_length);
  if (!provider.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("%", command, "(", arg, ")%: ", provider.status().message()));
  }
  return provider;
}

std::vector<std::string> CommandParser::knownCommands() {
  std::vector<std::string> names;
  for (const auto& [name, command] : commands()) {
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace waystone::formatter
