#include "source/common/buffer/buffer_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include <sys/socket.h>

namespace waystone::buffer {
namespace {

// Builds a buffer whose content is spread over one slice per element of `parts` (each add() of a
// buffer moved in becomes its own slice).
void addSlices(OwnedImpl& buffer, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    OwnedImpl piece(part);
    buffer.move(piece);
  }
}

std::vector<std::string> slicesOf(const Instance& buffer) {
  std::vector<std::string> out;
  buffer.forEachSlice([&](absl::string_view s) { out.emplace_back(s); });
  return out;
}

std::string pattern(size_t size, uint32_t seed = 1) {
  std::string out(size, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

TEST(OwnedImplTest, AddAndToString) {
  OwnedImpl buffer;
  EXPECT_EQ(buffer.length(), 0u);
  EXPECT_EQ(buffer.toString(), "");
  buffer.add("hello");
  buffer.add(" ", 1);
  buffer.add(absl::string_view("world"));
  buffer.add("", 0);
  EXPECT_EQ(buffer.length(), 11u);
  EXPECT_EQ(buffer.toString(), "hello world");
  OwnedImpl from_ctor("abc");
  EXPECT_EQ(from_ctor.toString(), "abc");
  OwnedImpl from_ptr("xyz", 2);
  EXPECT_EQ(from_ptr.toString(), "xy");
}

TEST(OwnedImplTest, BinaryDataWithNulBytes) {
  const std::string data("a\0b\0c", 5);
  OwnedImpl buffer(data);
  EXPECT_EQ(buffer.length(), 5u);
  EXPECT_EQ(buffer.toString(), data);
  EXPECT_EQ(buffer.search(absl::string_view("\0c", 2)), 3);
}

TEST(OwnedImplTest, MoveAllLeavesSourceEmptyAndKeepsSlices) {
  OwnedImpl source;
  addSlices(source, {"one", "two", "three"});
  OwnedImpl dest("head:");
  dest.move(source);
  EXPECT_EQ(source.length(), 0u);
  EXPECT_EQ(dest.toString(), "head:onetwothree");
  // The moved slices are relinked, not merged by copying: more than one slice remains.
  EXPECT_GE(slicesOf(dest).size(), 2u);
}

TEST(OwnedImplTest, MovePartOfABuffer) {
  OwnedImpl source;
  addSlices(source, {"abc", "defg", "hij"});
  OwnedImpl dest;
  dest.move(source, 5);  // all of the first slice and part of the second
  EXPECT_EQ(dest.toString(), "abcde");
  EXPECT_EQ(source.toString(), "fghij");
  dest.move(source, 0);
  EXPECT_EQ(dest.toString(), "abcde");
  dest.move(source, 100);  // more than available moves what there is
  EXPECT_EQ(dest.toString(), "abcdefghij");
  EXPECT_EQ(source.length(), 0u);
}

TEST(OwnedImplTest, MoveLargeBufferInPieces) {
  const std::string data = pattern(3 * 1024 * 1024 + 17);
  OwnedImpl source(data);
  OwnedImpl dest;
  uint64_t step = 1;
  while (source.length() > 0) {
    dest.move(source, step);
    step = step * 3 + 1;
  }
  EXPECT_EQ(dest.length(), data.size());
  EXPECT_EQ(dest.toString(), data);
}

TEST(OwnedImplTest, MoveToSelfIsANoOp) {
  OwnedImpl buffer("same");
  buffer.move(buffer);
  buffer.move(buffer, 2);
  EXPECT_EQ(buffer.toString(), "same");
}

TEST(OwnedImplTest, Prepend) {
  OwnedImpl buffer;
  buffer.prepend("world");
  buffer.prepend("hello ");
  buffer.prepend("");
  EXPECT_EQ(buffer.toString(), "hello world");
  OwnedImpl other;
  addSlices(other, {"b", "c"});
  other.prepend("a");
  EXPECT_EQ(other.toString(), "abc");
}

TEST(OwnedImplTest, Drain) {
  OwnedImpl buffer;
  addSlices(buffer, {"12345", "67890"});
  buffer.drain(0);
  EXPECT_EQ(buffer.length(), 10u);
  buffer.drain(7);
  EXPECT_EQ(buffer.toString(), "890");
  buffer.drain(3);
  EXPECT_EQ(buffer.length(), 0u);
}

TEST(OwnedImplTest, CopyOutAcrossSlices) {
  OwnedImpl buffer;
  addSlices(buffer, {"abc", "def", "ghi"});
  char out[5];
  buffer.copyOut(2, 5, out);
  EXPECT_EQ(std::string(out, 5), "cdefg");
  buffer.copyOut(8, 1, out);
  EXPECT_EQ(out[0], 'i');
  buffer.copyOut(9, 0, out);  // an empty copy at the end is allowed
  EXPECT_EQ(buffer.length(), 9u);
}

TEST(OwnedImplTest, LinearizeMakesAPrefixContiguous) {
  OwnedImpl buffer;
  addSlices(buffer, {"ab", "cd", "ef"});
  ASSERT_GE(slicesOf(buffer).size(), 2u);
  absl::string_view first = buffer.linearize(5);
  EXPECT_EQ(first, "abcde");
  EXPECT_EQ(slicesOf(buffer).front().substr(0, 5), "abcde");
  EXPECT_EQ(buffer.toString(), "abcdef");
  EXPECT_EQ(buffer.linearize(0), "");
}

TEST(OwnedImplTest, SearchAcrossSlices) {
  OwnedImpl buffer;
  addSlices(buffer, {"GET / HT", "TP/1.1\r", "\nHost: x\r\n", "\r\n"});
  EXPECT_EQ(buffer.search("\r\n"), 14);
  EXPECT_EQ(buffer.search("HTTP"), 6);
  EXPECT_EQ(buffer.length(), 27u);
  EXPECT_EQ(buffer.search("\r\n\r\n"), 23);
  EXPECT_EQ(buffer.search("\r\n", 15), 23);
  EXPECT_EQ(buffer.search("\r\n", 24), 25);
  EXPECT_EQ(buffer.search("missing"), -1);
  EXPECT_EQ(buffer.search("GET", 1), -1);
  EXPECT_EQ(buffer.search("x", 1000), -1);
  EXPECT_EQ(buffer.search("", 3), 3);
  EXPECT_EQ(buffer.search("", 27), 27);
  EXPECT_EQ(buffer.search("", 28), -1);
  OwnedImpl empty;
  EXPECT_EQ(empty.search("a"), -1);
}

TEST(OwnedImplTest, ForEachSliceVisitsAllBytesInOrder) {
  OwnedImpl buffer;
  addSlices(buffer, {"one", "two"});
  buffer.add("three");
  std::string joined;
  buffer.forEachSlice([&](absl::string_view s) {
    EXPECT_FALSE(s.empty());
    joined.append(s.data(), s.size());
  });
  EXPECT_EQ(joined, "onetwothree");
  OwnedImpl empty;
  int calls = 0;
  empty.forEachSlice([&](absl::string_view) { ++calls; });
  EXPECT_EQ(calls, 0);
}

// A buffer::Instance that is not an OwnedImpl, to exercise the copying fallback of move().
class StringInstance : public Instance {
 public:
  explicit StringInstance(std::string data) : data_(std::move(data)) {}
  void add(const void* data, uint64_t size) override {
    data_.append(static_cast<const char*>(data), size);
  }
  void add(absl::string_view data) override { data_.append(data.data(), data.size()); }
  void move(Instance& other) override {
    data_ += other.toString();
    other.drain(other.length());
  }
  void move(Instance& other, uint64_t length) override {
    std::string s = other.toString().substr(0, length);
    data_ += s;
    other.drain(s.size());
  }
  void prepend(absl::string_view data) override { data_.insert(0, data.data(), data.size()); }
  void drain(uint64_t size) override { data_.erase(0, size); }
  uint64_t length() const override { return data_.size(); }
  void copyOut(uint64_t start, uint64_t size, void* data) const override {
    data_.copy(static_cast<char*>(data), size, start);
  }
  absl::string_view linearize(uint64_t size) override { return {data_.data(), size}; }
  int64_t search(absl::string_view needle, uint64_t start) const override {
    auto pos = data_.find(needle.data(), start, needle.size());
    return pos == std::string::npos ? -1 : static_cast<int64_t>(pos);
  }
  std::string toString() const override { return data_; }
  void forEachSlice(const std::function<void(absl::string_view)>& cb) const override {
    // Two slices, to check that partial moves stop in the middle of a slice.
    const size_t half = data_.size() / 2;
    cb(absl::string_view(data_).substr(0, half));
    cb(absl::string_view(data_).substr(half));
  }

 private:
  std::string data_;
};

TEST(OwnedImplTest, MoveFromAnotherImplementationCopies) {
  StringInstance foreign("0123456789");
  OwnedImpl buffer;
  buffer.move(foreign, 7);
  EXPECT_EQ(buffer.toString(), "0123456");
  EXPECT_EQ(foreign.toString(), "789");
  buffer.move(foreign);
  EXPECT_EQ(buffer.toString(), "0123456789");
  EXPECT_EQ(foreign.length(), 0u);
}

TEST(OwnedImplTest, ReadFromAndWriteToSocket) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  const std::string data = pattern(100000, 7);
  OwnedImpl out(data);
  uint64_t written = 0;
  OwnedImpl in;
  // Alternate writing and reading so neither side blocks on a full socket buffer.
  while (written < data.size() || in.length() < data.size()) {
    const int64_t w = out.writeToFd(fds[0]);
    ASSERT_TRUE(w >= 0 || w == -EAGAIN) << w;
    if (w > 0) {
      written += w;
    }
    const int64_t r = in.readFromFd(fds[1], 4096);
    ASSERT_TRUE(r > 0 || r == -EAGAIN) << r;
    if (r > 0) {
      EXPECT_LE(r, 4096);
    }
  }
  EXPECT_EQ(out.length(), 0u);
  EXPECT_EQ(in.toString(), data);
  EXPECT_EQ(in.readFromFd(fds[1], 4096), -EAGAIN);
  ::close(fds[0]);
  EXPECT_EQ(in.readFromFd(fds[1], 4096), 0);  // end of stream
  OwnedImpl more("x");
  // The peer is gone: EPIPE is returned, and MSG_NOSIGNAL kept SIGPIPE from killing us.
  EXPECT_EQ(more.writeToFd(fds[1]), -EPIPE);
  EXPECT_EQ(more.length(), 1u);
  ::close(fds[1]);
}

TEST(OwnedImplTest, WriteToFdUsesAtMostMaxSlices) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  OwnedImpl out;
  std::vector<std::string> parts;
  for (int i = 0; i < OwnedImpl::kMaxSlicesPerWrite + 4; ++i) {
    parts.push_back(std::string(10, static_cast<char>('a' + i)));
  }
  addSlices(out, parts);
  ASSERT_GT(slicesOf(out).size(), static_cast<size_t>(OwnedImpl::kMaxSlicesPerWrite));
  // A pipe is not a socket: writeToFd falls back to writev.
  const int64_t w = out.writeToFd(fds[1]);
  EXPECT_EQ(w, 10 * OwnedImpl::kMaxSlicesPerWrite);
  EXPECT_EQ(out.length(), 40u);
  OwnedImpl in;
  EXPECT_EQ(in.readFromFd(fds[0], 1 << 20), w);
  EXPECT_EQ(in.toString().substr(0, 10), std::string(10, 'a'));
  EXPECT_EQ(out.toString(), parts[16] + parts[17] + parts[18] + parts[19]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(OwnedImplTest, ReadFromBadFdReturnsErrno) {
  OwnedImpl buffer("keep");
  EXPECT_EQ(buffer.readFromFd(-1, 100), -EBADF);
  EXPECT_EQ(buffer.writeToFd(-1), -EBADF);
  EXPECT_EQ(buffer.toString(), "keep");
  EXPECT_EQ(buffer.readFromFd(-1, 0), 0);
}

}  // namespace
}  // namespace waystone::buffer
