#include "source/common/network/internal/internal_connection.h"

#include <string>
#include <utility>

#include "source/common/network/internal/internal_connection_impl.h"

namespace waystone::network {

const address::InstanceConstSharedPtr& internalClientAddress() {
  // Immutable and shared by every worker (only the reference count is touched).
  static const address::InstanceConstSharedPtr* const kAddress =
      new address::InstanceConstSharedPtr(address::envoyInternal("internal_client_address"));
  return *kAddress;
}

ClientConnectionPtr createInternalClientConnection(event::Dispatcher& dispatcher,
                                                   address::InstanceConstSharedPtr address,
                                                   InternalConnectionOptions options,
                                                   TransportSocketPtr transport) {
  std::string refusal;
  if (address == nullptr || address->envoyInternalAddress() == nullptr) {
    refusal = "not an internal address";
    if (address == nullptr) {
      address = address::envoyInternal("");
    }
  } else if (transport != nullptr) {
    refusal =
        "an internal connection runs no transport socket (an internal address is reached over "
        "raw_buffer only)";
  }
  return std::make_unique<InternalClientConnectionImpl>(dispatcher, std::move(address),
                                                        std::move(options), std::move(refusal));
}

}  // namespace waystone::network
