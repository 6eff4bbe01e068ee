#include "source/common/tls/context_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "source/common/protobuf/pgv_validator.h"
#include "source/common/tls/unsupported_fields.h"

namespace waystone::tls {
namespace {

namespace tlsv3 = envoy::extensions::transport_sockets::tls::v3;

// Certificates, keys and CA bundles are small; a larger file is a mistake (or /dev/zero).
constexpr size_t kMaxDataSourceBytes = 4 * 1024 * 1024;

absl::StatusOr<std::string> readFile(const std::string& filename, const std::string& path) {
  const int fd = ::open(filename.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read ", filename, ": ", std::strerror(errno)));
  }
  std::string contents;
  char chunk[16 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read ", filename, ": ", std::strerror(error)));
    }
    if (n == 0) {
      break;
    }
    contents.append(chunk, static_cast<size_t>(n));
    if (contents.size() > kMaxDataSourceBytes) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", filename, " is larger than ", kMaxDataSourceBytes, " bytes"));
    }
  }
  ::close(fd);
  return contents;
}

// The bytes of a DataSource (file or inline), which must not be empty.
absl::StatusOr<std::string> readDataSource(const envoy::config::core::v3::DataSource& source,
                                           const std::string& path) {
  std::string data;
  switch (source.specifier_case()) {
    case envoy::config::core::v3::DataSource::kFilename: {
      absl::StatusOr<std::string> contents = readFile(source.filename(), path);
      if (!contents.ok()) {
        return contents.status();
      }
      data = *std::move(contents);
      if (data.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": ", source.filename(), " is empty"));
      }
      return data;
    }
    case envoy::config::core::v3::DataSource::kInlineBytes:
      data = source.inline_bytes();
      break;
    case envoy::config::core::v3::DataSource::kInlineString:
      data = source.inline_string();
      break;
    case envoy::config::core::v3::DataSource::kEnvironmentVariable:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".environment_variable: not supported (use filename or inline)"));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": one of filename, inline_bytes or inline_string is required"));
  }
  if (data.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is empty"));
  }
  if (data.size() > kMaxDataSourceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", kMaxDataSourceBytes, " bytes"));
  }
  return data;
}

absl::StatusOr<TlsVersion> versionFromProto(tlsv3::TlsParameters::TlsProtocol value,
                                            TlsVersion automatic, const std::string& path) {
  switch (value) {
    case tlsv3::TlsParameters::TLS_AUTO:
      return automatic;
    case tlsv3::TlsParameters::TLSv1_2:
      return TlsVersion::Tls12;
    case tlsv3::TlsParameters::TLSv1_3:
      return TlsVersion::Tls13;
    case tlsv3::TlsParameters::TLSv1_0:
    case tlsv3::TlsParameters::TLSv1_1:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", tlsv3::TlsParameters::TlsProtocol_Name(value),
                       " is not supported (TLSv1_2 is the oldest version this proxy speaks)"));
    default:
      return absl::InvalidArgumentError(absl::StrCat(path, ": unknown TLS version ", value));
  }
}

// Shared by server and client: the whole of the message must have passed `checkSupportedFields`.
absl::Status validateProto(const google::protobuf::Message& proto) {
  return protobuf::validate(proto);
}

}  // namespace

const char* tlsVersionName(TlsVersion version) {
  return version == TlsVersion::Tls12 ? "TLSv1_2" : "TLSv1_3";
}

absl::StatusOr<TlsCertificateConfig> TlsCertificateConfig::fromProto(
    const tlsv3::TlsCertificate& proto, const std::string& path) {
  if (absl::Status status = checkSupportedFields(proto, path, {"certificate_chain", "private_key"});
      !status.ok()) {
    return status;
  }
  TlsCertificateConfig config;
  config.path = path;
  if (!proto.has_certificate_chain()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".certificate_chain: required"));
  }
  if (!proto.has_private_key()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".private_key: required"));
  }
  absl::StatusOr<std::string> chain =
      readDataSource(proto.certificate_chain(), absl::StrCat(path, ".certificate_chain"));
  if (!chain.ok()) {
    return chain.status();
  }
  absl::StatusOr<std::string> key =
      readDataSource(proto.private_key(), absl::StrCat(path, ".private_key"));
  if (!key.ok()) {
    return key.status();
  }
  config.certificate_chain_pem = *std::move(chain);
  config.private_key_pem = *std::move(key);
  return config;
}

