#include "source/common/router/header_formatter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {
namespace {

constexpr absl::string_view kDefaultTimeFormat = "%Y-%m-%dT%H:%M:%E3SZ";

bool isCommandChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

absl::StatusOr<HeaderFormatter> HeaderFormatter::create(absl::string_view format,
                                                        absl::string_view path) {
  HeaderFormatter formatter;
  std::string literal;
  auto flush_literal = [&]() {
    if (!literal.empty()) {
      Segment segment;
      segment.text = std::move(literal);
      formatter.segments_.push_back(std::move(segment));
      literal.clear();
    }
  };
  auto invalid = [&](absl::string_view why) {
    return ConfigUtility::error(path, absl::StrCat(why, " in header value \"", format, "\""));
  };

  size_t i = 0;
  while (i < format.size()) {
    if (format[i] != '%') {
      literal.push_back(format[i++]);
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    // %NAME[(arg)][:N]%
    size_t j = i + 1;
    while (j < format.size() && isCommandChar(format[j])) {
      ++j;
    }
    const absl::string_view name = format.substr(i + 1, j - i - 1);
    if (name.empty()) {
      return invalid(absl::StrCat("expected a command name after '%' at offset ", i));
    }
    std::optional<absl::string_view> arg;
    if (j < format.size() && format[j] == '(') {
      const size_t close = format.find(')', j + 1);
      if (close == absl::string_view::npos) {
        return invalid(absl::StrCat("unterminated argument of %", name, "%"));
      }
      arg = format.substr(j + 1, close - j - 1);
      j = close + 1;
    }
    std::optional<size_t> max_length;
    if (j < format.size() && format[j] == ':') {
      size_t digits_end = j + 1;
      while (digits_end < format.size() && absl::ascii_isdigit(format[digits_end])) {
        ++digits_end;
      }
      size_t length = 0;
      if (!absl::SimpleAtoi(format.substr(j + 1, digits_end - j - 1), &length)) {
        return invalid(absl::StrCat("invalid length limit of %", name, "%"));
      }
      max_length = length;
      j = digits_end;
    }
    if (j >= format.size() || format[j] != '%') {
      return invalid(absl::StrCat("unterminated command %", name));
    }
    i = j + 1;

    Segment segment;
    if (name == "REQ") {
      if (!arg.has_value() || arg->empty()) {
        return invalid("%REQ% needs a header name: %REQ(name)%");
      }
      const size_t question = arg->find('?');
      segment.kind = Kind::kRequestHeader;
      segment.text = absl::AsciiStrToLower(arg->substr(0, question));
      if (question != absl::string_view::npos) {
        segment.alternative = absl::AsciiStrToLower(arg->substr(question + 1));
      }
      segment.max_length = max_length;
      if (segment.text.empty()) {
        return invalid("%REQ% needs a header name: %REQ(name)%");
      }
    } else if (name == "START_TIME") {
      segment.kind = Kind::kStartTime;
      segment.text =
          arg.has_value() && !arg->empty() ? std::string(*arg) : std::string(kDefaultTimeFormat);
    } else {
      if (name == "DOWNSTREAM_REMOTE_ADDRESS") {
        segment.kind = Kind::kDownstreamRemoteAddress;
      } else if (name == "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT") {
        segment.kind = Kind::kDownstreamRemoteAddressWithoutPort;
      } else if (name == "UPSTREAM_HOST") {
        segment.kind = Kind::kUpstreamHost;
      } else if (name == "PROTOCOL") {
        segment.kind = Kind::kProtocol;
      } else {
        return invalid(absl::StrCat("unknown command %", name, "%"));
      }
      if (arg.has_value()) {
        return invalid(absl::StrCat("%", name, "% takes no argument"));
      }
    }
    if (max_length.has_value() && segment.kind != Kind::kRequestHeader) {
      return invalid(absl::StrCat("%", name, "% takes no length limit"));
    }
    flush_literal();
    formatter.segments_.push_back(std::move(segment));
    formatter.literal_ = false;
  }
  flush_literal();
  return formatter;
}

std::string HeaderFormatter::format(const http::HeaderMap* request_headers,
                                    const HeaderValueContext& context) const {
  std::string out;
  for (const Segment& segment : segments_) {
    switch (segment.kind) {
      case Kind::kLiteral:
        out.append(segment.text);
        break;
      case Kind::kDownstreamRemoteAddress: {
        const absl::string_view value = context.downstreamRemoteAddress();
        out.append(value.data(), value.size());
        break;
      }
      case Kind::kDownstreamRemoteAddressWithoutPort: {
        const absl::string_view value = context.downstreamRemoteAddressWithoutPort();
        out.append(value.data(), value.size());
        break;
      }
      case Kind::kUpstreamHost: {
        const absl::string_view value = context.upstreamHost();
        out.append(value.data(), value.size());
        break;
      }
      case Kind::kProtocol: {
        const absl::string_view value = context.protocol();
        out.append(value.data(), value.size());
        break;
      }
      case Kind::kRequestHeader: {
        if (request_headers == nullptr) {
          break;
        }
        const http::HeaderEntry* entry = request_headers->get(segment.text);
        if (entry == nullptr && !segment.alternative.empty()) {
          entry = request_headers->get(segment.alternative);
        }
        if (entry != nullptr) {
          absl::string_view value = entry->value;
          if (segment.max_length.has_value() && value.size() > *segment.max_length) {
            value = value.substr(0, *segment.max_length);
          }
          out.append(value.data(), value.size());
        }
        break;
      }
      case Kind::kStartTime:
        out.append(absl::FormatTime(segment.text, context.startTime(), absl::UTCTimeZone()));
        break;
    }
  }
  return out;
}

}  // namespace waystone::router
