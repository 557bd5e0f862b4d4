// sigwire/sip/dialog/dialog.hpp - one SIP dialog (RFC 3261 §12) as data and rules.
//
//   sip::dialog::dialog d;
//   sip::dialog::dialog::create_uac(invite_sent, ringing, d);      // §12.1.2 (1xx with a To tag, or 2xx)
//   sip::dialog::dialog::create_uas(invite_received, tag, contact, d);  // §12.1.1
//   std::string bye = d.create_request(sip::method::bye, {.via = via, .branch = tl.new_branch()});
//   d.receive_request(in_dialog_request);   // §12.2.2: CSeq order (500), target refresh
//   d.receive_response(sip::method::invite, ok);  // early -> confirmed, RFC 5057 scope
//
// A dialog holds what RFC 3261 §12 names: the dialog ID (Call-ID, local tag,
// remote tag), the local and remote sequence numbers, the local and remote
// URIs (kept as the From/To values they are written as), the remote target,
// the route set and the secure flag. It sends nothing and keeps no timers:
// the usages (invite_session.hpp) send what it builds through the
// transaction layer. PJSIP users know it as pjsip_dialog; the mapping is in
// docs/sip-dialog.md.
//
// States (RFC 3261 §12, §12.3):
//
//   create_uac(1xx with tag) / create_uas    create_uac(2xx)
//            |                                    |
//            v        2xx to the INVITE           v
//         [early] -------------------------> [confirmed]
//            |  non-2xx final, or a response       |  BYE answered, or a response
//            |  whose RFC 5057 scope is dialog      |  whose RFC 5057 scope is dialog
//            v                                     v
//        [terminated] <----------------------------+
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/builder.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/method.hpp>
#include <sigwire/sip/uri.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sigwire::sip::dialog {

enum class dialog_state : std::uint8_t { early, confirmed, terminated };

constexpr std::string_view text(dialog_state s) noexcept {
  constexpr std::string_view names[] = {"early", "confirmed", "terminated"};
  return names[static_cast<int>(s)];
}

// RFC 3261 §12: the dialog ID.
struct dialog_id {
  std::string call_id, local_tag, remote_tag;
  friend bool operator==(const dialog_id&, const dialog_id&) = default;
};

enum class dialog_error : std::uint8_t {
  ok,
  not_a_request,         // create_uas / receive_request got a response
  not_a_response,        // create_uac / receive_response got a request
  no_remote_tag,         // §12.1.2: a 1xx without a To tag creates no dialog; a 2xx without one is a protocol error
  not_dialog_creating,   // status 100 or >= 300, or the request already has a To tag
  missing_contact,       // §12.1.1 / §12.1.2: a dialog-creating request or 2xx must carry one Contact
  bad_header,            // Contact / Record-Route / CSeq does not parse
  wrong_dialog,          // Call-ID or tags are not this dialog's
  out_of_order,          // §12.2.2: CSeq lower than the remote sequence number: answer 500
  terminated,            // the dialog has ended
  build_failed,          // a value given to a builder contains CR/LF, or is not a token
};

constexpr std::string_view text(dialog_error e) noexcept {
  constexpr std::string_view names[] = {"ok", "not_a_request", "not_a_response", "no_remote_tag",
                                        "not_dialog_creating", "missing_contact", "bad_header", "wrong_dialog",
                                        "out_of_order", "terminated", "build_failed"};
  return names[static_cast<int>(e)];
}

// RFC 5057 §5.1: how far a final response to a request inside the dialog
// reaches. `transaction`: only this request failed (488 to a re-INVITE keeps
// the call); `usage`: the usage the request belongs to ends (for an INVITE
// usage alone in its dialog, the dialog with it); `dialog`: the dialog and
// every usage in it end.
enum class response_scope : std::uint8_t { transaction, usage, dialog };

constexpr response_scope scope_of(int status, method m) noexcept {
  switch (status) {
    case 404: case 410: case 416: case 482: case 485: case 502: case 604:
      return response_scope::dialog;  // the remote target or the route set is broken
    case 484:
      return m == method::refer ? response_scope::transaction : response_scope::dialog;
    case 408: case 480: case 481:
      return response_scope::usage;  // 408 as a transaction timeout (RFC 5057 §5.1 and §3.2)
    case 405: case 501:
      return m == method::invite || m == method::subscribe || m == method::notify ? response_scope::usage
                                                                                  : response_scope::transaction;
    case 489:
      return m == method::notify || m == method::subscribe ? response_scope::usage : response_scope::transaction;
    default:
      return response_scope::transaction;
  }
}

