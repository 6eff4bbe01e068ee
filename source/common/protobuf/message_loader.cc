#include "source/common/protobuf/message_loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include <sys/stat.h>

#include "source/common/protobuf/json_error_locator.h"
#include "source/common/protobuf/yaml_to_json.h"

namespace waystone::protobuf {
namespace {

// Protobuf's own JSON parser recurses per nesting level; check depth first with a cheap scan so
// deep input gets a clear error instead of a stack overflow or a vague parser message.
absl::Status checkJsonDepth(absl::string_view json, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(
            absl::StrCat("JSON nesting deeper than ", max_depth, " levels at offset ", i));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return absl::OkStatus();
}

absl::Status readFile(const std::string& path, size_t max_bytes, std::string& contents) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read config file '", path, "': ", std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read config file '", path, "': not a regular file"));
  }
  if (static_cast<size_t>(info.st_size) > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("config file '", path, "' is ", info.st_size,
                                                   " bytes, more than the limit of ", max_bytes));
  }
  std::ifstream file(path, std::ios::in | std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read config file '", path, "': ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read config file '", path, "'"));
  }
  contents = buffer.str();
  return absl::OkStatus();
}

bool looksLikeJson(absl::string_view text) {
  absl::string_view stripped = absl::StripLeadingAsciiWhitespace(text);
  return !stripped.empty() && stripped.front() == '{';
}

}  // namespace

absl::Status loadFromJson(absl::string_view json, google::protobuf::Message& out,
                          const LoadOptions& options) {
  if (json.size() > options.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JSON document is ", json.size(), " bytes, more than the limit of ", options.max_bytes));
  }
  absl::Status depth = checkJsonDepth(json, options.max_depth);
  if (!depth.ok()) {
    return depth;
  }
  google::protobuf::util::JsonParseOptions parse_options;
  parse_options.ignore_unknown_fields = options.allow_unknown_fields;
  out.Clear();
  const auto status =
      google::protobuf::util::JsonStringToMessage({json.data(), json.size()}, &out, parse_options);
  if (status.ok()) {
    return absl::OkStatus();
  }
  out.Clear();
  return absl::InvalidArgumentError(
      describeJsonError(std::string(status.message()), json, *out.GetDescriptor(), parse_options));
}

absl::Status loadFromYaml(absl::string_view yaml, google::protobuf::Message& out,
                          const LoadOptions& options) {
  absl::StatusOr<std::string> json = yamlToJson(yaml, options);
  if (!json.ok()) {
    out.Clear();
    return json.status();
  }
  if (*json == "null") {
    // An empty document (or only comments): an empty message, not an error.
    out.Clear();
    return absl::OkStatus();
  }
  return loadFromJson(*json, out, options);
}

absl::Status loadFromFile(const std::string& path, google::protobuf::Message& out,
                          const LoadOptions& options) {
  std::string contents;
  absl::Status status = readFile(path, options.max_bytes, contents);
  if (!status.ok()) {
    return status;
  }
  if (absl::EndsWith(path, ".json")) {
    return loadFromJson(contents, out, options);
  }
  if (absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml")) {
    return loadFromYaml(contents, out, options);
  }
  if (absl::EndsWith(path, ".pb_text") || absl::EndsWith(path, ".textproto")) {
    out.Clear();
    google::protobuf::TextFormat::Parser parser;
    parser.AllowUnknownField(options.allow_unknown_fields);
    if (!parser.ParseFromString(contents, &out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse '", path, "' as protobuf text format"));
    }
    return absl::OkStatus();
  }
  if (absl::EndsWith(path, ".pb")) {
    out.Clear();
    if (!out.ParseFromString(contents)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse '", path, "' as binary ", out.GetTypeName()));
    }
    return absl::OkStatus();
  }
  status = loadFromJson(contents, out, options);
  if (status.ok() || looksLikeJson(contents)) {
    return status;
  }
  return loadFromYaml(contents, out, options);
}

absl::Status mergeYamlOver(absl::string_view yaml, google::protobuf::Message& out,
                           const LoadOptions& options) {
  std::unique_ptr<google::protobuf::Message> overlay(out.New());
  absl::Status status = loadFromYaml(yaml, *overlay, options);
  if (!status.ok()) {
    return status;
  }
  out.MergeFrom(*overlay);
  return absl::OkStatus();
}

std::string toJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions print_options;
  print_options.add_whitespace = pretty;
  print_options.always_print_primitive_fields = false;
  print_options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, print_options);
  if (!status.ok()) {
    std::string error = "{\"error\":";
    appendJsonString(std::string(status.message()), error);
    error.push_back('}');
    return error;
  }
  return json;
}

}  // namespace waystone::protobuf
