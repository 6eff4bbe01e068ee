#pragma once

#include "source/common/matcher/match_tree_factory.h"
#include "source/common/network/connection_socket.h"

namespace waystone::matcher {

// The inputs of envoy.extensions.matching.common_inputs.network.v3 over an accepted socket, as
// Envoy's filter chain matcher reads them (what listener filters left: original_dst's restored
// local address, inspectors' SNI and protocols, the connection's filter state):
//   DestinationIPInput, DestinationPortInput (decimal), SourceIPInput, SourcePortInput,
//   DirectSourceIPInput: from localAddress() / remoteAddress() / directRemoteAddress(); no
//     value for pipes.
//   SourceTypeInput: "local" when isSameIpOrLoopback(), else no value.
//   ServerNameInput, TransportProtocolInput: no value when empty.
//   ApplicationProtocolInput: the protocols quoted and comma-joined, "'h2','http/1.1'"
//     (istiod keys its maps with the quotes); no value when there are none.
//   FilterStateInput{key}: the object's serializeAsString(); no value when absent or it has
//     no text form.
// Keyed by the proto type name, ready for MatchTreeFactory<network::ConnectionSocket>.
MatchTreeFactory<network::ConnectionSocket>::DataInputFactoryMap networkInputFactories();

// Envoy's Network::Utility::isSameIpOrLoopback: the remote address is a pipe, a loopback
// address (127.0.0.0/8, ::1), or the same IP as the local address. Used by SourceTypeInput and by
// the classic filter_chain_match source_type.
bool isSameIpOrLoopback(const network::ConnectionSocket& socket);

}  // namespace waystone::matcher
