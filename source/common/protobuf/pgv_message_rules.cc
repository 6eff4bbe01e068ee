#include "source/common/protobuf/pgv_message_rules.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace waystone::protobuf {
namespace {

absl::Duration toDuration(const google::protobuf::Duration& value) {
  return absl::Seconds(value.seconds()) + absl::Nanoseconds(value.nanos());
}

absl::Time toTime(const google::protobuf::Timestamp& value) {
  return absl::FromUnixSeconds(value.seconds()) + absl::Nanoseconds(value.nanos());
}

std::string show(absl::Duration value) { return absl::FormatDuration(value); }
std::string show(absl::Time value) {
  return absl::FormatTime(absl::RFC3339_full, value, absl::UTCTimeZone());
}

template <class T>
absl::Status fail(absl::string_view requirement, T got) {
  return absl::InvalidArgumentError(
      absl::StrCat("value must ", requirement, " (got ", show(got), ")"));
}

// The comparison rules shared by Duration and Timestamp (const, lt, lte, gt, gte), with PGV's
// inclusive/exclusive range semantics when both bounds are set.
template <class T>
absl::Status checkBounds(bool has_const, T constant, bool has_lt, T lt, bool has_lte, T lte,
                         bool has_gt, T gt, bool has_gte, T gte, T value) {
  if (has_const && value != constant) {
    return fail(absl::StrCat("equal ", show(constant)), value);
  }
  const bool has_lower = has_gt || has_gte;
  const bool has_upper = has_lt || has_lte;
  const T lower = has_gt ? gt : gte;
  const T upper = has_lt ? lt : lte;
  const std::string lower_text = absl::StrCat(has_gt ? "> " : ">= ", show(lower));
  const std::string upper_text = absl::StrCat(has_lt ? "< " : "<= ", show(upper));
  const bool above_lower = has_gt ? value > lower : value >= lower;
  const bool below_upper = has_lt ? value < upper : value <= upper;
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

}  // namespace

absl::Status checkDurationRules(const validate::DurationRules& rules,
                                const google::protobuf::Duration* value) {
  if (value == nullptr) {
    return rules.required() ? absl::InvalidArgumentError("value is required") : absl::OkStatus();
  }
  const absl::Duration duration = toDuration(*value);
  absl::Status status =
      checkBounds(rules.has_const_(), toDuration(rules.const_()), rules.has_lt(),
                  toDuration(rules.lt()), rules.has_lte(), toDuration(rules.lte()), rules.has_gt(),
                  toDuration(rules.gt()), rules.has_gte(), toDuration(rules.gte()), duration);
  if (!status.ok()) {
    return status;
  }
  std::vector<std::string> allowed;
  bool found = false;
  for (const auto& item : rules.in()) {
    allowed.push_back(show(toDuration(item)));
    found = found || toDuration(item) == duration;
  }
  if (!allowed.empty() && !found) {
    return fail(absl::StrCat("be in [", absl::StrJoin(allowed, ", "), "]"), duration);
  }
  for (const auto& item : rules.not_in()) {
    if (toDuration(item) == duration) {
      return fail(absl::StrCat("not be ", show(duration)), duration);
    }
  }
  return absl::OkStatus();
}

absl::Status checkTimestampRules(const validate::TimestampRules& rules,
                                 const google::protobuf::Timestamp* value) {
  if (value == nullptr) {
    return rules.required() ? absl::InvalidArgumentError("value is required") : absl::OkStatus();
  }
  const absl::Time time = toTime(*value);
  absl::Status status =
      checkBounds(rules.has_const_(), toTime(rules.const_()), rules.has_lt(), toTime(rules.lt()),
                  rules.has_lte(), toTime(rules.lte()), rules.has_gt(), toTime(rules.gt()),
                  rules.has_gte(), toTime(rules.gte()), time);
  if (!status.ok()) {
    return status;
  }
  const absl::Time now = absl::Now();
  if (rules.lt_now() && !(time < now)) {
    return fail("be in the past", time);
  }
  if (rules.gt_now() && !(time > now)) {
    return fail("be in the future", time);
  }
  if (rules.has_within() && absl::AbsDuration(time - now) > toDuration(rules.within())) {
    return fail(absl::StrCat("be within ", show(toDuration(rules.within())), " of now"), time);
  }
  return absl::OkStatus();
}

absl::Status checkAnyRules(const validate::AnyRules& rules, const google::protobuf::Any* value) {
  if (value == nullptr) {
    return rules.required() ? absl::InvalidArgumentError("value is required") : absl::OkStatus();
  }
  bool found = false;
  for (const auto& type_url : rules.in()) {
    found = found || type_url == value->type_url();
  }
  if (rules.in_size() > 0 && !found) {
    return absl::InvalidArgumentError(absl::StrCat("type URL must be in [",
                                                   absl::StrJoin(rules.in(), ", "), "] (got ",
                                                   value->type_url(), ")"));
  }
  for (const auto& type_url : rules.not_in()) {
    if (type_url == value->type_url()) {
      return absl::InvalidArgumentError(absl::StrCat("type URL must not be ", value->type_url()));
    }
  }
  return absl::OkStatus();
}

}  // namespace waystone::protobuf
