// sigwire/sip/dialog/auth_client.hpp - answering 401/407 challenges (RFC 3261
// §22.2 and §22.3, RFC 8760 algorithm choice), for INVITE and REGISTER alike.
//
//   sip::dialog::auth_client auth({{.username = "alice", .password = "secret"}});
//   std::string retry;
//   switch (auth.answer(sent_request, challenge, tl.new_branch(), retry)) {
//     case auth_result::retry: send retry as a new client transaction; break;
//     case auth_result::rejected: the same credentials failed twice: give up (report the 401/407)
//     case auth_result::no_credentials / unusable: report the 401/407
//   }
//
// The retry is the request again with a new branch, CSeq + 1 (§22.2), and one
// Authorization (401, WWW-Authenticate) or Proxy-Authorization (407,
// Proxy-Authenticate) per challenged realm; credentials the request already
// carried for other realms stay. When a realm offers several challenges
// the strongest algorithm wins: SHA-256 before MD5 (RFC 8760 §2.4), each
// with its -sess form. The nonce count grows for every request answering the
// same nonce (RFC 7616 §3.4). A second challenge for a realm whose
// credentials were just sent, without `stale=true`, means they are wrong:
// `rejected`, so a UA never loops on a bad password.
#pragma once

#include <sigwire/sip/auth.hpp>
#include <sigwire/sip/builder.hpp>
#include <sigwire/sip/message.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sigwire::sip::dialog {

struct credential {
  std::string realm{};  // empty: any realm
  std::string username{};
  std::string password{};
};

enum class auth_result : std::uint8_t {
  retry,           // `out` holds the request to send again
  no_credentials,  // no credential for the challenged realm
  unusable,        // not a 401/407, no challenge we can parse, or an algorithm we lack
  rejected,        // the credentials for this realm were refused (not stale): give up
};

constexpr std::string_view text(auth_result r) noexcept {
  constexpr std::string_view names[] = {"retry", "no_credentials", "unusable", "rejected"};
  return names[static_cast<int>(r)];
}

class auth_client {
 public:
  using random_source = std::function<std::uint64_t()>;

  explicit auth_client(std::vector<credential> credentials = {}, random_source random = {})
      : credentials_(std::move(credentials)), random_(std::move(random)) {}

  void set_credentials(std::vector<credential> c) { credentials_ = std::move(c); }
  bool empty() const noexcept { return credentials_.empty(); }

  // `sent` is the request that was challenged; `challenge` its 401 or 407.
  auth_result answer(const message_view& sent, const message_view& challenge, std::string_view branch,
                     std::string& out) {
    const int status = challenge.status();
    if (!sent.is_request() || !sent.cseq() || (status != 401 && status != 407)) return auth_result::unusable;
    const header_id ask = status == 401 ? header_id::www_authenticate : header_id::proxy_authenticate;
    const header_id reply = status == 401 ? header_id::authorization : header_id::proxy_authorization;

    std::vector<answered> answers;
    for (const header_field& h : challenge.headers()) {
      if (h.id != ask) continue;
      const auto c = parse_challenge(h.value);
      if (!c) continue;  // another scheme, or an algorithm we lack: a better one may follow
      answered* same_realm = nullptr;
      for (answered& a : answers)
        if (a.challenge.realm == c->realm) same_realm = &a;
      if (!same_realm) answers.push_back({*c});
      else if (strength(c->algorithm) > strength(same_realm->challenge.algorithm)) same_realm->challenge = *c;
    }
    if (answers.empty()) return auth_result::unusable;

    for (answered& a : answers) {
      const credential* cred = find_credential(a.challenge.realm);
      if (!cred) return auth_result::no_credentials;
      if (sent_credentials_for(sent, reply, a.challenge.realm) && !a.challenge.stale) return auth_result::rejected;
      nonce_state& n = nonce_for(a.challenge.realm, a.challenge.nonce);
      const std::string cnonce = make_cnonce();
      a.value = authorization_value(a.challenge, {cred->username, cred->password, sent.method(),
                                                  sent.request_uri_text(), cnonce, ++n.count});
    }
    return rebuild_request(sent, reply, answers, branch, out) ? auth_result::retry : auth_result::unusable;
  }

