#include "test/integration/http/pattern_body.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace waystone::test {
namespace {

// The period, twice over, so that any window of up to kPeriod bytes is one contiguous copy.
using Table = std::array<char, 2 * PatternBody::kPeriod>;

Table buildTable() {
  Table bytes{};
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < PatternBody::kPeriod; ++i) {
    // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    bytes[i] = static_cast<char>((state * 0x2545f4914f6cdd1dULL) >> 56);
  }
  std::copy(bytes.begin(), bytes.begin() + PatternBody::kPeriod,
            bytes.begin() + PatternBody::kPeriod);
  return bytes;
}

// The period, twice over, so that any window of up to kPeriod bytes is one contiguous copy.
const Table& table() {
  static const Table kTable = buildTable();
  return kTable;
}

}  // namespace

void PatternBody::fill(uint64_t offset, char* out, size_t size) {
  const char* source = table().data();
  while (size > 0) {
    const size_t start = offset % kPeriod;
    const size_t n = std::min(size, kPeriod);
    std::memcpy(out, source + start, n);
    out += n;
    offset += n;
    size -= n;
  }
}

std::string PatternBody::slice(uint64_t offset, size_t size) {
  std::string out(size, '\0');
  fill(offset, out.data(), size);
  return out;
}

uint64_t PatternBody::extendDigest(uint64_t digest, absl::string_view data) {
  for (const char c : data) {
    digest ^= static_cast<uint8_t>(c);
    digest *= kFnvPrime;
  }
  return digest;
}

uint64_t PatternBody::digestOfPrefix(uint64_t size) {
  uint64_t digest = kFnvOffset;
  std::string chunk;
  for (uint64_t offset = 0; offset < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(size - offset, kPeriod));
    chunk.resize(n);
    fill(offset, chunk.data(), n);
    digest = extendDigest(digest, chunk);
    offset += n;
  }
  return digest;
}

void PatternBody::update(absl::string_view data) {
  digest_ = extendDigest(digest_, data);
  if (matches()) {
    const char* source = table().data();
    size_t done = 0;
    while (done < data.size()) {
      const size_t start = (bytes_ + done) % kPeriod;
      const size_t n = std::min(data.size() - done, kPeriod);
      if (std::memcmp(data.data() + done, source + start, n) != 0) {
        size_t i = 0;
        while (data[done + i] == source[start + i]) {
          ++i;
        }
        first_mismatch_ = bytes_ + done + i;
        break;
      }
      done += n;
    }
  }
  bytes_ += data.size();
}

}  // namespace waystone::test
