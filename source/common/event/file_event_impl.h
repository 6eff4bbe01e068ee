#pragma once

#include "source/common/event/file_event.h"
#include "source/common/event/libevent.h"

namespace waystone::event {

// Level-triggered readiness for one descriptor over a persistent libevent event.
class FileEventImpl final : public FileEvent {
 public:
  FileEventImpl(event_base& base, int fd, FileReadyCb cb, uint32_t events);

  // FileEvent
  void setEnabled(uint32_t events) override;

 private:
  static void onReady(evutil_socket_t, short what, void* arg);

  event_base& base_;
  const int fd_;
  FileReadyCb cb_;
  libevent::EventPtr event_;
};

}  // namespace waystone::event
