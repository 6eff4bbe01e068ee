#include "source/common/protobuf/pgv_scalar_rules.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "re2/re2.h"

#include "source/common/protobuf/string_formats.h"

namespace waystone::protobuf {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string show(int32_t value) { return absl::StrCat(value); }
std::string show(int64_t value) { return absl::StrCat(value); }
std::string show(uint32_t value) { return absl::StrCat(value); }
std::string show(uint64_t value) { return absl::StrCat(value); }
std::string show(double value) { return formatNumber(value); }
std::string show(float value) { return formatNumber(value); }
std::string show(const std::string& value) { return absl::StrCat("\"", value, "\""); }

template <class List>
std::string showList(const List& list) {
  std::vector<std::string> items;
  for (const auto& item : list) {
    items.push_back(show(item));
  }
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

template <class T>
absl::Status fail(absl::string_view requirement, T got) {
  return absl::InvalidArgumentError(
      absl::StrCat("value must ", requirement, " (got ", show(got), ")"));
}

template <class List, class T>
bool contains(const List& list, const T& value) {
  for (const auto& item : list) {
    if (item == value) {
      return true;
    }
  }
  return false;
}

// The numeric rules of PGV (const, lt, lte, gt, gte, in, not_in). With both a lower and an
// upper bound the range is inclusive of values between them when upper > lower, and exclusive
// (value outside the range) otherwise, as PGV defines it.
template <class Rules, class T>
absl::Status checkNumeric(const Rules& rules, T value) {
  if (rules.has_ignore_empty() && rules.ignore_empty() && value == T{}) {
    return absl::OkStatus();
  }
  if (rules.has_const_() && value != rules.const_()) {
    return fail(absl::StrCat("equal ", show(rules.const_())), value);
  }
  if (rules.in_size() > 0 && !contains(rules.in(), value)) {
    return fail(absl::StrCat("be in ", showList(rules.in())), value);
  }
  if (contains(rules.not_in(), value)) {
    return fail(absl::StrCat("not be in ", showList(rules.not_in())), value);
  }
  const bool has_lower = rules.has_gt() || rules.has_gte();
  const bool has_upper = rules.has_lt() || rules.has_lte();
  const T lower = rules.has_gt() ? rules.gt() : rules.gte();
  const T upper = rules.has_lt() ? rules.lt() : rules.lte();
  const std::string lower_text = absl::StrCat(rules.has_gt() ? "> " : ">= ", show(lower));
  const std::string upper_text = absl::StrCat(rules.has_lt() ? "< " : "<= ", show(upper));
  const bool above_lower = rules.has_gt() ? value > lower : value >= lower;
  const bool below_upper = rules.has_lt() ? value < upper : value <= upper;
  if (has_lower && has_upper) {
    if (upper > lower) {
      if (!above_lower || !below_upper) {
        return fail(absl::StrCat("be ", lower_text, " and ", upper_text), value);
      }
    } else if (!above_lower && !below_upper) {
      return fail(absl::StrCat("be ", upper_text, " or ", lower_text), value);
    }
    return absl::OkStatus();
  }
  if (has_lower && !above_lower) {
    return fail(absl::StrCat("be ", lower_text), value);
  }
  if (has_upper && !below_upper) {
    return fail(absl::StrCat("be ", upper_text), value);
  }
  return absl::OkStatus();
}

// Compiled PGV patterns, shared by all validations. The set is bounded: patterns come only from
// the options compiled into the binary's descriptors.
const RE2* compiledPattern(const std::string& pattern) {
  static absl::Mutex mutex(absl::kConstInit);
  static auto* cache = new absl::flat_hash_map<std::string, std::unique_ptr<RE2>>();
  absl::MutexLock lock(&mutex);
  auto it = cache->find(pattern);
  if (it == cache->end()) {
    RE2::Options options;
    options.set_log_errors(false);
    auto regex = std::make_unique<RE2>(pattern, options);
    it = cache->emplace(pattern, regex->ok() ? std::move(regex) : nullptr).first;
  }
  return it->second.get();
}

absl::Status checkWellKnownString(const validate::StringRules& rules, const std::string& value) {
  switch (rules.well_known_case()) {
    case validate::StringRules::kEmail:
      return !rules.email() || isEmail(value) ? absl::OkStatus()
                                              : fail("be a valid email address", value);
    case validate::StringRules::kHostname:
      return !rules.hostname() || isHostname(value) ? absl::OkStatus()
                                                    : fail("be a valid hostname", value);
    case validate::StringRules::kIp:
      return !rules.ip() || isIp(value) ? absl::OkStatus() : fail("be a valid IP address", value);
    case validate::StringRules::kIpv4:
      return !rules.ipv4() || isIpv4(value) ? absl::OkStatus()
                                            : fail("be a valid IPv4 address", value);
    case validate::StringRules::kIpv6:
      return !rules.ipv6() || isIpv6(value) ? absl::OkStatus()
                                            : fail("be a valid IPv6 address", value);
    case validate::StringRules::kUri:
      return !rules.uri() || isUri(value) ? absl::OkStatus() : fail("be a valid URI", value);
    case validate::StringRules::kUriRef:
      return !rules.uri_ref() || isUriRef(value) ? absl::OkStatus()
                                                 : fail("be a valid URI reference", value);
    case validate::StringRules::kAddress:
      return !rules.address() || isIp(value) || isHostname(value)
                 ? absl::OkStatus()
                 : fail("be a valid hostname or IP address", value);
    case validate::StringRules::kUuid:
      return !rules.uuid() || isUuid(value) ? absl::OkStatus() : fail("be a valid UUID", value);
    case validate::StringRules::kWellKnownRegex:
      if (rules.well_known_regex() == validate::HTTP_HEADER_NAME &&
          !isHttpHeaderName(value, rules.strict())) {
        return fail("be a valid HTTP header name", value);
      }
      if (rules.well_known_regex() == validate::HTTP_HEADER_VALUE &&
          !isHttpHeaderValue(value, rules.strict())) {
        return fail("be a valid HTTP header value", value);
      }
      return absl::OkStatus();
    case validate::StringRules::WELL_KNOWN_NOT_SET:
      break;
  }
  return absl::OkStatus();
}

absl::Status checkString(const validate::StringRules& rules, const std::string& value) {
  if (rules.ignore_empty() && value.empty()) {
    return absl::OkStatus();
  }
  if (rules.has_const_() && value != rules.const_()) {
    return fail(absl::StrCat("equal \"", rules.const_(), "\""), value);
  }
  const size_t length = utf8Length(value);
  if (rules.has_len() && length != rules.len()) {
    return fail(absl::StrCat("be exactly ", rules.len(), " characters long"), value);
  }
  if (rules.has_min_len() && length < rules.min_len()) {
    return fail(absl::StrCat("be at least ", rules.min_len(), " characters long"), value);
  }
  if (rules.has_max_len() && length > rules.max_len()) {
    return fail(absl::StrCat("be at most ", rules.max_len(), " characters long"), value);
  }
  if (rules.has_len_bytes() && value.size() != rules.len_bytes()) {
    return fail(absl::StrCat("be exactly ", rules.len_bytes(), " bytes long"), value);
  }
  if (rules.has_min_bytes() && value.size() < rules.min_bytes()) {
    return fail(absl::StrCat("be at least ", rules.min_bytes(), " bytes long"), value);
  }
  if (rules.has_max_bytes() && value.size() > rules.max_bytes()) {
    return fail(absl::StrCat("be at most ", rules.max_bytes(), " bytes long"), value);
  }
  if (rules.has_pattern()) {
    const RE2* regex = compiledPattern(rules.pattern());
    if (regex != nullptr && !RE2::PartialMatch(value, *regex)) {
      return fail(absl::StrCat("match the pattern ", rules.pattern()), value);
    }
  }
  if (rules.has_prefix() && !absl::StartsWith(value, rules.prefix())) {
    return fail(absl::StrCat("start with \"", rules.prefix(), "\""), value);
  }
  if (rules.has_suffix() && !absl::EndsWith(value, rules.suffix())) {
    return fail(absl::StrCat("end with \"", rules.suffix(), "\""), value);
  }
  if (rules.has_contains() && !absl::StrContains(value, rules.contains())) {
    return fail(absl::StrCat("contain \"", rules.contains(), "\""), value);
  }
  if (rules.has_not_contains() && absl::StrContains(value, rules.not_contains())) {
    return fail(absl::StrCat("not contain \"", rules.not_contains(), "\""), value);
  }
  if (rules.in_size() > 0 && !contains(rules.in(), value)) {
    return fail(absl::StrCat("be in ", showList(rules.in())), value);
  }
  if (contains(rules.not_in(), value)) {
    return fail(absl::StrCat("not be in ", showList(rules.not_in())), value);
  }
  return checkWellKnownString(rules, value);
}

absl::Status checkBytes(const validate::BytesRules& rules, const std::string& value) {
  if (rules.ignore_empty() && value.empty()) {
    return absl::OkStatus();
  }
  const auto failBytes = [&value](absl::string_view requirement) {
    return absl::InvalidArgumentError(
        absl::StrCat("value must ", requirement, " (got ", value.size(), " bytes)"));
  };
  if (rules.has_const_() && value != rules.const_()) {
    return failBytes("equal the configured constant");
  }
  if (rules.has_len() && value.size() != rules.len()) {
    return failBytes(absl::StrCat("be exactly ", rules.len(), " bytes long"));
  }
  if (rules.has_min_len() && value.size() < rules.min_len()) {
    return failBytes(absl::StrCat("be at least ", rules.min_len(), " bytes long"));
  }
  if (rules.has_max_len() && value.size() > rules.max_len()) {
    return failBytes(absl::StrCat("be at most ", rules.max_len(), " bytes long"));
  }
  if (rules.has_pattern()) {
    const RE2* regex = compiledPattern(rules.pattern());
    if (regex != nullptr && !RE2::PartialMatch(value, *regex)) {
      return failBytes(absl::StrCat("match the pattern ", rules.pattern()));
    }
  }
  if (rules.has_prefix() && !absl::StartsWith(value, rules.prefix())) {
    return failBytes("start with the configured prefix");
  }
  if (rules.has_suffix() && !absl::EndsWith(value, rules.suffix())) {
    return failBytes("end with the configured suffix");
  }
  if (rules.has_contains() && !absl::StrContains(value, rules.contains())) {
    return failBytes("contain the configured bytes");
  }
  if (rules.in_size() > 0 && !contains(rules.in(), value)) {
    return failBytes("be one of the configured values");
  }
  if (contains(rules.not_in(), value)) {
    return failBytes("not be one of the configured values");
  }
  // Bytes IPs are raw addresses: 4 bytes for IPv4, 16 for IPv6.
  if ((rules.ip() && value.size() != 4 && value.size() != 16) ||
      (rules.ipv4() && value.size() != 4) || (rules.ipv6() && value.size() != 16)) {
    return failBytes("be a raw IP address");
  }
  return absl::OkStatus();
}

absl::Status checkEnum(const validate::EnumRules& rules, const FieldDescriptor& field, int value) {
  if (rules.has_const_() && value != rules.const_()) {
    return fail(absl::StrCat("equal ", rules.const_()), value);
  }
  if (rules.defined_only() && field.enum_type()->FindValueByNumber(value) == nullptr) {
    return fail(absl::StrCat("be a defined value of ", field.enum_type()->full_name()), value);
  }
  if (rules.in_size() > 0 && !contains(rules.in(), value)) {
    return fail(absl::StrCat("be in ", showList(rules.in())), value);
  }
  if (contains(rules.not_in(), value)) {
    return fail(absl::StrCat("not be in ", showList(rules.not_in())), value);
  }
  return absl::OkStatus();
}

// Reads element `index` (or the singular value when index < 0) through reflection.
struct ValueReader {
  const Message& message;
  const FieldDescriptor& field;
  int index;
  const Reflection& reflection;

  int32_t int32() const {
    return index < 0 ? reflection.GetInt32(message, &field)
                     : reflection.GetRepeatedInt32(message, &field, index);
  }
  int64_t int64() const {
    return index < 0 ? reflection.GetInt64(message, &field)
                     : reflection.GetRepeatedInt64(message, &field, index);
  }
  uint32_t uint32() const {
    return index < 0 ? reflection.GetUInt32(message, &field)
                     : reflection.GetRepeatedUInt32(message, &field, index);
  }
  uint64_t uint64() const {
    return index < 0 ? reflection.GetUInt64(message, &field)
                     : reflection.GetRepeatedUInt64(message, &field, index);
  }
  float floatValue() const {
    return index < 0 ? reflection.GetFloat(message, &field)
                     : reflection.GetRepeatedFloat(message, &field, index);
  }
  double doubleValue() const {
    return index < 0 ? reflection.GetDouble(message, &field)
                     : reflection.GetRepeatedDouble(message, &field, index);
  }
  bool boolValue() const {
    return index < 0 ? reflection.GetBool(message, &field)
                     : reflection.GetRepeatedBool(message, &field, index);
  }
  int enumValue() const {
    return index < 0 ? reflection.GetEnumValue(message, &field)
                     : reflection.GetRepeatedEnumValue(message, &field, index);
  }
  std::string string() const {
    return index < 0 ? reflection.GetString(message, &field)
                     : reflection.GetRepeatedString(message, &field, index);
  }
};

}  // namespace

std::string formatNumber(double value) {
  char buffer[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) {
      break;
    }
  }
  return buffer;
}

