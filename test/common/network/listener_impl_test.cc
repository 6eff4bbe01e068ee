#include "source/common/network/listener_impl.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include <sys/resource.h>
#include <sys/socket.h>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/connection_impl.h"
#include "test/common/network/network_test_util.h"

namespace waystone::network {
namespace {

using test::runFor;
using test::runUntil;

// A blocking client socket connected to `address` (the kernel completes the handshake from the
// backlog, before any accept()).
int connectRaw(const address::Instance& address) {
  const int fd = ::socket(address.sockAddr()->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::connect(fd, address.sockAddr(), address.sockAddrLen()), 0) << std::strerror(errno);
  return fd;
}

class ListenerImplTest : public testing::Test, public ListenerCallbacks {
 protected:
  ~ListenerImplTest() override {
    accepted_.clear();
    for (int fd : client_fds_) {
      ::close(fd);
    }
  }

  void listen(const char* ip) {
    auto socket = ListenSocket::create(*address::parseIp(ip, 0), ListenSocketOptions());
    ASSERT_TRUE(socket.ok()) << socket.status();
    socket_ = *std::move(socket);
    listener_ = std::make_unique<ListenerImpl>(dispatcher_, *socket_, *this);
  }

  void connectClients(int count, const address::Instance& address) {
    for (int i = 0; i < count; ++i) {
      client_fds_.push_back(connectRaw(address));
    }
  }

  void onAccept(ConnectionPtr&& connection) override {
    accepted_.push_back(std::move(connection));
    // A posted callback runs after the listener's callback returns and before its next one:
    // it marks the end of one accept batch.
    if (accepts_in_batch_++ == 0) {
      dispatcher_.post([this] {
        batches_.push_back(accepts_in_batch_);
        accepts_in_batch_ = 0;
      });
    }
  }

  event::DispatcherImpl dispatcher_{"test"};
  std::unique_ptr<ListenSocket> socket_;
  std::unique_ptr<ListenerImpl> listener_;
  std::vector<ConnectionPtr> accepted_;
  std::vector<int> client_fds_;
  int accepts_in_batch_ = 0;
  std::vector<int> batches_;
};

TEST_F(ListenerImplTest, AcceptsConnectionsWithTheirAddresses) {
  listen("127.0.0.1");
  connectClients(3, *socket_->localAddress());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepted_.size() == 3; }));
  for (size_t i = 0; i < accepted_.size(); ++i) {
    auto client_local = address::localAddressFromFd(client_fds_[i]);
    ASSERT_TRUE(client_local.ok());
    EXPECT_EQ(*accepted_[i]->remoteAddress(), **client_local);
    EXPECT_EQ(*accepted_[i]->localAddress(), *socket_->localAddress());
    EXPECT_EQ(accepted_[i]->state(), Connection::State::Open);
  }
  EXPECT_NE(accepted_[0]->id(), accepted_[1]->id());
}

TEST_F(ListenerImplTest, AcceptsInBatchesOfAtMost64PerEvent) {
  listen("127.0.0.1");
  constexpr size_t kClients = 150;
  connectClients(kClients, *socket_->localAddress());
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepted_.size() == kClients; }));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepts_in_batch_ == 0; }));
  ASSERT_GE(batches_.size(), 3u);
  int total = 0;
  for (int n : batches_) {
    EXPECT_LE(n, ListenerImpl::kMaxAcceptsPerEvent);
    total += n;
  }
  EXPECT_EQ(total, kClients);
  EXPECT_EQ(batches_[0], ListenerImpl::kMaxAcceptsPerEvent);
}

TEST_F(ListenerImplTest, WildcardListenerReportsTheRealLocalAddress) {
  listen("0.0.0.0");
  auto target = address::parseIp("127.0.0.1", socket_->localAddress()->port());
  ASSERT_TRUE(target.ok());
  connectClients(1, **target);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepted_.size() == 1; }));
  EXPECT_EQ(accepted_[0]->localAddress()->asString(), (*target)->asString());
}

TEST_F(ListenerImplTest, DisableAndEnable) {
  listen("127.0.0.1");
  listener_->disable();
  EXPECT_FALSE(listener_->enabled());
  connectClients(2, *socket_->localAddress());
  runFor(dispatcher_, std::chrono::milliseconds(30));
  EXPECT_TRUE(accepted_.empty());
  listener_->enable();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepted_.size() == 2; }));
}

TEST_F(ListenerImplTest, DestroyingTheListenerStopsAcceptingButKeepsTheSocket) {
  listen("127.0.0.1");
  listener_.reset();
  connectClients(1, *socket_->localAddress());
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_TRUE(accepted_.empty());
  listener_ = std::make_unique<ListenerImpl>(dispatcher_, *socket_, *this);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepted_.size() == 1; }));
}

TEST_F(ListenerImplTest, OutOfDescriptorsBacksOffInsteadOfSpinning) {
  listen("127.0.0.1");
  connectClients(2, *socket_->localAddress());
  rlimit original;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  // The lowest free descriptor number as the limit: accept4 cannot allocate any descriptor.
  const int probe = ::dup(0);
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit tight = original;
  tight.rlim_cur = probe;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  int iterations = 0;
  while (!listener_->backingOff() && iterations < 1000) {
    dispatcher_.run(event::Dispatcher::RunType::NonBlock);
    ++iterations;
  }
  const bool backed_off = listener_->backingOff();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
  ASSERT_TRUE(backed_off);
  EXPECT_TRUE(accepted_.empty());
  // While backing off the readable socket is not polled: a burst of loop iterations accepts
  // nothing (and does not busy-loop on EMFILE).
  for (int i = 0; i < 100; ++i) {
    dispatcher_.run(event::Dispatcher::RunType::NonBlock);
  }
  EXPECT_TRUE(listener_->backingOff());
  EXPECT_TRUE(accepted_.empty());
  // After the backoff the pending connections are accepted.
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return accepted_.size() == 2; }));
  EXPECT_FALSE(listener_->backingOff());
}

}  // namespace
}  // namespace waystone::network
