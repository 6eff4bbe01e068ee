#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace waystone::event {

struct FileReadyType {
  static constexpr uint32_t kRead = 0x1;
  static constexpr uint32_t kWrite = 0x2;
  static constexpr uint32_t kClosed = 0x4;
  // Not an event: asks for edge-triggered notification (once per change of readiness), for a
  // user that only peeks and would otherwise be woken again and again by the same bytes.
  static constexpr uint32_t kEdgeTriggered = 0x8;
};

// Called with a mask of FileReadyType bits.
using FileReadyCb = std::function<void(uint32_t events)>;

// Readiness notifications for a file descriptor (level-triggered). Does not own the descriptor.
// Destroying it unregisters it. Only the dispatcher's thread may use it.
class FileEvent {
 public:
  virtual ~FileEvent() = default;

  // Replaces the set of events of interest (FileReadyType bits); 0 pauses notifications.
  virtual void setEnabled(uint32_t events) = 0;
};

using FileEventPtr = std::unique_ptr<FileEvent>;

}  // namespace waystone::event
