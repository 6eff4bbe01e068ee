#include "source/common/matcher/network_inputs.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/extensions/matching/common_inputs/network/v3/network_inputs.pb.h"

#include "source/common/matcher/cidr_range.h"

namespace waystone::matcher {

namespace inputs = envoy::extensions::matching::common_inputs::network::v3;
using network::ConnectionSocket;
using network::address::Instance;
using network::address::IpVersion;
using network::address::Type;

namespace {

// Which of the socket's addresses an address input reads.
enum class Which { Local, Remote, DirectRemote };

const Instance* addressOf(const ConnectionSocket& socket, Which which) {
  switch (which) {
    case Which::Local:
      return socket.localAddress().get();
    case Which::Remote:
      return socket.remoteAddress().get();
    case Which::DirectRemote:
      return socket.directRemoteAddress().get();
  }
  return nullptr;
}

// DestinationIPInput, SourceIPInput, DirectSourceIPInput. The address's own text is a view:
// the socket holds the address for the whole match.
class IpInput : public DataInput<ConnectionSocket> {
 public:
  explicit IpInput(Which which) : which_(which) {}
  InputValue get(const ConnectionSocket& socket) const override {
    const Instance* address = addressOf(socket, which_);
    if (address == nullptr || address->type() != Type::Ip) {
      return InputValue();
    }
    return InputValue::view(address->ipString());
  }

 private:
  const Which which_;
};

// DestinationPortInput, SourcePortInput. At most five digits: fits the string's inline buffer.
class PortInput : public DataInput<ConnectionSocket> {
 public:
  explicit PortInput(Which which) : which_(which) {}
  InputValue get(const ConnectionSocket& socket) const override {
    const Instance* address = addressOf(socket, which_);
    if (address == nullptr || address->type() != Type::Ip) {
      return InputValue();
    }
    return InputValue::owned(absl::StrCat(address->port()));
  }

 private:
  const Which which_;
};

class SourceTypeInput : public DataInput<ConnectionSocket> {
 public:
  InputValue get(const ConnectionSocket& socket) const override {
    return isSameIpOrLoopback(socket) ? InputValue::view("local") : InputValue();
  }
};

class ServerNameInput : public DataInput<ConnectionSocket> {
 public:
  InputValue get(const ConnectionSocket& socket) const override {
    const absl::string_view name = socket.requestedServerName();
    return name.empty() ? InputValue() : InputValue::view(name);
  }
};

class TransportProtocolInput : public DataInput<ConnectionSocket> {
 public:
  InputValue get(const ConnectionSocket& socket) const override {
    const absl::string_view protocol = socket.detectedTransportProtocol();
    return protocol.empty() ? InputValue() : InputValue::view(protocol);
  }
};

class ApplicationProtocolInput : public DataInput<ConnectionSocket> {
 public:
  InputValue get(const ConnectionSocket& socket) const override {
    const std::vector<std::string>& protocols = socket.requestedApplicationProtocols();
    if (protocols.empty()) {
      return InputValue();
    }
    // Envoy's spelling: each protocol in single quotes, joined by commas.
    std::string joined;
    for (const std::string& protocol : protocols) {
      absl::StrAppend(&joined, joined.empty() ? "'" : ",'", protocol, "'");
    }
    return InputValue::owned(std::move(joined));
  }
};

class FilterStateInput : public DataInput<ConnectionSocket> {
 public:
  explicit FilterStateInput(std::string key) : key_(std::move(key)) {}
  InputValue get(const ConnectionSocket& socket) const override {
    const auto& filter_state = socket.streamInfo().filter_state;
    if (filter_state == nullptr) {
      return InputValue();
    }
    const stream_info::FilterState::Object* object = filter_state->getData(key_);
    if (object == nullptr) {
      return InputValue();
    }
    std::optional<std::string> text = object->serializeAsString();
    return text.has_value() ? InputValue::owned(std::move(*text)) : InputValue();
  }

 private:
  const std::string key_;
};

using Factories = MatchTreeFactory<ConnectionSocket>::DataInputFactoryMap;

// An input without configuration: its factory ignores the typed_config's (empty) contents.
template <class Proto, class Input, class... Args>
void addSimple(Factories& factories, Args... args) {
  factories[Proto::descriptor()->full_name()] =
      [args...](const google::protobuf::Any&,
                const std::string&) -> absl::StatusOr<DataInputPtr<ConnectionSocket>> {
    return DataInputPtr<ConnectionSocket>(new Input(args...));
  };
}

bool isLoopback(const Instance& address) {
  const std::optional<IpAddress> ip = IpAddress::fromAddress(address);
  if (!ip) {
    return false;
  }
  if (ip->version == IpVersion::V4) {
    return (ip->bits >> 24) == 127;
  }
  return ip->bits == 1;
}

}  // namespace

bool isSameIpOrLoopback(const ConnectionSocket& socket) {
  const Instance* remote = socket.remoteAddress().get();
  if (remote == nullptr) {
    return false;
  }
  if (remote->type() == Type::Pipe || isLoopback(*remote)) {
    return true;
  }
  const Instance* local = socket.localAddress().get();
  return local != nullptr && local->type() == Type::Ip && remote->type() == Type::Ip &&
         local->ipString() == remote->ipString();
}

Factories networkInputFactories() {
  Factories factories;
  addSimple<inputs::DestinationIPInput, IpInput>(factories, Which::Local);
  addSimple<inputs::SourceIPInput, IpInput>(factories, Which::Remote);
  addSimple<inputs::DirectSourceIPInput, IpInput>(factories, Which::DirectRemote);
  addSimple<inputs::DestinationPortInput, PortInput>(factories, Which::Local);
  addSimple<inputs::SourcePortInput, PortInput>(factories, Which::Remote);
  addSimple<inputs::SourceTypeInput, SourceTypeInput>(factories);
  addSimple<inputs::ServerNameInput, ServerNameInput>(factories);
  addSimple<inputs::TransportProtocolInput, TransportProtocolInput>(factories);
  addSimple<inputs::ApplicationProtocolInput, ApplicationProtocolInput>(factories);
  factories[inputs::FilterStateInput::descriptor()->full_name()] =
      [](const google::protobuf::Any& typed_config,
         const std::string& path) -> absl::StatusOr<DataInputPtr<ConnectionSocket>> {
    inputs::FilterStateInput config;
    absl::Status status = protobuf::unpackTo(typed_config, config, {}, path);
    if (!status.ok()) {
      return status;
    }
    if (config.key().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".key: must not be empty"));
    }
    return DataInputPtr<ConnectionSocket>(new FilterStateInput(config.key()));
  };
  return factories;
}

}  // namespace waystone::matcher
