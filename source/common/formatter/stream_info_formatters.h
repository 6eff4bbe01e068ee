#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "source/common/formatter/date_formatter.h"
#include "source/common/formatter/formatter_provider.h"

namespace waystone::formatter {

// The operators that read the StreamInfo (and the few that read neither it nor headers), in
// Envoy's shapes. Built by CommandParser; each is immutable and cheap to evaluate.

// Text produced by a function that appends it (and returns false when there is none). Typed
// form: a string.
class StringProvider : public FormatterProvider {
 public:
  using AppendFn = bool (*)(const Context&, const stream_info::StreamInfo&, std::string&);
  explicit StringProvider(AppendFn fn) : fn_(fn) {}

  bool append(const Context& context, const stream_info::StreamInfo& info,
              std::string& out) const override {
    return fn_(context, info, out);
  }
  google::protobuf::Value value(const Context& context,
                                const stream_info::StreamInfo& info) const override;

 private:
  const AppendFn fn_;
};

// A number (bytes, response code, a duration in milliseconds). Typed form: a JSON number.
class NumberProvider : public FormatterProvider {
 public:
  using GetFn = std::optional<uint64_t> (*)(const stream_info::StreamInfo&);
  explicit NumberProvider(GetFn fn) : fn_(fn) {}

  bool append(const Context& context, const stream_info::StreamInfo& info,
              std::string& out) const override;
  google::protobuf::Value value(const Context& context,
                                const stream_info::StreamInfo& info) const override;

 private:
  const GetFn fn_;
};

// An address of the stream: "ip:port" (or a pipe path), the IP alone, or the port alone (a
// number in typed form). A missing address, or the port of a pipe, has no value.
class AddressProvider : public FormatterProvider {
 public:
  enum class Part { WithPort, WithoutPort, JustPort };
  using GetFn = const network::address::InstanceConstSharedPtr& (*)(const stream_info::StreamInfo&);
  AddressProvider(GetFn fn, Part part) : fn_(fn), part_(part) {}

  bool append(const Context& context, const stream_info::StreamInfo& info,
              std::string& out) const override;
  google::protobuf::Value value(const Context& context,
                                const stream_info::StreamInfo& info) const override;

 private:
  const GetFn fn_;
  const Part part_;
};

// A value fixed when config loads (%HOSTNAME%, %ENVIRONMENT(X)%); nullopt renders as missing.
class ConstantProvider : public FormatterProvider {
 public:
  explicit ConstantProvider(std::optional<std::string> value) : value_(std::move(value)) {}

  bool append(const Context&, const stream_info::StreamInfo&, std::string& out) const override;
  google::protobuf::Value value(const Context&, const stream_info::StreamInfo&) const override;

 private:
  const std::optional<std::string> value_;
};

// %START_TIME(format)%: the stream's start time, UTC. Typed form: a string, as in Envoy.
class StartTimeProvider : public FormatterProvider {
 public:
  explicit StartTimeProvider(DateFormatter formatter) : formatter_(std::move(formatter)) {}

  bool append(const Context&, const stream_info::StreamInfo& info, std::string& out) const override;
  google::protobuf::Value value(const Context& context,
                                const stream_info::StreamInfo& info) const override;

 private:
  const DateFormatter formatter_;
};

// %FILTER_STATE(KEY:PLAIN|TYPED):Z%: the object under KEY in the stream's filter state (or a
// parent's). PLAIN: its string form. TYPED (the default): its JSON form; Waystone's objects have
// a string form only, so TYPED is that string JSON-quoted ("\"value\""), which is what Envoy
// prints for its string objects. Z truncates the text (and a PLAIN typed value).
class FilterStateProvider : public FormatterProvider {
 public:
  FilterStateProvider(std::string key, bool plain, std::optional<size_t> max_length)
      : key_(std::move(key)), plain_(plain), max_length_(max_length) {}

  bool append(const Context&, const stream_info::StreamInfo& info, std::string& out) const override;
  google::protobuf::Value value(const Context&, const stream_info::StreamInfo& info) const override;

 private:
  const std::string key_;
  const bool plain_;
  const std::optional<size_t> max_length_;
};

// %DYNAMIC_METADATA(NAMESPACE:KEY:...):Z%: the namespace's struct, or the value at the key
// path. Text: a string value as is, anything else as compact JSON; Z truncates the text.
// Typed: the value itself (Z ignored, as in Envoy).
class DynamicMetadataProvider : public FormatterProvider {
 public:
  DynamicMetadataProvider(std::string filter_namespace, std::vector<std::string> path,
                          std::optional<size_t> max_length)
      : namespace_(std::move(filter_namespace)), path_(std::move(path)), max_length_(max_length) {}

  bool append(const Context&, const stream_info::StreamInfo& info, std::string& out) const override;
  google::protobuf::Value value(const Context&, const stream_info::StreamInfo& info) const override;

 private:
  // The value, or nullptr when the namespace or a key along the path is missing. When the path
  // is empty, `whole` receives the namespace's struct and is returned.
  const google::protobuf::Value* find(const stream_info::StreamInfo& info,
                                      google::protobuf::Value& whole) const;

  const std::string namespace_;
  const std::vector<std::string> path_;
  const std::optional<size_t> max_length_;
};

// An Envoy operator Waystone knows but whose data the StreamInfo does not record yet (e.g.
// %UPSTREAM_TRANSPORT_FAILURE_REASON%): always missing, so configs that use it still load.
class UnavailableProvider : public FormatterProvider {
 public:
  bool append(const Context&, const stream_info::StreamInfo&, std::string&) const override {
    return false;
  }
  google::protobuf::Value value(const Context&, const stream_info::StreamInfo&) const override;
};

// Cuts `out` back to `start + max_length` bytes when a value appended at `start` is longer.
inline void truncateAppended(std::string& out, size_t start, std::optional<size_t> max_length) {
  if (max_length.has_value() && out.size() - start > *max_length) {
    out.resize(start + *max_length);
  }
}

}  // namespace waystone::formatter
