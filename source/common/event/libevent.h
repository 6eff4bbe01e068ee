#pragma once

#include <event2/event.h>

#include "source/common/common/c_ptr.h"

namespace waystone::event::libevent {

// RAII aliases for libevent handles. <event2/*> is included only under source/common/event/ and
// source/common/buffer/.
using BasePtr = CPtr<::event_base, ::event_base_free>;
using EventPtr = CPtr<::event, ::event_free>;

// Makes libevent thread-aware (locks for cross-thread event_active) once per process.
void initialize();

}  // namespace waystone::event::libevent
