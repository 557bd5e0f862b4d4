// sigwire/sip/transport/tls_identity.hpp - the SIP domain identities an
// X.509 certificate proves, as RFC 5922 §7.1 finds them: what a TLS or WSS
// peer is, once its certificate is verified (transport::hub::verified_identities).
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/uri.hpp>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace sigwire::sip::transport {

namespace detail {

inline std::string_view view_of(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}
inline std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = core::ascii::to_lower(c);
  return out;
}
// A subjectAltName URI as RFC 5922 §7.1 takes it: the host of a "sip" URI
// without userinfo ("sip:alice@example.com" names a user, not a domain; a
// "sips" or any other scheme is not a SIP domain identity).
inline std::string domain_of_sip_uri(std::string_view value) {
  const auto u = parse_uri(value, false);
  if (!u || u->scheme != uri_scheme::sip || u->has_user) return {};
  return lowercase(u->host);
}
// The subject's CN, when it is a DNS name (letters, digits, '-' and '.').
inline std::string dns_common_name(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const int at = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (at < 0) return {};
  const std::string_view cn = view_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
  const bool dns = !cn.empty() && std::all_of(cn.begin(), cn.end(), [](char c) {
    return core::ascii::is_alnum(c) || c == '-' || c == '.';
  });
  return dns ? lowercase(cn) : std::string{};
}

}  // namespace detail

// RFC 5922 §7.1, lowercased, in certificate order:
//   1. the hosts of subjectAltName URIs with the "sip" scheme and no userinfo;
//   2. only when there is none of those, the subjectAltName dNSNames;
//   3. only when the certificate has no subjectAltName at all, its CN when
//      that is a DNS name (allowed for backward compatibility, §7.1 step 2).
// The certificate's validity is not checked here: give it a verified one.
inline std::vector<std::string> sip_domain_identities(X509* cert) {
  if (!cert) return {};
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) {
    std::string cn = detail::dns_common_name(cert);
    if (cn.empty()) return {};
    return {std::move(cn)};
  }
  std::vector<std::string> sip_domains, dns_names;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_URI) {
      if (std::string d = detail::domain_of_sip_uri(detail::view_of(n->d.uniformResourceIdentifier)); !d.empty())
        sip_domains.push_back(std::move(d));
    } else if (n->type == GEN_DNS) {
      dns_names.push_back(detail::lowercase(detail::view_of(n->d.dNSName)));
    }
  }
  GENERAL_NAMES_free(names);
  return sip_domains.empty() ? dns_names : sip_domains;
}

}  // namespace sigwire::sip::transport
