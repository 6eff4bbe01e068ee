#include "source/common/formatter/date_formatter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace waystone::formatter {
namespace {

constexpr absl::string_view kDefaultFormat = "%Y-%m-%dT%H:%M:%E3SZ";

}  // namespace

absl::StatusOr<DateFormatter> DateFormatter::create(absl::string_view format) {
  if (format.empty()) {
    format = kDefaultFormat;
  }
  DateFormatter formatter;
  std::string current;
  auto flush = [&]() {
    if (!current.empty()) {
      formatter.pieces_.push_back(Piece{std::move(current), 0});
      current.clear();
    }
  };
  size_t i = 0;
  while (i < format.size()) {
    if (format[i] != '%' || i + 1 >= format.size()) {
      current.push_back(format[i++]);
      continue;
    }
    const char next = format[i + 1];
    if (next == '%') {  // a literal '%', left to absl
      current.append("%%");
      i += 2;
      continue;
    }
    if (next == 'f') {
      flush();
      formatter.pieces_.push_back(Piece{"", 9});
      i += 2;
      continue;
    }
    if (next >= '1' && next <= '9' && i + 2 < format.size() && format[i + 2] == 'f') {
      flush();
      formatter.pieces_.push_back(Piece{"", next - '0'});
      i += 3;
      continue;
    }
    // Any other specifier: refuse %n (with its optional flags, width and E/O modifier), as Envoy
    // does, and pass the rest to absl.
    size_t j = i + 1;
    while (j < format.size() &&
           (absl::string_view("-_0^#").find(format[j]) != absl::string_view::npos ||
            absl::ascii_isdigit(format[j]))) {
      ++j;
    }
    if (j < format.size() && (format[j] == 'E' || format[j] == 'O')) {
      ++j;
    }
    if (j < format.size() && format[j] == 'n') {
      return absl::InvalidArgumentError(
          absl::StrCat("time format \"", format, "\" contains a newline (%n)"));
    }
    current.push_back(format[i++]);
  }
  flush();
  return formatter;
}

void DateFormatter::appendTo(std::chrono::system_clock::time_point time, std::string& out) const {
  const absl::Time t = absl::FromChrono(time);
  for (const Piece& piece : pieces_) {
    if (piece.fraction_digits == 0) {
      out.append(absl::FormatTime(piece.time_format, t, absl::UTCTimeZone()));
      continue;
    }
    // Nanoseconds within the second, always 9 digits, then cut to the requested precision.
    const auto since_epoch = time.time_since_epoch();
    int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        since_epoch - std::chrono::duration_cast<std::chrono::seconds>(since_epoch))
                        .count();
    if (nanos < 0) {  // before 1970: the fraction counts up from the earlier second
      nanos += 1000000000;
    }
    char digits[9];
    for (int d = 8; d >= 0; --d) {
      digits[d] = static_cast<char>('0' + nanos % 10);
      nanos /= 10;
    }
    out.append(digits, piece.fraction_digits);
  }
}

}  // namespace waystone::formatter
