#include "source/common/http/http2/nghttp2_trampolines.h"

#include "absl/strings/string_view.h"

#include "source/common/common/assert.h"
#include "source/common/common/logger.h"
#include "source/common/http/http2/connection_impl.h"

namespace waystone::http::http2 {

SessionCallbacksPtr Nghttp2Trampolines::createCallbacks() {
  nghttp2_session_callbacks* raw_callbacks = nullptr;
  int rv = nghttp2_session_callbacks_new(&raw_callbacks);
  WAYSTONE_RELEASE_ASSERT(rv == 0, "nghttp2_session_callbacks_new failed (out of memory)");
  SessionCallbacksPtr callbacks(raw_callbacks);
  nghttp2_session_callbacks* cb = callbacks.get();
  nghttp2_session_callbacks_set_send_callback(cb, &Nghttp2Trampolines::send);
  nghttp2_session_callbacks_set_send_data_callback(cb, &Nghttp2Trampolines::sendData);
  nghttp2_session_callbacks_set_on_begin_frame_callback(cb, &Nghttp2Trampolines::beginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Nghttp2Trampolines::beginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Nghttp2Trampolines::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Nghttp2Trampolines::frameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Nghttp2Trampolines::dataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Nghttp2Trampolines::streamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, &Nghttp2Trampolines::frameSend);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, &Nghttp2Trampolines::frameNotSend);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb,
                                                               &Nghttp2Trampolines::invalidFrame);
  nghttp2_session_callbacks_set_error_callback2(cb, &Nghttp2Trampolines::error);

  return callbacks;
}

ConnectionImpl& Nghttp2Trampolines::self(void* user_data) {
  return *static_cast<ConnectionImpl*>(user_data);
}

ssize_t Nghttp2Trampolines::send(nghttp2_session*, const uint8_t* data, size_t length, int,
                                 void* user_data) {
  return self(user_data).onSend(data, length);
}

int Nghttp2Trampolines::sendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                                 size_t length, nghttp2_data_source*, void* user_data) {
  return self(user_data).onSendData(*frame, framehd, length);
}

ssize_t Nghttp2Trampolines::readData(nghttp2_session*, int32_t stream_id, uint8_t*, size_t length,
                                     uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
  return self(user_data).onDataSourceRead(stream_id, length, *data_flags);
}

int Nghttp2Trampolines::beginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user_data) {
  return self(user_data).onBeginFrame(*hd);
}

int Nghttp2Trampolines::beginHeaders(nghttp2_session*, const nghttp2_frame* frame,
                                     void* user_data) {
  return self(user_data).onBeginHeaders(*frame);
}

int Nghttp2Trampolines::header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                               size_t name_length, const uint8_t* value, size_t value_length,
                               uint8_t, void* user_data) {
  return self(user_data).onHeader(
      *frame, absl::string_view(reinterpret_cast<const char*>(name), name_length),
      absl::string_view(reinterpret_cast<const char*>(value), value_length));
}

int Nghttp2Trampolines::frameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return self(user_data).onFrameReceived(*frame);
}

int Nghttp2Trampolines::dataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                                  size_t length, void* user_data) {
  return self(user_data).onDataChunk(stream_id, data, length);
}

int Nghttp2Trampolines::streamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                    void* user_data) {
  return self(user_data).onStreamClose(stream_id, error_code);
}

int Nghttp2Trampolines::frameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return self(user_data).onFrameSend(*frame);
}

int Nghttp2Trampolines::frameNotSend(nghttp2_session*, const nghttp2_frame* frame,
                                     int lib_error_code, void* user_data) {
  return self(user_data).onFrameNotSend(*frame, lib_error_code);
}

int Nghttp2Trampolines::invalidFrame(nghttp2_session*, const nghttp2_frame* frame,
                                     int lib_error_code, void* user_data) {
  return self(user_data).onInvalidFrame(*frame, lib_error_code);
}

int Nghttp2Trampolines::error(nghttp2_session*, int lib_error_code, const char* message,
                              size_t length, void*) {
  WAYSTONE_LOG(debug, http2, "nghttp2 error %d: %s", lib_error_code,
               absl::string_view(message, length));
  return 0;
}

}  // namespace waystone::http::http2
