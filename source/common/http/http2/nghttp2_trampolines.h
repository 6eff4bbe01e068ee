#pragma once

#include <nghttp2/nghttp2.h>

#include "source/common/http/http2/nghttp2_handles.h"

namespace waystone::http::http2 {

class ConnectionImpl;

// The static entry points handed to nghttp2: each casts user_data back to the ConnectionImpl and
// forwards to the method of the same purpose (Nghttp2Trampolines is a friend of ConnectionImpl).
class Nghttp2Trampolines {
 public:
  // The callback table every session is created with (nghttp2 copies it).
  static SessionCallbacksPtr createCallbacks();

  // The read callback of every data provider.
  static ssize_t readData(nghttp2_session*, int32_t stream_id, uint8_t*, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data);

 private:
  static ConnectionImpl& self(void* user_data);
  static ssize_t send(nghttp2_session*, const uint8_t* data, size_t length, int, void* user_data);
  static int sendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd, size_t length,
                      nghttp2_data_source*, void* user_data);
  static int beginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user_data);
  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                    void* user_data);
  static int frameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int dataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                       size_t length, void* user_data);
  static int streamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data);
  static int frameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int frameNotSend(nghttp2_session*, const nghttp2_frame* frame, int lib_error_code,
                          void* user_data);
  static int invalidFrame(nghttp2_session*, const nghttp2_frame* frame, int lib_error_code,
                          void* user_data);
  static int error(nghttp2_session*, int lib_error_code, const char* message, size_t length, void*);
};

}  // namespace waystone::http::http2
