#include "source/common/common/json_escape.h"

#include "absl/strings/str_format.h"

namespace waystone {

void appendJsonEscaped(std::string& out, absl::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
}

std::string jsonQuote(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  appendJsonEscaped(out, text);
  out.push_back('"');
  return out;
}

}  // namespace waystone