// RFC 3261 §12.2 and RFC 3311/3515/6665: requests that refresh the remote
// target and carry our Contact.
constexpr bool is_target_refresh(method m) noexcept {
  return m == method::invite || m == method::update || m == method::subscribe || m == method::notify ||
         m == method::refer;
}

// True for a SIPS URI, bare ("sips:a@b") or in a name-addr ("Bob <sips:b@c;lr>").
inline bool is_sips(std::string_view uri_or_name_addr) noexcept {
  const std::size_t open = uri_or_name_addr.find('<');
  if (open != std::string_view::npos) uri_or_name_addr.remove_prefix(open + 1);
  std::size_t colon = 0;
  return sip::detail::sip_scheme_prefix(uri_or_name_addr, colon) == uri_scheme::sips;
}

// Our Contact as a SIPS URI, for a request or dialog that needs one (RFC 3261
// §8.1.1.8, §12.1.1). A transport's Contact for TLS is "sip:...;transport=tls":
// the same address as a SIPS URI is "sips:..." without the parameter (RFC 3261
// §26.2.2 deprecates transport=tls); a WebSocket one keeps ";transport=ws"
// (RFC 7118 §5.2: sips: with ws is WSS; "wss" is kept too). A Contact for any
// other transport, or one that does not parse, comes back as it is: no SIPS
// URI reaches it (the user agent asks for one only on TLS and WSS flows).
inline std::string secure_contact(std::string_view contact) {
  uri u;
  if (parse_uri_to(contact, u) != error{} || u.scheme != uri_scheme::sip) return std::string(contact);
  const auto transport = u.transport();
  const bool tls = transport && core::ascii::iequals(*transport, "tls");
  const bool websocket = transport && (core::ascii::iequals(*transport, "ws") || core::ascii::iequals(*transport, "wss"));
  if (!tls && !websocket) return std::string(contact);
  const std::size_t rest = u.scheme_name.size() + 1;  // after "sip:"
  const std::size_t params_at = static_cast<std::size_t>(u.params.data() - contact.data());
  std::string out = "sips:";
  out.append(contact.substr(rest, params_at - rest));
  for (std::string_view params = u.params; !params.empty();) {  // ";a=b;lr"
    const std::size_t end = params.find(';', 1);
    const std::string_view item = params.substr(0, end);  // ";name[=value]"
    if (!(tls && core::ascii::iequals(item.substr(1, item.find('=') - 1), "transport"))) out.append(item);
    params.remove_prefix(item.size());
  }
  out.append(contact.substr(params_at + u.params.size()));  // "?headers", if any
  return out;
}

// An extra header line for a request or response the dialog builds.
struct header_line {
  std::string_view name, value;
};

struct request_options {
  std::string_view via;     // the transport's Via value without the branch: "SIP/2.0/UDP 192.0.2.1:5060;rport"
  std::string_view branch;  // RFC 3261 §8.1.1.7: a new one per request (transaction::layer::new_branch())
  std::string_view content_type{};  // with a body: "application/sdp"
  std::string_view body{};
  std::span<const header_line> headers{};
  std::uint32_t max_forwards = 70;
};

struct response_options {
  std::string_view content_type{};
  std::string_view body{};
  std::span<const header_line> headers{};
};

// What a UAC knows of a dialog-creating request it built itself (§12.1.2):
// enough to make its dialogs without parsing that request again.
struct uac_origin {
  std::string_view call_id, local_tag;
  std::string_view local_party;    // the From value as sent, ";tag=" included
  std::uint32_t cseq = 0;
  std::string_view request_uri;    // the initial remote target
  std::string_view local_contact;  // the Contact URI without <>; empty when the request had none
  bool secure = false;             // §12.1.2: a sips Request-URI sent over TLS
};

