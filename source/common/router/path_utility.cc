#include "source/common/router/path_utility.h"

#include <vector>

#include "absl/strings/str_split.h"

namespace waystone::router {
namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Bytes the canonicaliser percent-encodes when they appear raw in a path.
bool mustEscape(unsigned char c) {
  return c < 0x21 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' ||
         c == '}';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void appendEscaped(unsigned char c, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xf]);
}

// Decodes unreserved escapes, escapes raw bytes that need it, turns '\' into '/'. Returns false
// on NUL.
bool decodeAndEscape(absl::string_view in, std::string& out) {
  out.reserve(in.size() + 1);
  for (size_t i = 0; i < in.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c == '%') {
      if (i + 2 < in.size() && hexValue(in[i + 1]) >= 0 && hexValue(in[i + 2]) >= 0) {
        const unsigned char decoded =
            static_cast<unsigned char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2]));
        if (decoded == 0) {
          return false;
        }
        if (isUnreserved(decoded)) {
          out.push_back(static_cast<char>(decoded));
        } else {
          // Kept exactly as written: servers may care about the case of the hex digits.
          out.append(in.data() + i, 3);
        }
        i += 2;
      } else {
        out.push_back('%');
      }
    } else if (c == 0) {
      return false;
    } else if (c == '\\') {
      out.push_back('/');
    } else if (mustEscape(c)) {
      appendEscaped(c, out);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return true;
}

// RFC 3986 remove_dot_segments over an absolute path, with a segment stack so that the cost is
// linear in the path length.
std::string removeDotSegments(absl::string_view path) {
  std::vector<absl::string_view> segments;
  bool trailing_slash = false;
  const std::vector<absl::string_view> parts = absl::StrSplit(path.substr(1), '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    const absl::string_view part = parts[i];
    const bool last = i + 1 == parts.size();
    if (part == ".") {
      trailing_slash = last;
    } else if (part == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
      trailing_slash = last;
    } else {
      segments.push_back(part);
    }
  }
  std::string out;
  out.reserve(path.size());
  for (const absl::string_view segment : segments) {
    out.push_back('/');
    out.append(segment.data(), segment.size());
  }
  if (trailing_slash || out.empty()) {
    out.push_back('/');
  }
  return out;
}

}  // namespace

absl::string_view PathUtility::removeQueryAndFragment(absl::string_view path) {
  const size_t end = path.find_first_of("?#");
  return end == absl::string_view::npos ? path : path.substr(0, end);
}

absl::string_view PathUtility::queryString(absl::string_view path) {
  const size_t fragment = path.find('#');
  if (fragment != absl::string_view::npos) {
    path = path.substr(0, fragment);
  }
  const size_t query = path.find('?');
  return query == absl::string_view::npos ? absl::string_view() : path.substr(query + 1);
}

std::optional<absl::string_view> PathUtility::findQueryParameter(absl::string_view path,
                                                                 absl::string_view name) {
  const absl::string_view query = queryString(path);
  if (query.empty()) {
    return std::nullopt;
  }
  for (const absl::string_view param : absl::StrSplit(query, '&')) {
    const size_t equals = param.find('=');
    const absl::string_view key =
        equals == absl::string_view::npos ? param : param.substr(0, equals);
    if (key == name) {
      return equals == absl::string_view::npos ? absl::string_view() : param.substr(equals + 1);
    }
  }
  return std::nullopt;
}

void PathUtility::stripFragment(std::string& path) {
  const size_t fragment = path.find('#');
  if (fragment != std::string::npos) {
    path.resize(fragment);
  }
}

bool PathUtility::canonicalizePath(std::string& path) {
  const size_t query_start = std::min(path.find('?'), path.size());
  const absl::string_view path_part(path.data(), query_start);
  std::string decoded;
  if (!path_part.empty() && path_part[0] != '/') {
    decoded.push_back('/');
  }
  if (!decodeAndEscape(path_part, decoded)) {
    return false;
  }
  if (decoded.empty()) {
    decoded.push_back('/');
  }
  std::string result = removeDotSegments(decoded);
  result.append(path, query_start, std::string::npos);
  path = std::move(result);
  return true;
}

void PathUtility::mergeSlashes(std::string& path) {
  const size_t query_start = std::min(path.find('?'), path.size());
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < query_start; ++i) {
    if (path[i] == '/' && !out.empty() && out.back() == '/') {
      continue;
    }
    out.push_back(path[i]);
  }
  out.append(path, query_start, std::string::npos);
  path = std::move(out);
}

bool PathUtility::normalizePath(std::string& path, bool merge_slashes) {
  stripFragment(path);
  if (!canonicalizePath(path)) {
    return false;
  }
  if (merge_slashes) {
    mergeSlashes(path);
  }
  return true;
}

}  // namespace waystone::router
