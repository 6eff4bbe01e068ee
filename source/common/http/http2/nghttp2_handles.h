#pragma once

#include <nghttp2/nghttp2.h>

#include "source/common/common/c_ptr.h"

namespace waystone::http::http2 {

// RAII for the nghttp2 handles the codec owns.
using SessionPtr = CPtr<nghttp2_session, nghttp2_session_del>;
using SessionCallbacksPtr = CPtr<nghttp2_session_callbacks, nghttp2_session_callbacks_del>;
using OptionPtr = CPtr<nghttp2_option, nghttp2_option_del>;

}  // namespace waystone::http::http2