class dialog {
 public:
  // §12.1.2: the UAC's dialog from `request` (the INVITE, or another
  // dialog-creating request, as sent) and `response` (a 101-199 with a To tag,
  // or a 2xx). `secure_transport`: the request went over TLS (§12.1.2 secure flag).
  static dialog_error create_uac(const message_view& request, const message_view& response, dialog& out,
                                 bool secure_transport = false) {
    if (!request.is_request()) return dialog_error::not_a_request;
    if (!request.from() || !request.to() || !request.cseq()) return dialog_error::bad_header;
    const std::string local_party = unfolded(find_value(request, header_id::from));
    const contact_value contact = first_contact(request);
    const uac_origin origin{request.call_id(),
                            request.from()->tag,
                            local_party,
                            request.cseq()->number,
                            request.request_uri_text(),
                            contact.error == dialog_error::ok ? std::string_view(contact.uri) : std::string_view{},
                            secure_transport && request.request_uri().scheme == uri_scheme::sips};
    return create_uac(origin, response, out);
  }
  // The same from what the UAC wrote into its request (a session layer's own INVITE).
  static dialog_error create_uac(const uac_origin& origin, const message_view& response, dialog& out) {
    dialog d;
    d.uac_ = true;
    d.id_.call_id = origin.call_id;
    d.id_.local_tag = origin.local_tag;
    d.local_party_ = origin.local_party;
    d.local_cseq_ = origin.cseq;
    d.initial_target_ = origin.request_uri;
    d.target_ = d.initial_target_;
    d.local_contact_ = origin.local_contact;
    d.secure_ = origin.secure;
    if (const dialog_error e = d.take_remote(response); e != dialog_error::ok) return e;
    out = std::move(d);
    return dialog_error::ok;
  }

  // §12.1.1: the UAS's dialog from a dialog-creating request (no To tag),
  // with our new tag (§19.3, at least 32 random bits) and our Contact URI.
  static dialog_error create_uas(const message_view& request, std::string_view local_tag,
                                 std::string_view local_contact, dialog& out, bool secure_transport = false) {
    if (!request.is_request()) return dialog_error::not_a_request;
    if (!request.from() || !request.to() || !request.cseq()) return dialog_error::bad_header;
    if (request.to()->has_tag) return dialog_error::not_dialog_creating;
    if (local_tag.empty() || !core::ascii::all_of_class(local_tag, core::ascii::cls_sip_token))
      return dialog_error::build_failed;
    const contact_value c = first_contact(request);
    if (c.error != dialog_error::ok) return c.error;
    dialog d;
    d.uac_ = false;
    d.id_.call_id = request.call_id();
    d.id_.local_tag = local_tag;
    d.id_.remote_tag = request.from()->tag;  // empty for an RFC 2543 peer (§12.1.1)
    d.remote_party_ = unfolded(find_value(request, header_id::from));
    d.local_party_ = unfolded(find_value(request, header_id::to), 5 + local_tag.size()).append(";tag=").append(local_tag);
    d.remote_cseq_ = request.cseq()->number;
    d.target_ = c.uri;
    d.secure_ = secure_transport && request.request_uri().scheme == uri_scheme::sips;
    // §12.1.1: the route set is the Record-Route list in order.
    if (read_record_route(request, d.route_set_, false) != dialog_error::ok) return dialog_error::bad_header;
    // §12.1.1: a SIPS Request-URI, or a SIPS top Record-Route (else Contact),
    // makes our Contact in the responses a SIPS URI.
    const bool sips = request.request_uri().scheme == uri_scheme::sips ||
                      is_sips(d.route_set_.empty() ? std::string_view(d.target_) : std::string_view(d.route_set_.front()));
    d.local_contact_ = sips ? secure_contact(local_contact) : std::string(local_contact);
    out = std::move(d);
    return dialog_error::ok;
  }

  // pjsip_dlg_fork: a dialog of the same request for a response from another
  // UAS (another To tag, RFC 3261 §12.2.1.2 / §13.2.2.4). UAC only.
  dialog_error fork(const message_view& response, dialog& out) const {
    if (!uac_) return dialog_error::not_dialog_creating;
    dialog d = *this;
    d.route_set_.clear();
    d.target_ = initial_target_;
    d.state_ = dialog_state::early;
    if (const dialog_error e = d.take_remote(response); e != dialog_error::ok) return e;
    out = std::move(d);
    return dialog_error::ok;
  }

  // --- the dialog state --------------------------------------------------
  const dialog_id& id() const noexcept { return id_; }
  dialog_state state() const noexcept { return state_; }
  bool is_uac() const noexcept { return uac_; }
  bool secure() const noexcept { return secure_; }
  const std::string& remote_target() const noexcept { return target_; }
  const std::string& local_contact() const noexcept { return local_contact_; }
  const std::vector<std::string>& route_set() const noexcept { return route_set_; }
  std::optional<std::uint32_t> local_cseq() const noexcept { return local_cseq_; }
  std::optional<std::uint32_t> remote_cseq() const noexcept { return remote_cseq_; }
  const std::string& local_party() const noexcept { return local_party_; }
  const std::string& remote_party() const noexcept { return remote_party_; }

