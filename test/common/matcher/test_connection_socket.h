#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "source/common/network/connection_socket.h"

namespace waystone::matcher {

// A ConnectionSocket with nothing behind it: just the addresses and inspector results that
// filter chain selection reads. Addresses are "ip:port" ("[v6]:port") or "pipe:/path".
class TestConnectionSocket : public network::ConnectionSocket {
 public:
  TestConnectionSocket(absl::string_view local, absl::string_view remote)
      : ConnectionSocket(address(local), address(remote)) {}

  static network::address::InstanceConstSharedPtr address(absl::string_view text) {
    absl::StatusOr<network::address::InstanceConstSharedPtr> result =
        absl::StartsWith(text, "pipe:") ? network::address::pipe(text.substr(5))
                                        : network::address::parseIpAndPort(text);
    EXPECT_TRUE(result.ok()) << text << ": " << result.status();
    return result.ok() ? *result : nullptr;
  }

  // What original_dst does on an internal connection.
  void restoreLocal(absl::string_view text) { restoreLocalAddress(address(text)); }
  void setRemote(absl::string_view text) { setRemoteAddress(address(text)); }

  PeekResult peek(uint64_t) override { return {}; }
  void waitForData(std::function<void()>) override {}
  void cancelWait() override {}
  bool isInternal() const override { return false; }
  network::ConnectionPtr createConnection(event::Dispatcher&,
                                          network::TransportSocketPtr) override {
    return nullptr;
  }
};

}  // namespace waystone::matcher
