#include "source/common/protobuf/string_formats.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include <arpa/inet.h>

namespace waystone::protobuf {
namespace {

bool hasSpaceOrControl(absl::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return true;
    }
  }
  return false;
}

// Header characters PGV's non-strict regex rejects: NUL, LF and CR.
bool hasNulCrLf(absl::string_view value) {
  return value.find_first_of(absl::string_view("\0\r\n", 3)) != absl::string_view::npos;
}

}  // namespace

bool isIpv4(absl::string_view value) {
  struct in_addr address;
  return ::inet_pton(AF_INET, std::string(value).c_str(), &address) == 1;
}

bool isIpv6(absl::string_view value) {
  struct in6_addr address;
  return ::inet_pton(AF_INET6, std::string(value).c_str(), &address) == 1;
}

bool isHostname(absl::string_view value) {
  if (!value.empty() && value.back() == '.') {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 253) {
    return false;
  }
  for (absl::string_view label : absl::StrSplit(value, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
  }
  return true;
}

bool isEmail(absl::string_view value) {
  // PGV accepts "Name <local@domain>"; configs never use that form, so only the bare address.
  const size_t at = value.rfind('@');
  if (at == absl::string_view::npos || at == 0 || at > 64) {
    return false;
  }
  return !hasSpaceOrControl(value.substr(0, at)) && isHostname(value.substr(at + 1));
}

bool isUri(absl::string_view value) {
  const size_t colon = value.find(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::ascii_isalpha(static_cast<unsigned char>(value[0]))) {
    return false;
  }
  for (char c : value.substr(0, colon)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return !hasSpaceOrControl(value);
}

bool isUriRef(absl::string_view value) { return !hasSpaceOrControl(value); }

bool isUuid(absl::string_view value) {
  if (value.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? value[i] != '-'
                      : !absl::ascii_isxdigit(static_cast<unsigned char>(value[i]))) {
      return false;
    }
  }
  return true;
}

bool isHttpHeaderName(absl::string_view value, bool strict) {
  if (!strict) {
    return !hasNulCrLf(value);
  }
  // ^:?[0-9a-zA-Z!#$%&'*+-.^_|~\x60]+$ ; "+-." in PGV's class is the range '+' to '.', so ','
  // is accepted too, exactly as PGV does.
  if (!value.empty() && value.front() == ':') {
    value.remove_prefix(1);
  }
  if (value.empty()) {
    return false;
  }
  for (char c : value) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    absl::string_view("!#$%&'*+,-.^_|~`").find(c) != absl::string_view::npos;
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool isHttpHeaderValue(absl::string_view value, bool strict) {
  if (!strict) {
    return !hasNulCrLf(value);
  }
  // ^[^\u0000-\u0008\u000A-\u001F\u007F]*$ : tab is the only control character allowed.
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
      return false;
    }
  }
  return true;
}

size_t utf8Length(absl::string_view value) {
  size_t count = 0;
  for (char c : value) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++count;
    }
  }
  return count;
}

}  // namespace waystone::protobuf
