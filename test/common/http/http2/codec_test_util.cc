#include "test/common/http/http2/codec_test_util.h"

#include <algorithm>

namespace waystone::http::http2::test {

void TestTransport::write(buffer::Instance& data, bool) {
  ++write_calls_;
  outbox_.move(data);
  max_outbox_length_ = std::max<uint64_t>(max_outbox_length_, outbox_.length());
  if (watermark_connection_ != nullptr && !above_ && outbox_.length() > buffer_limit_) {
    above_ = true;
    watermark_connection_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
  }
}

void TestTransport::drainTo(buffer::Instance& out, uint64_t max) {
  out.move(outbox_, std::min<uint64_t>(max, outbox_.length()));
  if (watermark_connection_ != nullptr && above_ && outbox_.length() <= buffer_limit_ / 2) {
    above_ = false;
    watermark_connection_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
  }
}

std::string TestTransport::takeOutput() {
  buffer::OwnedImpl out;
  drainTo(out);
  return out.toString();
}

void StreamRecord::onResetStream(StreamResetReason reason, absl::string_view details) {
  reset = true;
  reset_reason = reason;
  reset_details = std::string(details);
}

void StreamRecord::onAboveWriteBufferHighWatermark() {
  ++above_watermark;
  paused = above_watermark > below_watermark;
}

void StreamRecord::onBelowWriteBufferLowWatermark() {
  ++below_watermark;
  paused = above_watermark > below_watermark;
}

void TestRequestDecoder::decodeHeaders(RequestHeaderMapPtr&& h, bool end) {
  headers = std::move(h);
  end_stream = end;
  if (on_headers) {
    on_headers(*this);
  }
  if (end && on_end) {
    on_end(*this);
  }
}

void TestRequestDecoder::decodeData(buffer::Instance& data, bool end) {
  ++data_calls;
  body += data.toString();
  data.drain(data.length());
  end_stream = end;
  if (on_data) {
    on_data(*this);
  }
  if (end && on_end) {
    on_end(*this);
  }
}

void TestRequestDecoder::decodeTrailers(RequestTrailerMapPtr&& t) {
  trailers = std::move(t);
  end_stream = true;
  if (on_end) {
    on_end(*this);
  }
}

void TestResponseDecoder::decode1xxHeaders(ResponseHeaderMapPtr&& h) {
  informational.push_back(std::move(h));
}

void TestResponseDecoder::decodeHeaders(ResponseHeaderMapPtr&& h, bool end) {
  headers = std::move(h);
  end_stream = end;
  if (on_headers) {
    on_headers(*this);
  }
}

void TestResponseDecoder::decodeData(buffer::Instance& data, bool end) {
  ++data_calls;
  body += data.toString();
  data.drain(data.length());
  end_stream = end;
  if (on_data) {
    on_data(*this);
  }
}

void TestResponseDecoder::decodeTrailers(ResponseTrailerMapPtr&& t) {
  trailers = std::move(t);
  end_stream = true;
}

RequestDecoder& TestServerCallbacks::newStream(ResponseEncoder& encoder) {
  streams.push_back(std::make_unique<TestRequestDecoder>(encoder));
  if (on_new_stream) {
    on_new_stream(*streams.back());
  }
  return *streams.back();
}

CodecPair::CodecPair(const Http2Settings& client_settings, const Http2Settings& server_settings,
                     const HeaderLimits& client_limits, const HeaderLimits& server_limits,
                     uint32_t client_buffer_limit, uint32_t server_buffer_limit)
    : client_transport(client_buffer_limit), server_transport(server_buffer_limit) {
  CodecRuntime client_runtime;
  client_runtime.deferred_delete = client_deleter.callback();
  CodecRuntime server_runtime;
  server_runtime.deferred_delete = server_deleter.callback();
  client =
      std::make_unique<ClientConnectionImpl>(client_transport, client_callbacks, client_settings,
                                             client_limits, std::move(client_runtime));
  server =
      std::make_unique<ServerConnectionImpl>(server_transport, server_callbacks, server_settings,
                                             server_limits, std::move(server_runtime));
}

int CodecPair::pump(uint64_t max_chunk, int max_hops, const std::function<void()>& between_hops) {
  int hops = 0;
  while (hops < max_hops) {
    if (between_hops) {
      between_hops();
    }
    bool moved = false;
    if (client_transport.outbox().length() > 0 && server_status.ok()) {
      buffer::OwnedImpl bytes;
      client_transport.drainTo(bytes, max_chunk);
      server_status = server->dispatch(bytes);
      moved = true;
    }
    if (server_transport.outbox().length() > 0 && client_status.ok()) {
      buffer::OwnedImpl bytes;
      server_transport.drainTo(bytes, max_chunk);
      client_status = client->dispatch(bytes);
      moved = true;
    }
    // End of a loop iteration: finished streams are freed.
    client_deleter.freeAll();
    server_deleter.freeAll();
    if (!moved) {
      break;
    }
    ++hops;
  }
  return hops;
}

TestResponseDecoder& CodecPair::startRequest(const HeaderMap& headers, bool end_stream,
                                             RequestEncoder** encoder_out) {
  responses.push_back(std::make_unique<TestResponseDecoder>());
  TestResponseDecoder& response = *responses.back();
  RequestEncoder& encoder = client->newStream(response);
  encoder.getStream().addCallbacks(response);
  const absl::Status status = encoder.encodeHeaders(headers, end_stream);
  if (!status.ok()) {
    response.reset = true;
    response.reset_details = std::string(status.message());
  }
  if (encoder_out != nullptr) {
    *encoder_out = &encoder;
  }
  return response;
}

HeaderMap requestHeaders(absl::string_view method, absl::string_view path) {
  HeaderMap headers;
  headers.addCopy(":method", method);
  headers.addCopy(":scheme", "https");
  headers.addCopy(":authority", "example.com");
  headers.addCopy(":path", path);
  return headers;
}

HeaderMap responseHeaders(absl::string_view status) {
  HeaderMap headers;
  headers.addCopy(":status", status);
  return headers;
}

}  // namespace waystone::http::http2::test
