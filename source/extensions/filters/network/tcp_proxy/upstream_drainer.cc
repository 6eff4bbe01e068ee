#include "source/extensions/filters/network/tcp_proxy/upstream_drainer.h"

#include "source/common/common/logger.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

constexpr absl::string_view kWorkerStateKey = "envoy.filters.network.tcp_proxy.drainer";

}  // namespace

// One flushing upstream: its callbacks now come here.
class UpstreamDrainer::Entry final : public UpstreamCallbacks, public event::DeferredDeletable {
 public:
  Entry(UpstreamDrainer& parent, GenericUpstreamPtr upstream, TcpProxyConfigConstSharedPtr config)
      : parent_(parent), upstream_(std::move(upstream)), config_(std::move(config)) {
    upstream_->setCallbacks(*this);
    config_->stats().upstream_flush_total.inc();
    config_->stats().upstream_flush_active.inc();
    if (config_->idleTimeout().count() > 0) {
      timer_ = parent_.dispatcher_.createTimer([this] {
        WAYSTONE_LOG(debug, filter, "tcp_proxy: upstream flush timed out");
        finish();
      });
      timer_->enableTimer(config_->idleTimeout());
    }
  }
  ~Entry() override {
    if (upstream_ != nullptr) {
      upstream_->abandon();
    }
    config_->stats().upstream_flush_active.dec();
  }

  std::list<std::unique_ptr<Entry>>::iterator position_;

  // UpstreamCallbacks
  void onUpstreamReady(const http::ResponseHeaderMap*) override {}
  void onUpstreamFailure(UpstreamFailure, absl::string_view) override { finish(); }
  void onUpstreamData(buffer::Instance& data, bool) override {
    if (data.length() > 0) {
      data.drain(data.length());
      finish();
    }
  }
  void onUpstreamClosed(bool) override { finish(); }
  void onUpstreamAboveWriteBufferHighWatermark() override {}
  void onUpstreamBelowWriteBufferLowWatermark() override {}

 private:
  void finish() {
    timer_.reset();
    if (upstream_ != nullptr) {
      upstream_->abandon();
      // We may be inside its callback.
      parent_.dispatcher_.deferredDelete(std::move(upstream_));
    }
    parent_.remove(*this);
  }

  UpstreamDrainer& parent_;
  GenericUpstreamPtr upstream_;
  const TcpProxyConfigConstSharedPtr config_;
  event::TimerPtr timer_;
};

UpstreamDrainer::UpstreamDrainer(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

UpstreamDrainer::~UpstreamDrainer() {
  destroying_ = true;
  // Not inside any callback here: free them now (each abandons its connection).
  entries_.clear();
}

UpstreamDrainer& UpstreamDrainer::get(upstream::ThreadLocalClusterManager& managers,
                                      event::Dispatcher& dispatcher) {
  return static_cast<UpstreamDrainer&>(managers.workerState(
      kWorkerStateKey, [&dispatcher] { return std::make_unique<UpstreamDrainer>(dispatcher); }));
}

void UpstreamDrainer::add(GenericUpstreamPtr upstream, TcpProxyConfigConstSharedPtr config) {
  auto entry = std::make_unique<Entry>(*this, std::move(upstream), std::move(config));
  Entry& ref = *entry;
  entries_.push_back(std::move(entry));
  ref.position_ = std::prev(entries_.end());
}

void UpstreamDrainer::remove(Entry& entry) {
  if (destroying_) {
    return;
  }
  std::unique_ptr<Entry> owned = std::move(*entry.position_);
  entries_.erase(entry.position_);
  // We are inside one of its callbacks (or its timer): free it after this loop turn.
  dispatcher_.deferredDelete(std::move(owned));
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