bool isZeroScalar(const Message& message, const FieldDescriptor& field, int index) {
  const ValueReader read{message, field, index, *message.GetReflection()};
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return read.int32() == 0;
    case FieldDescriptor::CPPTYPE_INT64:
      return read.int64() == 0;
    case FieldDescriptor::CPPTYPE_UINT32:
      return read.uint32() == 0;
    case FieldDescriptor::CPPTYPE_UINT64:
      return read.uint64() == 0;
    case FieldDescriptor::CPPTYPE_FLOAT:
      return read.floatValue() == 0;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return read.doubleValue() == 0;
    case FieldDescriptor::CPPTYPE_BOOL:
      return !read.boolValue();
    case FieldDescriptor::CPPTYPE_ENUM:
      return read.enumValue() == 0;
    case FieldDescriptor::CPPTYPE_STRING:
      return read.string().empty();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return false;
  }
  return false;
}

absl::Status checkScalarRules(const validate::FieldRules& rules, const Message& message,
                              const FieldDescriptor& field, int index) {
  const ValueReader read{message, field, index, *message.GetReflection()};
  const auto cpp_type = field.cpp_type();
  switch (rules.type_case()) {
    case validate::FieldRules::kInt32:
      return cpp_type == FieldDescriptor::CPPTYPE_INT32 ? checkNumeric(rules.int32(), read.int32())
                                                        : absl::OkStatus();
    case validate::FieldRules::kSint32:
      return cpp_type == FieldDescriptor::CPPTYPE_INT32 ? checkNumeric(rules.sint32(), read.int32())
                                                        : absl::OkStatus();
    case validate::FieldRules::kSfixed32:
      return cpp_type == FieldDescriptor::CPPTYPE_INT32
                 ? checkNumeric(rules.sfixed32(), read.int32())
                 : absl::OkStatus();
    case validate::FieldRules::kInt64:
      return cpp_type == FieldDescriptor::CPPTYPE_INT64 ? checkNumeric(rules.int64(), read.int64())
                                                        : absl::OkStatus();
    case validate::FieldRules::kSint64:
      return cpp_type == FieldDescriptor::CPPTYPE_INT64 ? checkNumeric(rules.sint64(), read.int64())
                                                        : absl::OkStatus();
    case validate::FieldRules::kSfixed64:
      return cpp_type == FieldDescriptor::CPPTYPE_INT64
                 ? checkNumeric(rules.sfixed64(), read.int64())
                 : absl::OkStatus();
    case validate::FieldRules::kUint32:
      return cpp_type == FieldDescriptor::CPPTYPE_UINT32
                 ? checkNumeric(rules.uint32(), read.uint32())
                 : absl::OkStatus();
    case validate::FieldRules::kFixed32:
      return cpp_type == FieldDescriptor::CPPTYPE_UINT32
                 ? checkNumeric(rules.fixed32(), read.uint32())
                 : absl::OkStatus();
    case validate::FieldRules::kUint64:
      return cpp_type == FieldDescriptor::CPPTYPE_UINT64
                 ? checkNumeric(rules.uint64(), read.uint64())
                 : absl::OkStatus();
    case validate::FieldRules::kFixed64:
      return cpp_type == FieldDescriptor::CPPTYPE_UINT64
                 ? checkNumeric(rules.fixed64(), read.uint64())
                 : absl::OkStatus();
    case validate::FieldRules::kFloat:
      return cpp_type == FieldDescriptor::CPPTYPE_FLOAT
                 ? checkNumeric(rules.float_(), read.floatValue())
                 : absl::OkStatus();
    case validate::FieldRules::kDouble:
      return cpp_type == FieldDescriptor::CPPTYPE_DOUBLE
                 ? checkNumeric(rules.double_(), read.doubleValue())
                 : absl::OkStatus();
    case validate::FieldRules::kBool:
      if (cpp_type == FieldDescriptor::CPPTYPE_BOOL && rules.bool_().has_const_() &&
          read.boolValue() != rules.bool_().const_()) {
        return absl::InvalidArgumentError(
            absl::StrCat("value must equal ", rules.bool_().const_() ? "true" : "false"));
      }
      return absl::OkStatus();
    case validate::FieldRules::kString:
      return field.type() == FieldDescriptor::TYPE_STRING
                 ? checkString(rules.string(), read.string())
                 : absl::OkStatus();
    case validate::FieldRules::kBytes:
      return field.type() == FieldDescriptor::TYPE_BYTES ? checkBytes(rules.bytes(), read.string())
                                                         : absl::OkStatus();
    case validate::FieldRules::kEnum:
      return cpp_type == FieldDescriptor::CPPTYPE_ENUM
                 ? checkEnum(rules.enum_(), field, read.enumValue())
                 : absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace waystone::protobuf
