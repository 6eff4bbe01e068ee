#pragma once

#include <cstdint>
#include <functional>

#include "source/common/buffer/buffer_impl.h"

namespace waystone::buffer {

// An OwnedImpl that reports when its length crosses watermarks, for flow control:
// `above_high` fires once when length() goes above the high watermark; `below_low` fires once
// when length() then drops to the low watermark (high / 2) or below. The pair alternates: no
// callback repeats until the other one has fired. A high watermark of 0 disables both.
// The callbacks run inside the buffer operation that crossed the mark; they may read the buffer
// but must not destroy it.
class WatermarkBuffer : public OwnedImpl {
 public:
  using Callback = std::function<void()>;

  WatermarkBuffer(Callback below_low, Callback above_high);

  // Sets high = `high` and low = `high` / 2, and re-checks the current length against them. If
  // the buffer was above the old high watermark and the marks are disabled (0), `below_low`
  // fires so that a paused producer is not left paused forever.
  void setWatermarks(uint32_t high);

  uint32_t highWatermark() const { return high_watermark_; }
  uint32_t lowWatermark() const { return low_watermark_; }
  // True between an above-high notification and the following below-low one.
  bool highWatermarkTriggered() const { return above_high_watermark_called_; }

 protected:
  // OwnedImpl
  void postProcess() override;

 private:
  void checkHighWatermark();
  void checkLowWatermark();

  Callback below_low_;
  Callback above_high_;
  uint32_t high_watermark_ = 0;
  uint32_t low_watermark_ = 0;
  bool above_high_watermark_called_ = false;
};

}  // namespace waystone::buffer
