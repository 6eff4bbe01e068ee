#include "source/extensions/filters/http/router/shadow_writer.h"

namespace waystone::extensions::http_filters::router {
namespace {

constexpr absl::string_view kWorkerStateKey = "envoy.filters.http.router.shadow_writer";

// Frees a finished mirror at the end of the loop turn.
struct DeferredMirror : event::DeferredDeletable {
  explicit DeferredMirror(MirrorRequestSharedPtr request) : request(std::move(request)) {}
  MirrorRequestSharedPtr request;
};

}  // namespace

ShadowWriter::ShadowWriter(event::Dispatcher& dispatcher)
    : dispatcher_(dispatcher), random_(std::random_device{}()) {}

ShadowWriter::~ShadowWriter() {
  // Worker exit: the pools still exist (see ThreadLocalClusterManager), so resetting is safe.
  auto active = std::move(active_);
  active_.clear();
  for (auto& [raw, request] : active) {
    request->abandon();
  }
}

ShadowWriter& ShadowWriter::get(upstream::ThreadLocalClusterManager& clusters,
                                event::Dispatcher& dispatcher) {
  return static_cast<ShadowWriter&>(clusters.workerState(
      kWorkerStateKey, [&dispatcher] { return std::make_unique<ShadowWriter>(dispatcher); }));
}

std::weak_ptr<MirrorRequest> ShadowWriter::start(upstream::ThreadLocalCluster& cluster,
                                                 http::RequestHeaderMapPtr headers, bool end_stream,
                                                 const MirrorOptions& options) {
  auto request =
      std::make_shared<MirrorRequest>(*this, dispatcher_, cluster, std::move(headers), options);
  std::weak_ptr<MirrorRequest> handle = request;
  MirrorRequest* raw = request.get();
  active_.emplace(raw, std::move(request));
  raw->start(end_stream);
  return handle;
}

void ShadowWriter::onMirrorDone(MirrorRequest& request) {
  auto it = active_.find(&request);
  if (it == active_.end()) {
    return;
  }
  dispatcher_.deferredDelete(std::make_unique<DeferredMirror>(std::move(it->second)));
  active_.erase(it);
}

}  // namespace waystone::extensions::http_filters::router