  // pjsip_dlg_set_route_set: each entry a name-addr ("<sip:p1.example.com;lr>").
  void set_route_set(std::vector<std::string> routes) { route_set_ = std::move(routes); }
  void set_local_contact(std::string_view uri) { local_contact_ = uri; }
  void confirm() noexcept {
    if (state_ == dialog_state::early) state_ = dialog_state::confirmed;
  }
  void terminate() noexcept { state_ = dialog_state::terminated; }

  // Whether `m` belongs to this dialog (§12.2.1.2 for responses, §12.2.2 for requests).
  bool matches(const message_view& m) const noexcept {
    if (!m.from() || !m.to() || m.call_id() != id_.call_id) return false;
    const name_addr& local = m.is_request() ? *m.to() : *m.from();
    const name_addr& remote = m.is_request() ? *m.from() : *m.to();
    if (local.tag != id_.local_tag) return false;
    // A UAC's early dialog learns the remote tag from its first response.
    return remote.tag == id_.remote_tag;
  }

  // --- requests we send (§12.2.1.1) -----------------------------------------
  // A request inside the dialog; takes the next local CSeq (an empty local
  // sequence number starts at 1, §12.2.1.1). ACK and CANCEL are built elsewhere:
  // create_ack() here, transaction::layer::create_cancel() for CANCEL.
  dialog_error create_request(method m, const request_options& o, std::string& out) {
    if (state_ == dialog_state::terminated) return dialog_error::terminated;
    if (m == method::ack || m == method::cancel || m == method::other) return dialog_error::build_failed;
    const std::uint32_t cseq = local_cseq_ ? *local_cseq_ + 1 : 1;
    const dialog_error e = build_request(text(m), cseq, o, is_target_refresh(m), out);
    if (e == dialog_error::ok) local_cseq_ = cseq;
    return e;
  }
  // §13.2.2.4: the ACK for a 2xx to the INVITE with CSeq `invite_cseq`: the
  // same CSeq number, a new branch, the dialog's route set and target; an
  // offer/answer body when the INVITE had none (late offer).
  dialog_error create_ack(std::uint32_t invite_cseq, const request_options& o, std::string& out) const {
    return build_request("ACK", invite_cseq, o, false, out);
  }

  // --- responses we send ---------------------------------------------------
  // A response to `request` (inside this dialog, or the dialog-creating one):
  // To gets our tag; 101-299 to a target refresh carry our Contact (§12.1.1,
  // §12.2.2); Record-Route is copied for 101-299 (§12.1.1).
  dialog_error create_response(const message_view& request, int status, std::string_view reason,
                               const response_options& o, std::string& out) const {
    std::string buffer(estimate(request.size(), o.body.size(), o.headers), '\0');
    builder b(buffer, o.body);
    if (response_from_request(b, request, status, reason, status == 100 ? std::string_view{} : id_.local_tag))
      return dialog_error::build_failed;
    const method m = parse_method(request.method());
    if (status > 100 && status < 300 && is_target_refresh(m) && !local_contact_.empty())
      b.header(canonical_name(header_id::contact), {"<", local_contact_, ">"});
    return finish(b, o.content_type, o.headers, buffer, out);
  }

  // --- what arrives ---------------------------------------------------------
  // §12.2.2: a request inside the dialog. Out of order (a CSeq lower than the
  // last): out_of_order, answer 500 and leave the dialog as it was. A target
  // refresh with a Contact replaces the remote target.
  dialog_error receive_request(const message_view& request) {
    if (!request.is_request()) return dialog_error::not_a_request;
    if (!matches(request) || !request.cseq()) return dialog_error::wrong_dialog;
    if (state_ == dialog_state::terminated) return dialog_error::terminated;
    const method m = parse_method(request.method());
    if (m != method::ack && m != method::cancel) {  // both carry the CSeq number of their INVITE
      const std::uint32_t n = request.cseq()->number;
      if (remote_cseq_ && n < *remote_cseq_) return dialog_error::out_of_order;
      remote_cseq_ = n;
    }
    if (is_target_refresh(m)) return refresh_target(request);
    return dialog_error::ok;
  }

