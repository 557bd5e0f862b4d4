// libFuzzer: the registrar (sip/dialog/registrar.hpp) fed a sequence of
// requests, each on one of four flows after a clock step, with flows failing
// and lookups in between. The input is records split by NUL bytes: the
// input's length picks digest authentication on (bit 0) and the domain
// checks (bit 1); the first byte of a record picks the flow (bits 0-1),
// whether that flow fails first (bit 2) and the clock step in seconds
// (bits 3-7, times 37); the rest is a SIP message. Properties: every answer is one of the statuses the
// registrar gives; the table never holds more than its limits; a lookup
// returns only live bindings of the address asked for, best first (best()
// gives its first), each Path entry (RFC 3327) one bracketed SIP name-addr
// and a binding with a Path never bound to its flow; and a sweep after
// every expiry leaves the table empty.
#include <sigwire/sip/dialog/registrar.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sip = sigwire::sip;
namespace tsx = sigwire::sip::transaction;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sip::dialog::registrar_config cfg{.default_expires = 600, .min_expires = 30, .max_expires = 3600,
                                    .max_bindings_per_aor = 3, .max_bindings = 8};
  if (size & 1) {  // half the inputs meet digest authentication: challenges, credentials parsed and checked
    cfg.realm = "example.com";
    cfg.password_for = [](std::string_view user) { return user == "alice" ? std::optional<std::string>("secret") : std::nullopt; };
    cfg.nonce_secret = "fuzz";  // fixed: an input's nonce stays valid from run to run
    cfg.max_tracked_nonces = 2;  // the replay table fills (503) and empties as nonces age
  }
  if (size & 2) cfg.domains = {"example.com"};  // §10.3 steps 1 and 5
  cfg.wall_clock = [] { return std::chrono::system_clock::time_point{}; };  // the Date header, fixed
  sip::dialog::registrar reg(cfg);
  tsx::instant now{};
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const std::size_t end = rest.find('\0');
    const std::string_view record = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (record.empty()) continue;
    const auto control = static_cast<std::uint8_t>(record[0]);
    const tsx::peer flow{1u + (control & 3u), (control & 3u) != 0};
    now += std::chrono::seconds((control >> 3) * 37);
    if (control & 4) reg.flow_failed(flow);
    sip::message m;
    if (sip::message::parse(std::string(record.substr(1)), m) || !m.view().is_request()) continue;
    const auto reply = reg.handle_register(m.view(), flow, now);
    const int s = reply.status;
    require(s == 200 || s == 400 || s == 401 || s == 403 || s == 404 || s == 423 || s == 500 || s == 503);
    if (s == 401) require(reply.lines().size() == cfg.algorithms.size());
    require(reg.size() <= cfg.max_bindings);
    if (s == 423) require(!reply.lines().empty());
    if (reply.aor.empty()) continue;
    const auto found = reg.lookup(reply.aor, now);
    require(found.size() <= cfg.max_bindings_per_aor);
    require(reg.best(reply.aor, now) == (found.empty() ? nullptr : found.front()));
    for (std::size_t i = 0; i < found.size(); ++i) {
      require(found[i]->expires_at > now);
      require(found[i]->expires_at - now <= std::chrono::seconds(cfg.max_expires));
      if (i > 0) require(found[i - 1]->q >= found[i]->q);
      require(found[i]->path.empty() || !found[i]->flow_only);
      for (const std::string& hop : found[i]->path) {
        sip::name_addr na;
        require(sip::parse_name_addr_to(hop, na, sip::error::bad_route) == sip::error{} && na.bracketed && na.address.is_sip());
      }
    }
  }
  reg.sweep(now + std::chrono::seconds(cfg.max_expires + 1));
  require(reg.size() == 0 && reg.aors() == 0);
  return 0;
}
