#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace waystone::http {

// One header: the name is always lower case (HTTP/2 requires it; HTTP/1 names are folded on the
// way in, as Envoy does). Pseudo-headers (":method", ":path", ":authority", ":scheme",
// ":status", ":protocol") are ordinary entries that sort before regular ones.
struct HeaderEntry {
  std::string key;
  std::string value;
};

// An ordered multimap of headers, also used for trailers. Small and flat on purpose: requests
// carry a few dozen headers, and a vector scan beats hashing at that size.
class HeaderMap {
 public:
  HeaderMap() = default;
  HeaderMap(std::initializer_list<std::pair<std::string, std::string>> headers);

  // Appends. `key` is lower-cased; pseudo-headers go before regular headers.
  void addCopy(absl::string_view key, absl::string_view value);
  // Replaces every entry named `key` with one entry (added if absent).
  void setCopy(absl::string_view key, absl::string_view value);
  // Appends `value` to an existing entry with ", " (or adds the entry), for list-valued headers.
  void appendCopy(absl::string_view key, absl::string_view value);
  // Removes every entry named `key`; returns how many were removed.
  size_t remove(absl::string_view key);
  size_t removeIf(const std::function<bool(const HeaderEntry&)>& predicate);

  // The first entry named `key`, or nullptr. `key` must be lower case.
  const HeaderEntry* get(absl::string_view key) const;
  // The first value of `key`, or "" when absent (use get() to tell absent from empty).
  absl::string_view getValue(absl::string_view key) const;
  std::vector<absl::string_view> getAll(absl::string_view key) const;
  bool has(absl::string_view key) const { return get(key) != nullptr; }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Sum of name and value lengths: what header size limits count.
  uint64_t byteSize() const { return byte_size_; }
  const std::vector<HeaderEntry>& entries() const { return entries_; }
  void clear();

  // Pseudo-header shortcuts.
  absl::string_view method() const { return getValue(":method"); }
  absl::string_view path() const { return getValue(":path"); }
  absl::string_view host() const { return getValue(":authority"); }
  absl::string_view scheme() const { return getValue(":scheme"); }
  absl::string_view protocol() const { return getValue(":protocol"); }
  // The :status as a number, or 0 when absent or malformed.
  uint64_t status() const;

  bool operator==(const HeaderMap& other) const;
  bool operator!=(const HeaderMap& other) const { return !(*this == other); }
  std::string toString() const;  // "key: value\n" lines, for logs and tests

 private:
  std::vector<HeaderEntry> entries_;
  uint64_t byte_size_ = 0;
};

// Envoy's distinct header map types; one implementation serves them all.
using RequestHeaderMap = HeaderMap;
using ResponseHeaderMap = HeaderMap;
using RequestTrailerMap = HeaderMap;
using ResponseTrailerMap = HeaderMap;
using HeaderMapPtr = std::unique_ptr<HeaderMap>;
using RequestHeaderMapPtr = std::unique_ptr<RequestHeaderMap>;
using ResponseHeaderMapPtr = std::unique_ptr<ResponseHeaderMap>;
using RequestTrailerMapPtr = std::unique_ptr<RequestTrailerMap>;
using ResponseTrailerMapPtr = std::unique_ptr<ResponseTrailerMap>;

}  // namespace waystone::http