absl::StatusOr<CertificateValidationConfig> CertificateValidationConfig::fromProto(
    const tlsv3::CertificateValidationContext& proto, const std::string& path) {
  if (absl::Status status = checkSupportedFields(
          proto, path, {"trusted_ca", "match_typed_subject_alt_names", "max_verify_depth"});
      !status.ok()) {
    return status;
  }
  CertificateValidationConfig config;
  config.path = path;
  if (proto.has_trusted_ca()) {
    absl::StatusOr<std::string> ca =
        readDataSource(proto.trusted_ca(), absl::StrCat(path, ".trusted_ca"));
    if (!ca.ok()) {
      return ca.status();
    }
    config.trusted_ca_pem = *std::move(ca);
  }
  for (int i = 0; i < proto.match_typed_subject_alt_names_size(); ++i) {
    absl::StatusOr<SanMatcher> matcher =
        SanMatcher::create(proto.match_typed_subject_alt_names(i),
                           absl::StrCat(path, ".match_typed_subject_alt_names[", i, "]"));
    if (!matcher.ok()) {
      return matcher.status();
    }
    config.spiffe = config.spiffe || matcher->isSpiffe();
    config.san_matchers.push_back(*std::move(matcher));
  }
  if (!config.san_matchers.empty() && config.trusted_ca_pem.empty()) {
    // Envoy's rule: a SAN check on an unverified certificate proves nothing.
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ".match_typed_subject_alt_names: SAN-based verification of peer certificates without "
        "trusted_ca is insecure and not allowed"));
  }
  if (proto.has_max_verify_depth()) {
    config.max_verify_depth = proto.max_verify_depth().value();
  }
  return config;
}

absl::StatusOr<ContextConfig> ContextConfig::fromProto(const tlsv3::CommonTlsContext& proto,
                                                       const std::string& path) {
  if (absl::Status status = checkSupportedFields(
          proto, path, {"tls_params", "tls_certificates", "validation_context", "alpn_protocols"});
      !status.ok()) {
    return status;
  }
  ContextConfig config;
  const std::string params_path = fieldPath(path, "tls_params");
  const tlsv3::TlsParameters& params = proto.tls_params();
  if (absl::Status status =
          checkSupportedFields(params, params_path,
                               {"tls_minimum_protocol_version", "tls_maximum_protocol_version",
                                "cipher_suites", "ecdh_curves"});
      !status.ok()) {
    return status;
  }
  absl::StatusOr<TlsVersion> min_version =
      versionFromProto(params.tls_minimum_protocol_version(), TlsVersion::Tls12,
                       fieldPath(params_path, "tls_minimum_protocol_version"));
  if (!min_version.ok()) {
    return min_version.status();
  }
  absl::StatusOr<TlsVersion> max_version =
      versionFromProto(params.tls_maximum_protocol_version(), TlsVersion::Tls13,
                       fieldPath(params_path, "tls_maximum_protocol_version"));
  if (!max_version.ok()) {
    return max_version.status();
  }
  if (*min_version == TlsVersion::Tls13 && *max_version == TlsVersion::Tls12) {
    return absl::InvalidArgumentError(
        absl::StrCat(fieldPath(params_path, "tls_maximum_protocol_version"),
                     ": TLSv1_2 is lower than tls_minimum_protocol_version TLSv1_3"));
  }
  config.min_version = *min_version;
  config.max_version = *max_version;
  for (int i = 0; i < params.cipher_suites_size(); ++i) {
    if (params.cipher_suites(i).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(params_path, ".cipher_suites[", i, "]: must not be empty"));
    }
    config.cipher_suites.push_back(params.cipher_suites(i));
  }
  for (int i = 0; i < params.ecdh_curves_size(); ++i) {
    if (params.ecdh_curves(i).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(params_path, ".ecdh_curves[", i, "]: must not be empty"));
    }
    config.ecdh_curves.push_back(params.ecdh_curves(i));
  }

  for (int i = 0; i < proto.tls_certificates_size(); ++i) {
    absl::StatusOr<TlsCertificateConfig> certificate = TlsCertificateConfig::fromProto(
        proto.tls_certificates(i), absl::StrCat(fieldPath(path, "tls_certificates"), "[", i, "]"));
    if (!certificate.ok()) {
      return certificate.status();
    }
    config.certificates.push_back(*std::move(certificate));
  }

  for (int i = 0; i < proto.alpn_protocols_size(); ++i) {
    const std::string& protocol = proto.alpn_protocols(i);
    if (protocol.empty() || protocol.size() > 255) {
      return absl::InvalidArgumentError(absl::StrCat(fieldPath(path, "alpn_protocols"), "[", i,
                                                     "]: must be 1 to 255 bytes long"));
    }
    config.alpn_protocols.push_back(protocol);
  }

  if (proto.has_validation_context()) {
    absl::StatusOr<CertificateValidationConfig> validation = CertificateValidationConfig::fromProto(
        proto.validation_context(), fieldPath(path, "validation_context"));
    if (!validation.ok()) {
      return validation.status();
    }
    // An empty validation context checks nothing (no CA): same as none, as in Envoy.
    if (!validation->trusted_ca_pem.empty()) {
      config.validation = *std::move(validation);
    }
  }
  return config;
}