  // A response to a request we sent inside the dialog (or to the
  // dialog-creating INVITE): confirms on a 2xx to an INVITE, refreshes the
  // target on a 2xx to a target refresh (§12.2.1.2), ends the dialog when the
  // response's RFC 5057 scope is the dialog (or the usage, when
  // `last_usage`), and an early dialog on a non-2xx final to its INVITE (§12.3).
  dialog_error receive_response(method request_method, const message_view& response, bool last_usage = true) {
    if (!response.is_response()) return dialog_error::not_a_response;
    if (!matches(response)) return dialog_error::wrong_dialog;
    const int status = response.status();
    if (status < 200) return dialog_error::ok;
    if (status < 300) {
      if (request_method == method::invite) confirm();
      if (is_target_refresh(request_method)) return refresh_target(response);
      return dialog_error::ok;
    }
    if (state_ == dialog_state::early && request_method == method::invite) {
      terminate();
      return dialog_error::ok;
    }
    const response_scope s = scope_of(status, request_method);
    if (s == response_scope::dialog || (s == response_scope::usage && last_usage)) terminate();
    return dialog_error::ok;
  }
  // RFC 5057 §3.2: a transaction timeout in the dialog counts as a 408.
  void transaction_timed_out(method request_method, bool last_usage = true) noexcept {
    const response_scope s = scope_of(408, request_method);
    if (s == response_scope::dialog || (s == response_scope::usage && last_usage)) terminate();
  }

 private:
  struct contact_value {
    std::string uri;
    dialog_error error = dialog_error::ok;
  };

  static std::string_view find_value(const message_view& m, header_id id) noexcept {
    const header_field* h = m.find(id);
    return h ? h->value : std::string_view{};
  }
  // Folds (CRLF + WSP) are legal in a received value; a value we write again is unfolded.
  // `v` without its CR and LF (a folded header value), with room for `extra` more.
  static std::string unfolded(std::string_view v, std::size_t extra = 0) {
    std::string s;
    s.reserve(v.size() + extra);
    for_each_unfolded_run(v, [&](std::string_view run) { s.append(run); });
    return s;
  }

  // The URI of the one Contact (a dialog-creating request or response has one, §8.1.1.8).
  static contact_value first_contact(const message_view& m) {
    contact_value c;
    bool star = false;
    const auto r = for_each_contact(m, [&](const name_addr& na) {
      if (na.star) star = true;
      else if (c.uri.empty()) c.uri = na.address.raw;
    });
    if (!r || star) c.error = dialog_error::bad_header;
    else if (c.uri.empty()) c.error = dialog_error::missing_contact;
    return c;
  }

  // Each Record-Route element as written (name-addr with its rr-params),
  // checked; reversed for the UAC (§12.1.2).
  static dialog_error read_record_route(const message_view& m, std::vector<std::string>& out, bool reverse) {
    out.clear();
    name_addr na;
    const auto r = for_each_element(m, header_id::record_route, error::bad_record_route,
                                    [&](std::string_view e, const header_field&) {
                                      if (parse_name_addr_to(e, na, error::bad_record_route, m.options().limits) != error{})
                                        return make_error_code(error::bad_record_route);
                                      out.push_back(unfolded(e));
                                      return std::error_code{};
                                    });
    if (!r) return dialog_error::bad_header;
    if (reverse) std::reverse(out.begin(), out.end());
    return dialog_error::ok;
  }

  // §12.1.2 from a response: remote tag and URI (To), route set (Record-Route
  // reversed), remote target (Contact), state (early or confirmed).
  dialog_error take_remote(const message_view& response) {
    if (!response.is_response()) return dialog_error::not_a_response;
    const int status = response.status();
    if (status <= 100 || status >= 300) return dialog_error::not_dialog_creating;
    if (!response.to() || response.call_id() != id_.call_id || !response.from() ||
        response.from()->tag != id_.local_tag)
      return dialog_error::wrong_dialog;
    if (!response.to()->has_tag || response.to()->tag.empty()) return dialog_error::no_remote_tag;
    id_.remote_tag = response.to()->tag;
    remote_party_ = unfolded(find_value(response, header_id::to));
    if (read_record_route(response, route_set_, true) != dialog_error::ok) return dialog_error::bad_header;
    const contact_value c = first_contact(response);
    if (c.error == dialog_error::ok) target_ = c.uri;
    else if (status >= 200 || c.error != dialog_error::missing_contact) return c.error;  // a 2xx MUST have one
    state_ = status >= 200 ? dialog_state::confirmed : dialog_state::early;
    return dialog_error::ok;
  }

