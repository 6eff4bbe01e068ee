#pragma once

#include "absl/strings/string_view.h"

namespace waystone::http::http1 {

// Envoy's response code details for HTTP/1 codec errors, carried as the message of the status
// returned by Connection::dispatch(). Keep the strings identical to Envoy's: operators grep
// access logs for them.
inline constexpr absl::string_view kDetailsCodecError = "http1.codec_error";
inline constexpr absl::string_view kDetailsHeadersTooLarge = "http1.headers_too_large";
inline constexpr absl::string_view kDetailsTooManyHeaders = "http1.too_many_headers";
inline constexpr absl::string_view kDetailsInvalidCharacters = "http1.invalid_characters";
inline constexpr absl::string_view kDetailsInvalidUrl = "http1.invalid_url";
inline constexpr absl::string_view kDetailsInvalidTransferEncoding =
    "http1.invalid_transfer_encoding";
inline constexpr absl::string_view kDetailsBodyDisallowed = "http1.body_disallowed";
inline constexpr absl::string_view kDetailsTransferEncodingNotAllowed =
    "http1.transfer_encoding_not_allowed";
inline constexpr absl::string_view kDetailsContentLengthNotAllowed =
    "http1.content_length_not_allowed";
inline constexpr absl::string_view kDetailsInvalidUnderscore = "http1.unexpected_underscore";
inline constexpr absl::string_view kDetailsChunkedContentLength =
    "http1.content_length_and_chunked_not_allowed";
// Envoy's StreamInfo detail for HTTP/1.0 and HTTP/0.9 requests when accept_http_10 is off.
inline constexpr absl::string_view kDetailsLowVersion = "low_version";
inline constexpr absl::string_view kDetailsInvalidAuthority = "http.invalid_authority";
// Client codec: bytes from the server while no request is outstanding.
inline constexpr absl::string_view kDetailsPrematureResponse = "http1.premature_response";
// Client codec: a 101 answer to a request that did not ask for an upgrade.
inline constexpr absl::string_view kDetailsUnexpectedUpgrade = "http1.unexpected_upgrade";

}  // namespace waystone::http::http1
