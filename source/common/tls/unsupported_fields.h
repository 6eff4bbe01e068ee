#pragma once

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace waystone::tls {

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string fieldPath(absl::string_view parent, absl::string_view field);

// Fails, naming the first offending field ("<path>.<field>: not supported ..."), when `message`
// has a field set that is not in `supported`. Set means present for message and wrapper fields,
// non-default for scalars and enums, non-empty for repeated fields. Fields for secrets delivered
// by SDS or certificate providers get a hint that they are not available yet. Checking by
// reflection (rather than listing the unsupported fields) also rejects fields that newer API
// versions add, instead of silently ignoring them.
absl::Status checkSupportedFields(const google::protobuf::Message& message, absl::string_view path,
                                  std::initializer_list<absl::string_view> supported);

}  // namespace waystone::tls
