#include "source/extensions/filters/listener/http_inspector/http_inspector_filter.h"

#include "source/common/common/logger.h"

namespace waystone::extensions::listener_filters::http_inspector {
namespace {

constexpr absl::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// RFC 9110 tchar.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

}  // namespace

HttpInspectorFilter::Result HttpInspectorFilter::inspect(absl::string_view data) {
  // HTTP/2 prior knowledge: the preface, or a prefix of it so far.
  const size_t preface_part = std::min(data.size(), kHttp2Preface.size());
  if (data.substr(0, preface_part) == kHttp2Preface.substr(0, preface_part)) {
    return preface_part == kHttp2Preface.size() ? Result::Http2 : Result::NeedMoreData;
  }
  // HTTP/1: method SP request-target SP HTTP-version CRLF.
  size_t i = 0;
  while (i < data.size() && isTokenChar(data[i])) {
    ++i;
  }
  if (i == data.size()) {
    return Result::NeedMoreData;
  }
  if (i == 0 || data[i] != ' ') {
    return Result::NotHttp;
  }
  const size_t line_end = data.find("\r\n", i);
  if (line_end == absl::string_view::npos) {
    // A request line has no control characters; give up early on binary data.
    for (size_t j = i; j < data.size(); ++j) {
      const unsigned char c = static_cast<unsigned char>(data[j]);
      if ((c < 0x20 && c != '\r') || c == 0x7f) {
        return Result::NotHttp;
      }
    }
    return Result::NeedMoreData;
  }
  const absl::string_view line = data.substr(0, line_end);
  const size_t last_space = line.rfind(' ');
  if (last_space == absl::string_view::npos || last_space <= i) {
    return Result::NotHttp;
  }
  const absl::string_view version = line.substr(last_space + 1);
  if (version == "HTTP/1.1") {
    return Result::Http11;
  }
  if (version == "HTTP/1.0") {
    return Result::Http10;
  }
  return Result::NotHttp;
}

network::ListenerFilterStatus HttpInspectorFilter::onAccept(
    network::ListenerFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  if (callbacks.socket().detectedTransportProtocol() == "tls") {
    return network::ListenerFilterStatus::Continue;  // ALPN is tls_inspector's business
  }
  return tryInspect() ? network::ListenerFilterStatus::Continue
                      : network::ListenerFilterStatus::StopIteration;
}

bool HttpInspectorFilter::tryInspect() {
  network::ConnectionSocket& socket = callbacks_->socket();
  const auto peeked = socket.peek(kMaxInspectBytes);
  Result result = inspect(peeked.data);
  if (result == Result::NeedMoreData &&
      (peeked.end_stream || peeked.data.size() >= kMaxInspectBytes)) {
    result = Result::NotHttp;
  }
  switch (result) {
    case Result::NeedMoreData:
      socket.waitForData([this] {
        if (tryInspect()) {
          callbacks_->continueFilterChain(true);
        }
      });
      return false;
    case Result::Http2:
      socket.setRequestedApplicationProtocols({"h2c"});
      break;
    case Result::Http11:
      socket.setRequestedApplicationProtocols({"http/1.1"});
      break;
    case Result::Http10:
      socket.setRequestedApplicationProtocols({"http/1.0"});
      break;
    case Result::NotHttp:
      break;
  }
  WAYSTONE_LOG(trace, filter, "http_inspector: %s",
               socket.requestedApplicationProtocols().empty()
                   ? std::string("not HTTP")
                   : socket.requestedApplicationProtocols()[0]);
  return true;
}

}  // namespace waystone::extensions::listener_filters::http_inspector
