#include "test/test_common/test_tcp_echo_server.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include <sys/socket.h>

#include "test/test_common/network_utility.h"

namespace waystone::test {
namespace {

constexpr std::chrono::seconds kTimeout(30);

// Reads until `expected_size` bytes arrived or the peer closed.
std::string receiveAtLeast(int fd, size_t expected_size) {
  std::string received;
  while (received.size() < expected_size) {
    absl::StatusOr<std::string> data = receiveSome(fd, kTimeout);
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok() || data->empty()) {
      break;
    }
    received += *data;
  }
  return received;
}

TEST(TestTcpEchoServerTest, EchoesBytesAndClosesAfterClient) {
  absl::StatusOr<std::unique_ptr<TestTcpEchoServer>> server = TestTcpEchoServer::start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE((*server)->port(), 0);
  EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string((*server)->port()));

  absl::StatusOr<FileDescriptor> fd = connectTcp("127.0.0.1", (*server)->port(), kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(sendAll(fd->get(), "ping", kTimeout).ok());
  EXPECT_EQ(receiveAtLeast(fd->get(), 4), "ping");

  // A larger payload than one socket buffer round trip, with every byte value.
  std::string big;
  for (int i = 0; i < 300000; ++i) {
    big.push_back(static_cast<char>(i % 256));
  }
  std::string echoed;
  std::thread reader([&] { echoed = receiveAtLeast(fd->get(), big.size()); });
  ASSERT_TRUE(sendAll(fd->get(), big, kTimeout).ok());
  reader.join();
  EXPECT_EQ(echoed, big);
  EXPECT_EQ((*server)->bytesEchoed(), big.size() + 4);

  // Half-close: the server finishes and closes its side too.
  ASSERT_EQ(::shutdown(fd->get(), SHUT_WR), 0);
  absl::StatusOr<std::string> eof = receiveSome(fd->get(), kTimeout);
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_EQ(*eof, "");
  EXPECT_EQ((*server)->connectionCount(), 1u);
}

TEST(TestTcpEchoServerTest, StopsWithOpenConnections) {
  absl::StatusOr<std::unique_ptr<TestTcpEchoServer>> server = TestTcpEchoServer::start();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<FileDescriptor> first = connectTcp("127.0.0.1", (*server)->port(), kTimeout);
  absl::StatusOr<FileDescriptor> second = connectTcp("127.0.0.1", (*server)->port(), kTimeout);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(sendAll(first->get(), "x", kTimeout).ok());
  EXPECT_EQ(receiveAtLeast(first->get(), 1), "x");
  // Destroying the server with idle client connections must not hang; clients then see EOF.
  server->reset();
  absl::StatusOr<std::string> eof = receiveSome(second->get(), kTimeout);
  ASSERT_TRUE(eof.ok()) << eof.status();
  EXPECT_EQ(*eof, "");
}

}  // namespace
}  // namespace waystone::test
