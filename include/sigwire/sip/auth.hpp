// sigwire/sip/auth.hpp - HTTP Digest for SIP (RFC 3261 §22, RFC 2617 §3.2,
// RFC 8760: MD5, MD5-sess, SHA-256, SHA-256-sess; qop=auth or none).
//
// Client:  auto ch = sip::parse_challenge(www_authenticate_value);
//          sip::digest_client_input in{user, password, "REGISTER", "sip:example.com", cnonce, 1};
//          std::string v = sip::authorization_value(*ch, in);   // -> Authorization header
// Server:  std::string v = sip::challenge_value(realm, nonce, algorithm);
//          auto ec = sip::verify(credentials, method, password, realm, nonce);
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/digest.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/headers.hpp>
#include <sigwire/sip/result.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace sigwire::sip {

enum class digest_algorithm { md5, md5_sess, sha256, sha256_sess };

constexpr std::string_view algorithm_name(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::md5: return "MD5";
    case digest_algorithm::md5_sess: return "MD5-sess";
    case digest_algorithm::sha256: return "SHA-256";
    case digest_algorithm::sha256_sess: return "SHA-256-sess";
  }
  return "MD5";
}

inline result<digest_algorithm> parse_algorithm(std::optional<std::string_view> v) noexcept {
  using R = result<digest_algorithm>;
  if (!v) return {digest_algorithm::md5, {}, {}};  // RFC 2617: absent means MD5
  for (auto a : {digest_algorithm::md5, digest_algorithm::md5_sess, digest_algorithm::sha256,
                 digest_algorithm::sha256_sess})
    if (core::ascii::iequals(*v, algorithm_name(a))) return {a, {}, {}};
  return R::fail(error::unsupported_algorithm, *v);
}

struct digest_challenge {
  std::string_view realm{}, nonce{}, opaque{}, domain{};
  digest_algorithm algorithm = digest_algorithm::md5;
  bool qop_auth = false;  // the server offers qop=auth
  bool has_qop = false;
  bool stale = false;
};

// From a WWW-Authenticate / Proxy-Authenticate value.
inline result<digest_challenge> parse_challenge(std::string_view value) {
  using R = result<digest_challenge>;
  auto h = parse_auth_header(value);
  if (!h) return R::fail(error::bad_auth_header, value);
  if (!h->is_digest()) return R::fail(error::unsupported_auth_scheme, value);
  digest_challenge c;
  auto realm = h->param("realm");
  auto nonce = h->param("nonce");
  if (!realm || !nonce) return R::fail(error::missing_auth_param, value);
  c.realm = *realm;
  c.nonce = *nonce;
  c.opaque = h->param("opaque").value_or("");
  c.domain = h->param("domain").value_or("");
  auto alg = parse_algorithm(h->param("algorithm"));
  if (!alg) return R::fail(error::unsupported_algorithm, value);
  c.algorithm = alg.value;
  if (auto q = h->param("qop")) {
    c.has_qop = true;
    // qop-options = "auth" / "auth-int" / token, comma-separated inside the quotes
    std::string_view rest = *q;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (core::ascii::iequals(detail::trim_lws(rest.substr(0, comma)), "auth")) c.qop_auth = true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!c.qop_auth) return R::fail(error::unsupported_qop, value);
  }
  if (auto s = h->param("stale")) c.stale = core::ascii::iequals(*s, "true");
  return {c, {}, {}};
}

namespace detail {
inline std::string hash_hex(digest_algorithm a, std::string_view data) {
  if (a == digest_algorithm::sha256 || a == digest_algorithm::sha256_sess) return core::to_hex(core::sha256(data));
  return core::to_hex(core::md5(data));
}
inline std::string join(std::initializer_list<std::string_view> parts) {
  std::string s;
  bool first = true;
  for (auto p : parts) {
    if (!first) s.push_back(':');
    first = false;
    s.append(p);
  }
  return s;
}
inline std::string nc_hex(std::uint32_t nc) {
  static constexpr char d[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, nc >>= 4) s[static_cast<std::size_t>(i)] = d[nc & 15];
  return s;
}
}  // namespace detail

