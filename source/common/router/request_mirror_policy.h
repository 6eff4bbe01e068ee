#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace waystone::router {

// One request_mirror_policies entry (shadowing): the request is also sent, fire and forget, to
// `cluster()` (or the cluster named by the `clusterHeader()` request header). Immutable.
class RequestMirrorPolicy {
 public:
  static absl::StatusOr<RequestMirrorPolicy> create(
      const envoy::config::route::v3::RouteAction::RequestMirrorPolicy& config,
      absl::string_view path);

  static absl::StatusOr<std::vector<RequestMirrorPolicy>> createAll(
      const google::protobuf::RepeatedPtrField<
          envoy::config::route::v3::RouteAction::RequestMirrorPolicy>& configs,
      absl::string_view path);

  const std::string& cluster() const { return cluster_; }
  const std::string& clusterHeader() const { return cluster_header_; }
  // runtime_fraction.default_value (100% when not configured), evaluated as Envoy's
  // featureEnabled: random_value % denominator < numerator.
  bool shouldMirror(uint64_t random_value) const;
  uint64_t numerator() const { return numerator_; }
  uint64_t denominator() const { return denominator_; }
  std::optional<bool> traceSampled() const { return trace_sampled_; }
  // Envoy appends "-shadow" to the mirrored request's host unless this is set.
  bool disableShadowHostSuffixAppend() const { return disable_shadow_host_suffix_append_; }

  // The mirrored request's :authority: "-shadow" appended to the host, before any port
  // ("foo:8080" -> "foo-shadow:8080", "[::1]:80" -> "[::1]-shadow:80"), as Envoy's ShadowWriter
  // does (so upstream logs tell mirrored traffic apart).
  static std::string shadowHost(absl::string_view host);

 private:
  RequestMirrorPolicy() = default;

  std::string cluster_;
  std::string cluster_header_;
  uint64_t numerator_ = 100;
  uint64_t denominator_ = 100;
  std::optional<bool> trace_sampled_;
  bool disable_shadow_host_suffix_append_ = false;
};

}  // namespace waystone::router
