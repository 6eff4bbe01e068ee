#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>

#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"
#include "source/extensions/filters/http/router/mirror_request.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::http_filters::router {

// Sends the request copies that route request_mirror_policies ask for (Envoy's shadowing), on
// one worker. It owns every mirror in flight, so a mirror may outlive the downstream stream and
// even the router config that started it. It lives in the worker's ThreadLocalClusterManager,
// which destroys it before its clusters and pools: at worker exit every mirror still in flight
// is reset while its stream still exists.
class ShadowWriter final : public upstream::ThreadLocalClusterManager::WorkerState {
 public:
  explicit ShadowWriter(event::Dispatcher& dispatcher);
  ~ShadowWriter() override;

  // The writer of the worker that owns `clusters`, created on first use. Worker thread only.
  static ShadowWriter& get(upstream::ThreadLocalClusterManager& clusters,
                           event::Dispatcher& dispatcher);

  // Starts a mirror of a request to `cluster`; `headers` go out as given (the caller has already
  // made the -shadow host). The body and trailers follow through the returned handle, which
  // expires as soon as the mirror is done (possibly before this returns).
  std::weak_ptr<MirrorRequest> start(upstream::ThreadLocalCluster& cluster,
                                     http::RequestHeaderMapPtr headers, bool end_stream,
                                     const MirrorOptions& options);

  // Per-worker randomness for runtime_fraction sampling.
  uint64_t random() { return random_(); }
  size_t activeMirrors() const { return active_.size(); }

  // From a MirrorRequest that is done: forget it and free it after this loop turn (it may be
  // inside its own callback).
  void onMirrorDone(MirrorRequest& request);

 private:
  event::Dispatcher& dispatcher_;
  std::mt19937_64 random_;
  std::unordered_map<MirrorRequest*, MirrorRequestSharedPtr> active_;
};

}  // namespace waystone::extensions::http_filters::router
