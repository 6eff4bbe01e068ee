#include "source/common/buffer/watermark_buffer.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace waystone::buffer {
namespace {

class WatermarkBufferTest : public testing::Test {
 protected:
  WatermarkBufferTest() { buffer_.setWatermarks(10); }

  int above_ = 0;
  int below_ = 0;
  WatermarkBuffer buffer_{[this] { ++below_; }, [this] { ++above_; }};
};

TEST_F(WatermarkBufferTest, Marks) {
  EXPECT_EQ(buffer_.highWatermark(), 10u);
  EXPECT_EQ(buffer_.lowWatermark(), 5u);
}

TEST_F(WatermarkBufferTest, AboveHighFiresOnceWhenCrossing) {
  buffer_.add(std::string(10, 'a'));
  EXPECT_EQ(above_, 0);  // exactly at the mark is not above it
  EXPECT_FALSE(buffer_.highWatermarkTriggered());
  buffer_.add("b");
  EXPECT_EQ(above_, 1);
  EXPECT_TRUE(buffer_.highWatermarkTriggered());
  buffer_.add(std::string(100, 'c'));
  EXPECT_EQ(above_, 1);
  EXPECT_EQ(below_, 0);
}

TEST_F(WatermarkBufferTest, BelowLowFiresOnceAfterAboveHigh) {
  buffer_.add(std::string(8, 'a'));
  buffer_.drain(8);
  EXPECT_EQ(below_, 0);  // never went above high
  buffer_.add(std::string(20, 'a'));
  EXPECT_EQ(above_, 1);
  buffer_.drain(14);  // 6 left: below high, above low
  EXPECT_EQ(below_, 0);
  EXPECT_TRUE(buffer_.highWatermarkTriggered());
  buffer_.drain(1);  // 5 == low
  EXPECT_EQ(below_, 1);
  EXPECT_FALSE(buffer_.highWatermarkTriggered());
  buffer_.drain(5);
  EXPECT_EQ(below_, 1);
  // The cycle repeats.
  buffer_.add(std::string(11, 'x'));
  EXPECT_EQ(above_, 2);
  buffer_.drain(11);
  EXPECT_EQ(below_, 2);
}

TEST_F(WatermarkBufferTest, PrependAndMoveIn) {
  buffer_.prepend(std::string(11, 'p'));
  EXPECT_EQ(above_, 1);
  OwnedImpl source(std::string(50, 's'));
  buffer_.move(source);
  EXPECT_EQ(above_, 1);
  EXPECT_EQ(buffer_.length(), 61u);
}

TEST_F(WatermarkBufferTest, MovingOutOfAWatermarkBufferChecksIt) {
  buffer_.add(std::string(30, 'a'));
  EXPECT_EQ(above_, 1);
  OwnedImpl dest;
  dest.move(buffer_, 20);  // 10 left
  EXPECT_EQ(below_, 0);
  dest.move(buffer_, 5);  // 5 left == low
  EXPECT_EQ(below_, 1);
  buffer_.add(std::string(30, 'a'));
  EXPECT_EQ(above_, 2);
  dest.move(buffer_);
  EXPECT_EQ(below_, 2);
  EXPECT_EQ(dest.length(), 60u);
}

TEST_F(WatermarkBufferTest, MoveBetweenTwoWatermarkBuffers) {
  int other_above = 0;
  WatermarkBuffer other([] {}, [&] { ++other_above; });
  other.setWatermarks(4);
  buffer_.add(std::string(12, 'a'));
  EXPECT_EQ(above_, 1);
  other.move(buffer_);
  EXPECT_EQ(below_, 1);
  EXPECT_EQ(other_above, 1);
}

TEST_F(WatermarkBufferTest, WriteToFdDrainsAndFiresBelowLow) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  buffer_.add(std::string(20, 'w'));
  EXPECT_EQ(above_, 1);
  EXPECT_EQ(buffer_.writeToFd(fds[1]), 20);
  EXPECT_EQ(below_, 1);
  EXPECT_EQ(buffer_.readFromFd(fds[0], 100), 20);
  EXPECT_EQ(above_, 2);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(WatermarkBufferTest, ChangingWatermarks) {
  buffer_.add(std::string(8, 'a'));
  buffer_.setWatermarks(6);  // now above the new high mark
  EXPECT_EQ(above_, 1);
  buffer_.setWatermarks(100);  // 8 > low (50)? no: 8 <= 50, so below-low fires
  EXPECT_EQ(below_, 1);
  buffer_.setWatermarks(4);
  EXPECT_EQ(above_, 2);
  buffer_.setWatermarks(0);  // disabling releases a paused producer
  EXPECT_EQ(below_, 2);
  buffer_.add(std::string(1000, 'b'));
  EXPECT_EQ(above_, 2);
}

TEST(WatermarkBufferNoLimitTest, ZeroHighWatermarkNeverFires) {
  int calls = 0;
  WatermarkBuffer buffer([&] { ++calls; }, [&] { ++calls; });
  buffer.add(std::string(1 << 20, 'a'));
  buffer.drain(1 << 20);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(buffer.highWatermarkTriggered());
}

}  // namespace
}  // namespace waystone::buffer