absl::StatusOr<ServerContextConfig> ServerContextConfig::create(
    const tlsv3::DownstreamTlsContext& proto) {
  if (absl::Status status = validateProto(proto); !status.ok()) {
    return status;
  }
  if (absl::Status status =
          checkSupportedFields(proto, "",
                               {"common_tls_context", "require_client_certificate", "require_sni",
                                "disable_stateless_session_resumption",
                                "disable_stateful_session_resumption", "session_timeout"});
      !status.ok()) {
    return status;
  }
  absl::StatusOr<ContextConfig> common =
      ContextConfig::fromProto(proto.common_tls_context(), "common_tls_context");
  if (!common.ok()) {
    return common.status();
  }
  ServerContextConfig config;
  static_cast<ContextConfig&>(config) = *std::move(common);
  if (config.certificates.empty()) {
    return absl::InvalidArgumentError(
        "common_tls_context.tls_certificates: a server context needs at least one certificate");
  }
  config.require_client_certificate =
      proto.has_require_client_certificate() && proto.require_client_certificate().value();
  if (config.require_client_certificate && !config.validation.has_value()) {
    return absl::InvalidArgumentError(
        "require_client_certificate: needs common_tls_context.validation_context.trusted_ca to "
        "verify the client certificate against");
  }
  config.require_sni = proto.has_require_sni() && proto.require_sni().value();
  config.stateless_resumption = !proto.disable_stateless_session_resumption();
  config.stateful_resumption = !proto.disable_stateful_session_resumption();
  if (proto.has_session_timeout()) {
    config.session_timeout = std::chrono::seconds(proto.session_timeout().seconds());
  }
  return config;
}

absl::StatusOr<ClientContextConfig> ClientContextConfig::create(
    const tlsv3::UpstreamTlsContext& proto) {
  if (absl::Status status = validateProto(proto); !status.ok()) {
    return status;
  }
  // allow_renegotiation is accepted and ignored: renegotiation is always refused.
  if (absl::Status status = checkSupportedFields(
          proto, "", {"common_tls_context", "sni", "allow_renegotiation", "max_session_keys"});
      !status.ok()) {
    return status;
  }
  absl::StatusOr<ContextConfig> common =
      ContextConfig::fromProto(proto.common_tls_context(), "common_tls_context");
  if (!common.ok()) {
    return common.status();
  }
  ClientContextConfig config;
  static_cast<ContextConfig&>(config) = *std::move(common);
  if (config.certificates.size() > 1) {
    return absl::InvalidArgumentError(
        "common_tls_context.tls_certificates: a client context takes at most one certificate");
  }
  config.sni = proto.sni();
  if (proto.has_max_session_keys()) {
    config.max_session_keys = proto.max_session_keys().value();
  }
  return config;
}

}  // namespace waystone::tls
