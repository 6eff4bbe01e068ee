#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "source/common/network/address.h"

namespace waystone::network::address {
namespace {

TEST(AddressTest, ParseIpv4) {
  auto address = parseIp("10.1.2.3", 8080);
  ASSERT_TRUE(address.ok()) << address.status();
  const Instance& a = **address;
  EXPECT_EQ(a.type(), Type::Ip);
  EXPECT_EQ(a.version(), IpVersion::V4);
  EXPECT_EQ(a.asString(), "10.1.2.3:8080");
  EXPECT_EQ(a.ipString(), "10.1.2.3");
  EXPECT_EQ(a.port(), 8080);
  EXPECT_FALSE(a.isAnyAddress());
  ASSERT_EQ(a.sockAddrLen(), sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(a.sockAddr());
  EXPECT_EQ(in->sin_family, AF_INET);
  EXPECT_EQ(ntohs(in->sin_port), 8080);
  EXPECT_EQ(ntohl(in->sin_addr.s_addr), 0x0a010203u);
}

TEST(AddressTest, ParseIpv6UsesCanonicalForm) {
  auto address = parseIp("2001:DB8:0:0:0:0:0:1", 443);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->version(), IpVersion::V6);
  EXPECT_EQ((*address)->ipString(), "2001:db8::1");
  EXPECT_EQ((*address)->asString(), "[2001:db8::1]:443");
  EXPECT_EQ((*address)->sockAddrLen(), sizeof(sockaddr_in6));
  EXPECT_EQ((*address)->sockAddr()->sa_family, AF_INET6);
  auto mapped = parseIp("::ffff:1.2.3.4", 1);
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ((*mapped)->asString(), "[::ffff:1.2.3.4]:1");
}

TEST(AddressTest, AnyAddresses) {
  EXPECT_TRUE((*parseIp("0.0.0.0", 0))->isAnyAddress());
  EXPECT_TRUE((*parseIp("::", 0))->isAnyAddress());
  EXPECT_FALSE((*parseIp("::1", 0))->isAnyAddress());
  EXPECT_EQ((*parseIp("::", 0))->asString(), "[::]:0");
}

TEST(AddressTest, ParseIpRejectsBadInputAndNamesIt) {
  for (const char* bad : {"", "foo", "1.2.3", "1.2.3.256", "[::1]", "::1:", "1.2.3.4:80",
                          "fe80::1%eth0", " 1.2.3.4", "localhost"}) {
    auto address = parseIp(bad, 80);
    ASSERT_FALSE(address.ok()) << bad;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(address.status().message().find(absl::StrCat("\"", bad, "\"")),
              absl::string_view::npos)
        << address.status();
  }
  EXPECT_FALSE(parseIp(absl::string_view("1.2.3.4\0x", 9), 80).ok());
}

TEST(AddressTest, ParseIpAndPort) {
  auto v4 = parseIpAndPort("127.0.0.1:80");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ((*v4)->asString(), "127.0.0.1:80");
  EXPECT_EQ((*v4)->port(), 80);
  auto v6 = parseIpAndPort("[::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ((*v6)->asString(), "[::1]:65535");
  EXPECT_EQ((*v6)->version(), IpVersion::V6);
  auto zero = parseIpAndPort("0.0.0.0:0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ((*zero)->port(), 0);
}

TEST(AddressTest, ParseIpAndPortRejectsBadInput) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
        "127.0.0.1:8 0", "127.0.0.1:0x50", "::1:80", "[::1]", "[::1]80", "[::1:80", "[1.2.3.4]:80",
        "foo:80", ":80", "127.0.0.1:123456"}) {
    auto address = parseIpAndPort(bad);
    ASSERT_FALSE(address.ok()) << bad;
    EXPECT_NE(address.status().message().find(absl::StrCat("\"", bad, "\"")),
              absl::string_view::npos)
        << address.status();
  }
}

TEST(AddressTest, FilesystemPipe) {
  auto address = pipe("/tmp/waystone.sock");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->type(), Type::Pipe);
  EXPECT_EQ((*address)->asString(), "/tmp/waystone.sock");
  EXPECT_EQ((*address)->port(), 0);
  EXPECT_EQ((*address)->ipString(), "");
  const auto* un = reinterpret_cast<const sockaddr_un*>((*address)->sockAddr());
  EXPECT_EQ(un->sun_family, AF_UNIX);
  EXPECT_STREQ(un->sun_path, "/tmp/waystone.sock");
}

TEST(AddressTest, AbstractPipe) {
  auto address = pipe("@waystone");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->asString(), "@waystone");
  const auto* un = reinterpret_cast<const sockaddr_un*>((*address)->sockAddr());
  EXPECT_EQ(un->sun_path[0], '\0');
  EXPECT_EQ(std::string(un->sun_path + 1, 8), "waystone");
  // The length covers exactly the NUL and the name: no trailing zeros join the name.
  EXPECT_EQ((*address)->sockAddrLen(), offsetof(sockaddr_un, sun_path) + 9);
}

TEST(AddressTest, PipeRejectsBadPaths) {
  EXPECT_FALSE(pipe("").ok());
  EXPECT_FALSE(pipe("@").ok());
  EXPECT_FALSE(pipe(absl::string_view("/tmp/a\0b", 8)).ok());
  const std::string longest(107, 'a');
  EXPECT_TRUE(pipe(longest).ok());
  auto too_long = pipe(longest + "a");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("longer than"), absl::string_view::npos);
  EXPECT_TRUE(pipe("@" + longest).ok());
  EXPECT_FALSE(pipe("@" + longest + "a").ok());
}

