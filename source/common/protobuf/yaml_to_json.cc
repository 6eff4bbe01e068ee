#include "source/common/protobuf/yaml_to_json.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "yaml-cpp/yaml.h"

#include "source/common/common/json_escape.h"

namespace waystone::protobuf {
namespace {

// Largest integer magnitude a double (and so any JSON reader) represents exactly.
constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

constexpr absl::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr absl::string_view kMergeKey = "<<";
constexpr absl::string_view kIgnoreTag = "!ignore";

std::string position(const YAML::Mark& mark) {
  if (mark.is_null()) {
    return "unknown position";
  }
  return absl::StrFormat("line %d, column %d", mark.line + 1, mark.column + 1);
}

std::string where(const YAML::Mark& mark) { return absl::StrCat("YAML ", position(mark)); }

// Shortest decimal form that reads back as the same double.
std::string formatDouble(double value) {
  char buffer[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) {
      break;
    }
  }
  return buffer;
}

// Walks a yaml-cpp node tree and writes JSON. yaml-cpp reports errors by throwing; those are
// caught at the single entry point below, and everything here returns absl::Status instead.
class Converter {
 public:
  explicit Converter(const LoadOptions& options) : options_(options) {}

  absl::Status convert(const YAML::Node& node, int depth) {
    if (depth > options_.max_depth) {
      return absl::InvalidArgumentError(absl::StrCat(where(node.Mark()), ": nesting deeper than ",
                                                     options_.max_depth, " levels"));
    }
    absl::Status status;
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
        return absl::InvalidArgumentError(absl::StrCat(where(node.Mark()), ": undefined value"));
      case YAML::NodeType::Null:
        out_.append("null");
        break;
      case YAML::NodeType::Scalar:
        appendScalar(node);
        break;
      case YAML::NodeType::Sequence:
        status = convertSequence(node, depth);
        break;
      case YAML::NodeType::Map:
        status = convertMap(node, depth);
        break;
    }
    if (!status.ok()) {
      return status;
    }
    if (out_.size() > options_.max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(node.Mark()), ": document expands to more than ", options_.max_bytes,
                       " bytes of JSON (alias expansion?)"));
    }
    return absl::OkStatus();
  }

  std::string take() { return std::move(out_); }

 private:
  absl::Status convertSequence(const YAML::Node& node, int depth) {
    out_.push_back('[');
    bool first = true;
    for (const YAML::Node& child : node) {
      if (!first) {
        out_.push_back(',');
      }
      first = false;
      absl::Status status = convert(child, depth + 1);
      if (!status.ok()) {
        return status;
      }
    }
    out_.push_back(']');
    return absl::OkStatus();
  }

  using Entries = std::vector<std::pair<std::string, YAML::Node>>;

  // One map, with merge keys resolved: own keys first, then keys from `<<` sources that the map
  // does not set itself (earlier sources win, as in the YAML merge-key spec).
  absl::Status convertMap(const YAML::Node& node, int depth) {
    absl::flat_hash_set<std::string> seen;
    Entries entries;
    absl::Status status = collectEntries(node, /*own=*/true, depth, seen, entries);
    if (!status.ok()) {
      return status;
    }
    out_.push_back('{');
    bool first = true;
    for (const auto& [name, value] : entries) {
      if (!first) {
        out_.push_back(',');
      }
      first = false;
      appendJsonString(name, out_);
      out_.push_back(':');
      status = convert(value, depth + 1);
      if (!status.ok()) {
        return status;
      }
    }
    out_.push_back('}');
    return absl::OkStatus();
  }

  // Adds the entries of `map` whose keys are not in `seen`, then those of its merge sources
  // (recursively: a merged map may itself merge others). Duplicate keys are errors only among a
  // map's own keys; a merge source's duplicates are reported where it is written.
  absl::Status collectEntries(const YAML::Node& map, bool own, int depth,
                              absl::flat_hash_set<std::string>& seen, Entries& entries) {
    if (depth > options_.max_depth) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(map.Mark()), ": merge keys nested deeper than ", options_.max_depth, " levels"));
    }
    std::vector<YAML::Node> merge_sources;
    absl::flat_hash_set<std::string> own_keys;
    for (const auto& entry : map) {
      const YAML::Node& key = entry.first;
      if (key.Type() != YAML::NodeType::Scalar) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(key.Mark()), ": mapping keys must be scalars"));
      }
      if (key.Tag() == kIgnoreTag) {
        continue;
      }
      const std::string& name = key.Scalar();
      if (name == kMergeKey && key.Tag() == "?") {
        absl::Status status = collectMergeSources(entry.second, merge_sources);
        if (!status.ok()) {
          return status;
        }
        continue;
      }
      if (own && !own_keys.insert(name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(key.Mark()), ": duplicate key \"", name, "\""));
      }
      if (seen.insert(name).second) {
        entries.emplace_back(name, entry.second);
      }
    }
    for (const YAML::Node& source : merge_sources) {
      absl::Status status = collectEntries(source, /*own=*/false, depth + 1, seen, entries);
      if (!status.ok()) {
        return status;
      }
    }
    return absl::OkStatus();
  }

  static absl::Status collectMergeSources(const YAML::Node& value,
                                          std::vector<YAML::Node>& sources) {
    if (value.IsMap()) {
      sources.push_back(value);
      return absl::OkStatus();
    }
    if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        if (!item.IsMap()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where(item.Mark()), ": merge key '<<' needs mappings"));
        }
        sources.push_back(item);
      }
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat(where(value.Mark()), ": merge key '<<' needs a mapping or a list of them"));
  }

  void appendScalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    // "!" is yaml-cpp's tag for quoted and block scalars.
    if (node.Tag() == "!" || node.Tag() == kStrTag) {
      appendJsonString(text, out_);
      return;
    }
    bool bool_value;
    if (YAML::convert<bool>::decode(node, bool_value)) {
      out_.append(bool_value ? "true" : "false");
      return;
    }
    int64_t int_value;
    if (YAML::convert<int64_t>::decode(node, int_value)) {
      if (int_value >= -kMaxExactInteger && int_value <= kMaxExactInteger) {
        absl::StrAppend(&out_, int_value);
      } else {
        out_.push_back('"');
        absl::StrAppend(&out_, int_value);
        out_.push_back('"');
      }
      return;
    }
    uint64_t uint_value;
    if (YAML::convert<uint64_t>::decode(node, uint_value)) {
      out_.push_back('"');
      absl::StrAppend(&out_, uint_value);
      out_.push_back('"');
      return;
    }
    double double_value;
    if (YAML::convert<double>::decode(node, double_value)) {
      if (std::isnan(double_value)) {
        out_.append("\"NaN\"");
      } else if (std::isinf(double_value)) {
        out_.append(double_value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else {
        out_.append(formatDouble(double_value));
      }
      return;
    }
    appendJsonString(text, out_);
  }

  const LoadOptions& options_;
  std::string out_;
};

}  // namespace

void appendJsonString(absl::string_view value, std::string& out) {
  out.push_back('"');
  appendJsonEscaped(out, value);
  out.push_back('"');
}

absl::StatusOr<std::string> yamlToJson(absl::string_view yaml, const LoadOptions& options) {
  if (yaml.size() > options.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "YAML document is ", yaml.size(), " bytes, more than the limit of ", options.max_bytes));
  }
  // yaml-cpp throws on syntax errors (and on its own recursion limit); nothing else here does.
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML syntax error at ", position(e.mark), ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("YAML error: ", e.what()));
  }
  Converter converter(options);
  absl::Status status;
  try {
    status = converter.convert(root, 0);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where(e.mark), ": ", e.msg));
  }
  if (!status.ok()) {
    return status;
  }
  return converter.take();
}

}  // namespace waystone::protobuf
