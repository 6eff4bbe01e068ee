#include "test/test_common/network_utility.h"

#include "gtest/gtest.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace waystone::test {
namespace {

TEST(NetworkUtilityTest, FindFreeTcpPortReturnsBindablePort) {
  const uint16_t port = findFreeTcpPort();
  ASSERT_NE(port, 0);
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)), 0);
}

TEST(NetworkUtilityTest, ParseHostPort) {
  absl::StatusOr<HostPort> v4 = parseHostPort("127.0.0.1:1234");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 1234);

  absl::StatusOr<HostPort> v6 = parseHostPort("[::1]:15000\n");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 15000);

  absl::StatusOr<HostPort> name = parseHostPort("localhost:65535");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 65535);

  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:12x", "::1:80", "[::1]", "[::1]80", "[::1:80"}) {
    EXPECT_FALSE(parseHostPort(bad).ok()) << bad;
  }
}

TEST(NetworkUtilityTest, FormatHostPort) {
  EXPECT_EQ(formatHostPort("127.0.0.1", 80), "127.0.0.1:80");
  EXPECT_EQ(formatHostPort("::1", 443), "[::1]:443");
}

TEST(NetworkUtilityTest, ConnectToClosedPortFails) {
  const uint16_t port = findFreeTcpPort();
  ASSERT_NE(port, 0);
  absl::StatusOr<FileDescriptor> fd = connectTcp("127.0.0.1", port, std::chrono::seconds(5));
  EXPECT_FALSE(fd.ok());
  EXPECT_FALSE(connectUnix("/nonexistent/socket", std::chrono::seconds(5)).ok());
}

}  // namespace
}  // namespace waystone::test