// response = KD(HA1, nonce ":" [nc ":" cnonce ":" qop ":"] HA2) (RFC 2617 §3.2.2.1)
inline std::string digest_response(digest_algorithm alg, std::string_view user, std::string_view realm,
                                   std::string_view password, std::string_view nonce, std::string_view method,
                                   std::string_view uri, std::string_view qop, std::string_view nc,
                                   std::string_view cnonce) {
  std::string ha1 = detail::hash_hex(alg, detail::join({user, realm, password}));
  if (alg == digest_algorithm::md5_sess || alg == digest_algorithm::sha256_sess)
    ha1 = detail::hash_hex(alg, detail::join({ha1, nonce, cnonce}));
  const std::string ha2 = detail::hash_hex(alg, detail::join({method, uri}));
  if (qop.empty()) return detail::hash_hex(alg, detail::join({ha1, nonce, ha2}));
  return detail::hash_hex(alg, detail::join({ha1, nonce, nc, cnonce, qop, ha2}));
}

struct digest_client_input {
  std::string_view username, password, method, uri;
  std::string_view cnonce{};   // required with qop=auth or -sess: e.g. core::random_token(16)
  std::uint32_t nc = 1;        // nonce count, incremented per request with the same nonce
};

// The Authorization / Proxy-Authorization header value answering `c`.
inline std::string authorization_value(const digest_challenge& c, const digest_client_input& in) {
  const bool qop = c.qop_auth;
  const std::string nc = detail::nc_hex(in.nc);
  const std::string resp = digest_response(c.algorithm, in.username, c.realm, in.password, c.nonce, in.method, in.uri,
                                           qop ? "auth" : "", nc, in.cnonce);
  std::string v = "Digest username=\"";
  v.append(in.username).append("\", realm=\"").append(c.realm).append("\", nonce=\"").append(c.nonce);
  v.append("\", uri=\"").append(in.uri).append("\", response=\"").append(resp).append("\", algorithm=");
  v.append(algorithm_name(c.algorithm));
  if (qop || c.algorithm == digest_algorithm::md5_sess || c.algorithm == digest_algorithm::sha256_sess)
    v.append(", cnonce=\"").append(in.cnonce).append("\"");
  if (qop) v.append(", qop=auth, nc=").append(nc);
  if (!c.opaque.empty()) v.append(", opaque=\"").append(c.opaque).append("\"");
  return v;
}

// A WWW-Authenticate / Proxy-Authenticate value (server side).
inline std::string challenge_value(std::string_view realm, std::string_view nonce,
                                   digest_algorithm alg = digest_algorithm::md5, std::string_view opaque = {},
                                   bool stale = false) {
  std::string v = "Digest realm=\"";
  v.append(realm).append("\", nonce=\"").append(nonce).append("\", algorithm=").append(algorithm_name(alg));
  v.append(", qop=\"auth\"");
  if (!opaque.empty()) v.append(", opaque=\"").append(opaque).append("\"");
  if (stale) v.append(", stale=true");
  return v;
}

// Checks an Authorization value against the expected realm and nonce and
// the user's password. The caller tracks nonce freshness and nc replay.
inline std::error_code verify(std::string_view credentials, std::string_view method, std::string_view password,
                              std::string_view realm, std::string_view nonce) {
  auto h = parse_auth_header(credentials);
  if (!h) return error::bad_auth_header;
  if (!h->is_digest()) return error::unsupported_auth_scheme;
  const auto user = h->param("username"), r = h->param("realm"), n = h->param("nonce"), uri = h->param("uri"),
             resp = h->param("response");
  if (!user || !r || !n || !uri || !resp) return error::missing_auth_param;
  if (*r != realm) return error::auth_realm_mismatch;
  if (*n != nonce) return error::auth_nonce_mismatch;
  auto alg = parse_algorithm(h->param("algorithm"));
  if (!alg) return alg.ec;
  const auto qop = h->param("qop");
  std::string_view nc{}, cnonce = h->param("cnonce").value_or("");
  if (qop) {
    if (!core::ascii::iequals(*qop, "auth")) return error::unsupported_qop;
    auto ncv = h->param("nc");
    if (!ncv || cnonce.empty() || ncv->size() != 8) return error::missing_auth_param;
    nc = *ncv;
  }
  const std::string expect = digest_response(alg.value, *user, realm, password, nonce, method, *uri,
                                             qop ? "auth" : "", nc, cnonce);
  // Constant-time compare of the hex strings.
  if (expect.size() != resp->size()) return error::auth_response_mismatch;
  unsigned diff = 0;
  for (std::size_t i = 0; i < expect.size(); ++i)
    diff |= static_cast<unsigned>(static_cast<unsigned char>(expect[i]) ^
                                  static_cast<unsigned char>(core::ascii::to_lower((*resp)[i])));
  return diff ? make_error_code(error::auth_response_mismatch) : std::error_code{};
}

}  // namespace sigwire::sip
