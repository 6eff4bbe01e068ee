#include "test/common/http/http1/codec_test_util.h"

#include <algorithm>
#include <utility>

namespace waystone::http::http1 {

void TestTransport::write(buffer::Instance& data, bool end) {
  if (end_stream && data.length() > 0) {
    ++writes_after_end;
  }
  written.append(data.toString());
  data.drain(data.length());
  end_stream = end_stream || end;
}

void TestTransport::readDisable(bool disable) {
  if (disable) {
    ++read_disabled;
  } else if (read_disabled == 0) {
    ++unbalanced_enables;
  } else {
    --read_disabled;
  }
}

std::string TestTransport::take() {
  std::string out;
  out.swap(written);
  return out;
}

std::string splitName(Split split) {
  switch (split) {
    case Split::Whole:
      return "Whole";
    case Split::OneByte:
      return "OneByte";
    case Split::SevenBytes:
      return "SevenBytes";
  }
  return "Unknown";
}

absl::Status feed(Connection& codec, buffer::OwnedImpl& input, absl::string_view bytes,
                  Split split) {
  size_t step = bytes.size();
  if (split == Split::OneByte) {
    step = 1;
  } else if (split == Split::SevenBytes) {
    step = 7;
  }
  step = std::max<size_t>(step, 1);
  for (size_t i = 0; i < bytes.size(); i += step) {
    input.add(bytes.substr(i, step));
    absl::Status status = codec.dispatch(input);
    if (!status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

TestRequestDecoder::TestRequestDecoder(ResponseEncoder& encoder) : encoder(encoder) {
  encoder.getStream().addCallbacks(*this);
}

void TestRequestDecoder::decodeHeaders(RequestHeaderMapPtr&& map, bool end_stream) {
  if (headers != nullptr || ended) {
    ++out_of_order;
  }
  headers = std::move(map);
  headers_end_stream = end_stream;
  if (on_headers) {
    on_headers(*this);
  }
  if (end_stream) {
    end();
  }
}

void TestRequestDecoder::decodeData(buffer::Instance& data, bool end_stream) {
  if (headers == nullptr || ended) {
    ++out_of_order;
  }
  body.append(data.toString());
  data.drain(data.length());
  ++data_calls;
  if (on_data) {
    on_data(*this);
  }
  if (end_stream) {
    end();
  }
}

void TestRequestDecoder::decodeTrailers(RequestTrailerMapPtr&& map) {
  if (headers == nullptr || ended) {
    ++out_of_order;
  }
  trailers = std::move(map);
  end();
}

void TestRequestDecoder::end() {
  ended = true;
  if (on_end) {
    on_end(*this);
  }
}

void TestRequestDecoder::onResetStream(StreamResetReason reason, absl::string_view) {
  reset = true;
  reset_reason = reason;
}

void TestRequestDecoder::respond(uint32_t status,
                                 const std::vector<std::pair<std::string, std::string>>& extra,
                                 absl::string_view response_body, bool end_stream) {
  HeaderMap response;
  response.addCopy(":status", std::to_string(status));
  for (const auto& [key, value] : extra) {
    response.addCopy(key, value);
  }
  if (response_body.empty()) {
    encoder.encodeHeaders(response, end_stream);
    return;
  }
  encoder.encodeHeaders(response, false);
  buffer::OwnedImpl data(response_body);
  encoder.encodeData(data, end_stream);
}

RequestDecoder& TestServerCallbacks::newStream(ResponseEncoder& encoder) {
  streams.push_back(std::make_unique<TestRequestDecoder>(encoder));
  if (on_new_stream) {
    on_new_stream(*streams.back());
  }
  return *streams.back();
}

void TestResponseDecoder::decode1xxHeaders(ResponseHeaderMapPtr&& map) {
  if (headers != nullptr || ended) {
    ++out_of_order;
  }
  informational.push_back(std::move(map));
}

void TestResponseDecoder::decodeHeaders(ResponseHeaderMapPtr&& map, bool end_stream) {
  if (headers != nullptr || ended) {
    ++out_of_order;
  }
  headers = std::move(map);
  headers_end_stream = end_stream;
  if (on_headers) {
    on_headers(*this);
  }
  if (end_stream) {
    end();
  }
}

void TestResponseDecoder::decodeData(buffer::Instance& data, bool end_stream) {
  if (headers == nullptr || ended) {
    ++out_of_order;
  }
  body.append(data.toString());
  data.drain(data.length());
  if (on_data) {
    on_data(*this);
  }
  if (end_stream) {
    end();
  }
}

void TestResponseDecoder::decodeTrailers(ResponseTrailerMapPtr&& map) {
  if (headers == nullptr || ended) {
    ++out_of_order;
  }
  trailers = std::move(map);
  end();
}

void TestResponseDecoder::end() {
  ended = true;
  if (on_end) {
    on_end(*this);
  }
}

void TestResponseDecoder::onResetStream(StreamResetReason, absl::string_view) { reset = true; }

HeaderMap makeHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  HeaderMap map;
  for (const auto& [key, value] : headers) {
    map.addCopy(key, value);
  }
  return map;
}

}  // namespace waystone::http::http1