 private:
  struct answered {
    digest_challenge challenge;
    std::string value{};
  };
  struct nonce_state {
    std::string realm, nonce;
    std::uint32_t count = 0;
  };

  // RFC 8760 §2.4: SHA-256 is preferred over MD5.
  static int strength(digest_algorithm a) noexcept {
    return a == digest_algorithm::sha256 || a == digest_algorithm::sha256_sess ? 2 : 1;
  }

  const credential* find_credential(std::string_view realm) const noexcept {
    const credential* any = nullptr;
    for (const credential& c : credentials_) {
      if (c.realm == realm) return &c;
      if (c.realm.empty() && !any) any = &c;
    }
    return any;
  }

  static bool sent_credentials_for(const message_view& sent, header_id reply, std::string_view realm) {
    for (const header_field& h : sent.headers()) {
      if (h.id != reply) continue;
      const auto a = parse_auth_header(h.value);
      if (a && a->param("realm") == realm) return true;
    }
    return false;
  }

  nonce_state& nonce_for(std::string_view realm, std::string_view nonce) {
    for (nonce_state& n : nonces_)
      if (n.realm == realm) {
        if (n.nonce != nonce) n = {std::string(realm), std::string(nonce), 0};
        return n;
      }
    nonces_.push_back({std::string(realm), std::string(nonce), 0});
    return nonces_.back();
  }

  std::string make_cnonce() {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t v = random_ ? random_() : core::random_u32() * 0x100000001ULL;
    std::string s(16, '0');
    for (char& c : s) {
      c = hex[v & 15];
      v >>= 4;
    }
    return s;
  }

  // The request again: new branch in the top Via, CSeq + 1, our credentials
  // for the challenged realms in place of any old ones for those realms.
  static bool rebuild_request(const message_view& sent, header_id reply, const std::vector<answered>& answers,
                              std::string_view branch, std::string& out) {
    std::size_t extra = 64 + branch.size();
    for (const answered& a : answers) extra += a.value.size() + 32;
    std::string buffer(sent.size() + extra, '\0');
    builder b(buffer, sent.body());
    b.request_line(sent.method(), sent.request_uri_text());
    bool top_via = true;
    for (const header_field& h : sent.headers()) {
      const std::string_view name = h.id == header_id::other ? h.name : canonical_name(h.id);
      if (h.id == header_id::via && top_via) {
        top_via = false;
        write_via_with_branch(b, *sent.top_via(), h.value, branch);
      } else if (h.id == header_id::cseq) {
        b.header(name, {std::to_string(sent.cseq()->number + 1), " ", sent.cseq()->method});
      } else if (h.id == reply && answers_realm_of(h.value, answers)) {
        continue;  // replaced below
      } else {
        b.header_unfolded(name, h.value);
      }
    }
    for (const answered& a : answers) b.header(canonical_name(reply), a.value);
    const auto done = b.finish();
    if (!done) return false;
    buffer.resize(done.value.size());
    out = std::move(buffer);
    return true;
  }

  static bool answers_realm_of(std::string_view value, const std::vector<answered>& answers) {
    const auto a = parse_auth_header(value);
    if (!a) return false;
    for (const answered& x : answers)
      if (a->param("realm") == x.challenge.realm) return true;
    return false;
  }

  // The first Via value with its branch replaced (a line may carry several values).
  static void write_via_with_branch(builder& b, const via& top, std::string_view line, std::string_view branch) {
    std::string_view first = line, rest{};
    if (const std::size_t comma = line.find(','); comma != std::string_view::npos) {
      first = line.substr(0, comma);
      rest = line.substr(comma);
    }
    std::string v(first);
    if (top.has_branch) {
      if (const std::size_t at = v.find(top.branch); at != std::string::npos) v.replace(at, top.branch.size(), branch);
    } else {
      v.append(";branch=").append(branch);
    }
    v.append(rest);
    b.header_unfolded(canonical_name(header_id::via), v);
  }

  std::vector<credential> credentials_;
  random_source random_;
  std::vector<nonce_state> nonces_;
};

}  // namespace sigwire::sip::dialog