  // §12.2.1.2 / §12.2.2: a Contact in a target refresh (or its 2xx) replaces the remote target.
  dialog_error refresh_target(const message_view& m) {
    if (!m.find(header_id::contact)) return dialog_error::ok;
    contact_value c = first_contact(m);
    if (c.error != dialog_error::ok) return c.error;
    target_ = std::move(c.uri);
    return dialog_error::ok;
  }

  static std::size_t estimate(std::size_t base, std::size_t body, std::span<const header_line> extra) noexcept {
    std::size_t n = base + body + 256;
    for (const header_line& h : extra) n += h.name.size() + h.value.size() + 4;
    return n;
  }
  std::size_t request_estimate(const request_options& o) const noexcept {
    std::size_t n = estimate(local_party_.size() + remote_party_.size() + target_.size() + id_.call_id.size() +
                                 local_contact_.size() + o.via.size() + o.branch.size() + o.content_type.size(),
                             o.body.size(), o.headers);
    for (const std::string& r : route_set_) n += r.size() + 9;
    return n;
  }

  // §12.2.1.1: Request-URI and Route from the route set and the remote target.
  // Loose routing (first route has `lr`): Request-URI = remote target, Route =
  // the route set. Strict: Request-URI = the first route's URI, Route = the
  // rest followed by the remote target.
  void write_routing(builder& b, std::string_view method_name) const {
    name_addr first;
    const bool strict = !route_set_.empty() &&
                        parse_name_addr_to(route_set_.front(), first, error::bad_route) == error{} &&
                        !first.address.lr();
    if (!strict) {
      b.request_line(method_name, target_);
      for (const std::string& r : route_set_) b.header(header_id::route, r);
      return;
    }
    std::string_view uri = first.address.raw;
    if (const std::size_t q = uri.find('?'); q != std::string_view::npos) uri = uri.substr(0, q);  // no headers in a Request-URI
    b.request_line(method_name, uri);
    for (std::size_t i = 1; i < route_set_.size(); ++i) b.header(header_id::route, route_set_[i]);
    b.header(canonical_name(header_id::route), {"<", target_, ">"});
  }

  dialog_error build_request(std::string_view method_name, std::uint32_t cseq, const request_options& o,
                             bool with_contact, std::string& out) const {
    if (o.via.empty() || o.branch.empty()) return dialog_error::build_failed;
    std::string buffer(request_estimate(o), '\0');
    builder b(buffer, o.body);
    write_routing(b, method_name);
    b.header(canonical_name(header_id::via), {o.via, ";branch=", o.branch});
    char number[12];
    b.header(header_id::max_forwards, decimal(o.max_forwards, number));
    b.header(header_id::from, local_party_);
    b.header(header_id::to, remote_party_);
    b.header(header_id::call_id, id_.call_id);
    char cseq_text[12];
    b.header(canonical_name(header_id::cseq), {decimal(cseq, cseq_text), " ", method_name});
    if (with_contact && !local_contact_.empty()) b.header(canonical_name(header_id::contact), {"<", local_contact_, ">"});
    return finish(b, o.content_type, o.headers, buffer, out);
  }

  static dialog_error finish(builder& b, std::string_view content_type, std::span<const header_line> extra,
                             std::string& buffer, std::string& out) {
    for (const header_line& h : extra) b.header(h.name, h.value);
    if (!content_type.empty()) b.header(header_id::content_type, content_type);
    const auto done = b.finish();
    if (!done) return dialog_error::build_failed;
    buffer.resize(done.value.size());
    out = std::move(buffer);
    return dialog_error::ok;
  }

  static std::string_view decimal(std::uint32_t v, char (&buf)[12]) noexcept {
    std::size_t i = sizeof buf;
    do buf[--i] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
    return {buf + i, sizeof buf - i};
  }

  dialog_id id_{};
  dialog_state state_ = dialog_state::early;
  bool uac_ = true;
  bool secure_ = false;
  std::optional<std::uint32_t> local_cseq_{}, remote_cseq_{};
  std::string local_party_{}, remote_party_{};  // From / To values as we write them (with tags)
  std::string target_{};                        // the remote target URI
  std::string initial_target_{};                // UAC: the request's Request-URI (forks start from it)
  std::string local_contact_{};
  std::vector<std::string> route_set_{};
};

}  // namespace sigwire::sip::dialog
