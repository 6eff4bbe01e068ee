#pragma once

#include "absl/strings/string_view.h"

namespace waystone::protobuf {

// The well-known string formats of protoc-gen-validate, checked the way PGV's C++/Go
// validators check them. Used by the PGV rule validator; free of any proto types.

bool isIpv4(absl::string_view value);
bool isIpv6(absl::string_view value);
inline bool isIp(absl::string_view value) { return isIpv4(value) || isIpv6(value); }
// RFC 1034 host name: at most 253 characters, labels of 1-63 letters, digits and '-' not
// starting or ending with '-', one optional trailing dot.
bool isHostname(absl::string_view value);
// local@domain with a non-empty local part of at most 64 bytes and a host name domain.
bool isEmail(absl::string_view value);
// An absolute URI: scheme ":" rest, with no whitespace or control characters.
bool isUri(absl::string_view value);
// A URI reference (absolute or relative): no whitespace or control characters.
bool isUriRef(absl::string_view value);
// 8-4-4-4-12 hexadecimal digits.
bool isUuid(absl::string_view value);
// PGV's HTTP_HEADER_NAME and HTTP_HEADER_VALUE regexes; `strict` as the rule's `strict`.
bool isHttpHeaderName(absl::string_view value, bool strict);
bool isHttpHeaderValue(absl::string_view value, bool strict);

// Number of UTF-8 code points (bytes that are not continuation bytes), PGV's string "length".
size_t utf8Length(absl::string_view value);

}  // namespace waystone::protobuf
