#include "source/common/network/listen_socket.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

namespace waystone::network {
namespace {

// A short scratch directory (unix socket paths are limited to 107 bytes, which $TEST_TMPDIR can
// exceed), removed with its content at the end of the test.
class ShortTempDir {
 public:
  ShortTempDir() {
    char templ[] = "/tmp/wsXXXXXX";
    const char* dir = ::mkdtemp(templ);
    EXPECT_NE(dir, nullptr);
    path_ = dir != nullptr ? dir : "/tmp";
  }
  ~ShortTempDir() {
    for (const char* name : {"s.sock", "regular"}) {
      ::unlink(file(name).c_str());
    }
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

int getIntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  EXPECT_EQ(::getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

TEST(ListenSocketTest, PortZeroReportsTheBoundPort) {
  auto socket = ListenSocket::create(*address::parseIp("127.0.0.1", 0), ListenSocketOptions());
  ASSERT_TRUE(socket.ok()) << socket.status();
  const auto& local = (*socket)->localAddress();
  EXPECT_EQ(local->ipString(), "127.0.0.1");
  EXPECT_NE(local->port(), 0);
  EXPECT_EQ(local->asString(), absl::StrCat("127.0.0.1:", local->port()));
  const int fd = (*socket)->fd();
  EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_EQ(getIntOption(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
  EXPECT_EQ(getIntOption(fd, SOL_SOCKET, SO_REUSEADDR), 1);
  EXPECT_EQ(getIntOption(fd, SOL_SOCKET, SO_REUSEPORT), 1);
}

TEST(ListenSocketTest, ReusePortOffByOption) {
  ListenSocketOptions options;
  options.reuse_port = false;
  auto socket = ListenSocket::create(*address::parseIp("127.0.0.1", 0), options);
  ASSERT_TRUE(socket.ok()) << socket.status();
  EXPECT_EQ(getIntOption((*socket)->fd(), SOL_SOCKET, SO_REUSEPORT), 0);
  // Without SO_REUSEPORT a second socket on the same port fails, and the error names it.
  auto second = ListenSocket::create((*socket)->localAddress(), options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find((*socket)->localAddress()->asString()),
            absl::string_view::npos)
      << second.status();
  EXPECT_NE(second.status().message().find("Address already in use"), absl::string_view::npos);
}

TEST(ListenSocketTest, TwoReusePortSocketsShareOnePort) {
  auto first = ListenSocket::create(*address::parseIp("127.0.0.1", 0), ListenSocketOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ListenSocket::create((*first)->localAddress(), ListenSocketOptions());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->localAddress()->port(), (*first)->localAddress()->port());
  EXPECT_NE((*second)->fd(), (*first)->fd());
}

TEST(ListenSocketTest, Ipv6IsV6Only) {
  auto socket = ListenSocket::create(*address::parseIp("::1", 0), ListenSocketOptions());
  ASSERT_TRUE(socket.ok()) << socket.status();
  EXPECT_EQ((*socket)->localAddress()->version(), address::IpVersion::V6);
  EXPECT_NE((*socket)->localAddress()->port(), 0);
  EXPECT_EQ(getIntOption((*socket)->fd(), IPPROTO_IPV6, IPV6_V6ONLY), 1);
}

TEST(ListenSocketTest, CloseIsIdempotentAndFreesThePort) {
  ListenSocketOptions options;
  options.reuse_port = false;
  auto socket = ListenSocket::create(*address::parseIp("127.0.0.1", 0), options);
  ASSERT_TRUE(socket.ok());
  const auto address = (*socket)->localAddress();
  (*socket)->close();
  EXPECT_EQ((*socket)->fd(), -1);
  (*socket)->close();
  auto again = ListenSocket::create(address, options);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(ListenSocketTest, FilesystemPipeReplacesAStaleSocketFile) {
  ShortTempDir dir;
  const std::string path = dir.file("s.sock");
  auto address = address::pipe(path);
  ASSERT_TRUE(address.ok());
  {
    auto stale = ListenSocket::create(*address, ListenSocketOptions());
    ASSERT_TRUE(stale.ok()) << stale.status();
    EXPECT_EQ((*stale)->localAddress()->asString(), path);
  }
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);  // the old file is still there
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  auto fresh = ListenSocket::create(*address, ListenSocketOptions());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(getIntOption((*fresh)->fd(), SOL_SOCKET, SO_ACCEPTCONN), 1);
}

TEST(ListenSocketTest, PipeNeverDeletesARegularFile) {
  ShortTempDir dir;
  const std::string path = dir.file("regular");
  std::ofstream(path) << "precious";
  auto socket = ListenSocket::create(*address::pipe(path), ListenSocketOptions());
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.status().message().find(path), absl::string_view::npos);
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(ListenSocketTest, AbstractPipe) {
  const std::string name = absl::StrCat("@waystone-listen-test-", ::getpid());
  auto socket = ListenSocket::create(*address::pipe(name), ListenSocketOptions());
  ASSERT_TRUE(socket.ok()) << socket.status();
  EXPECT_EQ((*socket)->localAddress()->asString(), name);
  // A second bind to the same abstract name fails: the name is taken while the first lives.
  auto second = ListenSocket::create(*address::pipe(name), ListenSocketOptions());
  EXPECT_FALSE(second.ok());
}

TEST(ListenSocketTest, BindErrorNamesTheAddress) {
  // 192.0.2.1 (TEST-NET-1) is not configured on this host.
  auto socket = ListenSocket::create(*address::parseIp("192.0.2.1", 0), ListenSocketOptions());
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.status().message().find("bind 192.0.2.1:0"), absl::string_view::npos)
      << socket.status();
  EXPECT_FALSE(ListenSocket::create(nullptr, ListenSocketOptions()).ok());
}

}  // namespace
}  // namespace waystone::network