TEST(AddressTest, FromSockAddrRoundTrips) {
  for (const char* text : {"192.168.1.1:7", "[fe80::1]:9", "[::]:0"}) {
    auto original = parseIpAndPort(text);
    ASSERT_TRUE(original.ok());
    sockaddr_storage ss{};
    std::memcpy(&ss, (*original)->sockAddr(), (*original)->sockAddrLen());
    auto copy = fromSockAddr(ss, (*original)->sockAddrLen());
    ASSERT_TRUE(copy.ok()) << copy.status();
    EXPECT_EQ((*copy)->asString(), text);
    EXPECT_TRUE(**copy == **original);
  }
  for (const char* path : {"/run/x.sock", "@abstract"}) {
    auto original = pipe(path);
    ASSERT_TRUE(original.ok());
    sockaddr_storage ss{};
    std::memcpy(&ss, (*original)->sockAddr(), (*original)->sockAddrLen());
    auto copy = fromSockAddr(ss, (*original)->sockAddrLen());
    ASSERT_TRUE(copy.ok()) << copy.status();
    EXPECT_EQ((*copy)->asString(), path);
    EXPECT_EQ((*copy)->sockAddrLen(), (*original)->sockAddrLen());
  }
}

TEST(AddressTest, FromSockAddrUnnamedPipeAndErrors) {
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  auto unnamed = fromSockAddr(ss, sizeof(sa_family_t));
  ASSERT_TRUE(unnamed.ok()) << unnamed.status();
  EXPECT_EQ((*unnamed)->type(), Type::Pipe);
  EXPECT_EQ((*unnamed)->asString(), "");

  ss.ss_family = AF_INET;
  EXPECT_FALSE(fromSockAddr(ss, sizeof(sockaddr_in) - 1).ok());
  ss.ss_family = AF_INET6;
  EXPECT_FALSE(fromSockAddr(ss, sizeof(sockaddr_in)).ok());
  ss.ss_family = AF_PACKET;
  auto unsupported = fromSockAddr(ss, sizeof(ss));
  ASSERT_FALSE(unsupported.ok());
  EXPECT_NE(unsupported.status().message().find("family"), absl::string_view::npos);
}

TEST(AddressTest, AddressesFromFd) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  auto loopback = parseIp("127.0.0.1", 0);
  ASSERT_EQ(::bind(fd, (*loopback)->sockAddr(), (*loopback)->sockAddrLen()), 0);
  auto local = localAddressFromFd(fd);
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ((*local)->ipString(), "127.0.0.1");
  EXPECT_NE((*local)->port(), 0);
  auto peer = peerAddressFromFd(fd);  // not connected
  ASSERT_FALSE(peer.ok());
  EXPECT_NE(peer.status().message().find("getpeername"), absl::string_view::npos);
  ::close(fd);
  EXPECT_FALSE(localAddressFromFd(fd).ok());
}

TEST(AddressTest, Equality) {
  EXPECT_TRUE(**parseIp("1.2.3.4", 5) == **parseIpAndPort("1.2.3.4:5"));
  EXPECT_TRUE(**parseIp("1.2.3.4", 5) != **parseIp("1.2.3.4", 6));
  EXPECT_TRUE(**parseIp("::1", 5) != **parseIp("127.0.0.1", 5));
  EXPECT_TRUE(**pipe("/a") == **pipe("/a"));
  EXPECT_TRUE(**pipe("/a") != **pipe("@a"));
  EXPECT_TRUE(*envoyInternal("l", "e") == *envoyInternal("l", "e"));
  EXPECT_TRUE(*envoyInternal("l", "e") != *envoyInternal("l", "f"));
  EXPECT_TRUE(*envoyInternal("l") != *envoyInternal("m"));
}

TEST(AddressTest, InternalAddress) {
  const InstanceConstSharedPtr a = envoyInternal("main_internal", "10.0.0.1:80");
  EXPECT_EQ(a->type(), Type::Internal);
  EXPECT_EQ(a->asString(), "envoy://main_internal/10.0.0.1:80");
  ASSERT_NE(a->envoyInternalAddress(), nullptr);
  EXPECT_EQ(a->envoyInternalAddress()->serverListenerName(), "main_internal");
  EXPECT_EQ(a->envoyInternalAddress()->endpointId(), "10.0.0.1:80");
  // Neutral IP answers, as for pipes.
  EXPECT_EQ(a->ipString(), "");
  EXPECT_EQ(a->port(), 0);
  EXPECT_FALSE(a->isAnyAddress());
  // No socket address: the kernel refuses AF_UNSPEC.
  EXPECT_EQ(a->sockAddr()->sa_family, AF_UNSPEC);
  EXPECT_LT(::socket(a->sockAddr()->sa_family, SOCK_STREAM, 0), 0);
  EXPECT_EQ(envoyInternal("internal_client_address")->asString(),
            "envoy://internal_client_address/");
  EXPECT_EQ((*parseIp("1.2.3.4", 5))->envoyInternalAddress(), nullptr);
  EXPECT_EQ((*pipe("/a"))->envoyInternalAddress(), nullptr);
  EXPECT_TRUE(*a != **parseIp("10.0.0.1", 80));
}

}  // namespace
}  // namespace waystone::network::address
