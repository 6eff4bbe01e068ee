#include "source/common/buffer/watermark_buffer.h"

namespace waystone::buffer {

WatermarkBuffer::WatermarkBuffer(Callback below_low, Callback above_high)
    : below_low_(std::move(below_low)), above_high_(std::move(above_high)) {}

void WatermarkBuffer::setWatermarks(uint32_t high) {
  high_watermark_ = high;
  low_watermark_ = high / 2;
  if (high_watermark_ == 0) {
    if (above_high_watermark_called_) {
      above_high_watermark_called_ = false;
      if (below_low_) {
        below_low_();
      }
    }
    return;
  }
  checkHighWatermark();
  checkLowWatermark();
}

void WatermarkBuffer::postProcess() {
  checkHighWatermark();
  checkLowWatermark();
}

void WatermarkBuffer::checkHighWatermark() {
  if (high_watermark_ == 0 || above_high_watermark_called_ || length() <= high_watermark_) {
    return;
  }
  above_high_watermark_called_ = true;
  if (above_high_) {
    above_high_();
  }
}

void WatermarkBuffer::checkLowWatermark() {
  if (!above_high_watermark_called_ || length() > low_watermark_) {
    return;
  }
  above_high_watermark_called_ = false;
  if (below_low_) {
    below_low_();
  }
}

}  // namespace waystone::buffer
