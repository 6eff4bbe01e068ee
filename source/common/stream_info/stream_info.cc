#include "source/common/stream_info/stream_info.h"

#include <utility>

#include "absl/strings/str_join.h"

namespace waystone::stream_info {

std::string responseFlagsToString(uint64_t flags) {
  static constexpr std::pair<uint64_t, const char*> kCodes[] = {
      {FailedLocalHealthCheck, "LH"},
      {NoHealthyUpstream, "UH"},
      {UpstreamRequestTimeout, "UT"},
      {LocalReset, "LR"},
      {UpstreamRemoteReset, "UR"},
      {UpstreamConnectionFailure, "UF"},
      {UpstreamConnectionTermination, "UC"},
      {UpstreamOverflow, "UO"},
      {NoRouteFound, "NR"},
      {DelayInjected, "DI"},
      {FaultInjected, "FI"},
      {RateLimited, "RL"},
      {UnauthorizedExternalService, "UAEX"},
      {RateLimitServiceError, "RLSE"},
      {DownstreamConnectionTermination, "DC"},
      {UpstreamRetryLimitExceeded, "URX"},
      {StreamIdleTimeout, "SI"},
      {InvalidEnvoyRequestHeaders, "IH"},
      {DownstreamProtocolError, "DPE"},
      {UpstreamMaxStreamDurationReached, "UMSDR"},
      {ResponseFromCacheFilter, "RFCF"},
      {NoFilterConfigFound, "NFCF"},
      {DurationTimeout, "DT"},
      {UpstreamProtocolError, "UPE"},
      {NoClusterFound, "NC"},
      {OverloadManager, "OM"},
  };
  std::vector<const char*> codes;
  for (const auto& [flag, code] : kCodes) {
    if (flags & flag) {
      codes.push_back(code);
    }
  }
  return codes.empty() ? "-" : absl::StrJoin(codes, ",");
}

}  // namespace waystone::stream_info
