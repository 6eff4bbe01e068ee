#include "source/common/http/codec.h"

namespace waystone::http {

absl::string_view protocolString(Protocol protocol) {
  switch (protocol) {
    case Protocol::Http10:
      return "HTTP/1.0";
    case Protocol::Http11:
      return "HTTP/1.1";
    case Protocol::Http2:
      return "HTTP/2";
  }
  return "HTTP/1.1";
}

absl::string_view resetReasonString(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::LocalReset:
      return "local reset";
    case StreamResetReason::LocalRefusedStreamReset:
      return "local refused stream reset";
    case StreamResetReason::RemoteReset:
      return "remote reset";
    case StreamResetReason::RemoteRefusedStreamReset:
      return "remote refused stream reset";
    case StreamResetReason::ConnectionFailure:
      return "connection failure";
    case StreamResetReason::ConnectionTermination:
      return "connection termination";
    case StreamResetReason::Overflow:
      return "overflow";
    case StreamResetReason::ProtocolError:
      return "protocol error";
    case StreamResetReason::ConnectError:
      return "connect error";
  }
  return "unknown";
}

absl::Status codecProtocolError(absl::string_view details) {
  return absl::InvalidArgumentError(details);
}
absl::Status bufferFloodError(absl::string_view details) {
  return absl::ResourceExhaustedError(details);
}
absl::Status prematureResponseError(absl::string_view details) {
  return absl::FailedPreconditionError(details);
}
bool isCodecProtocolError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument;
}
bool isBufferFloodError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted;
}
bool isPrematureResponseError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition;
}

}  // namespace waystone::http
