// sip_ws_demo: a SIP call carried over WebSocket (RFC 7118), both ends in one
// process, every layer of sigwire in play:
//
//   ws      the "sip" subprotocol handshake, frames, the Asio stream
//   sip     parse each message, build requests and responses (§8.2.6)
//   sdp     the caller's offer and the callee's answer (RFC 3264)
//
// The caller behaves like a browser SIP UA (JsSIP, SIP.js): its Via says WS
// and its Contact host ends in ".invalid" (RFC 7118 §5), so the server must
// answer over the caller's own connection. The call: REGISTER, INVITE with
// an SDP offer, 180, 200 with the answer, ACK, BYE, 200, close 1000.
//
//   sip_ws_demo                  run server and caller, print the ladder
//   sip_ws_demo --server PORT    run only the server (point a browser UA at it)
#include <sigwire/sdp.hpp>
#include <sigwire/sip.hpp>
#include <sigwire/ws.hpp>
#include <sigwire/ws/asio/stream.hpp>

#include <asio/experimental/as_tuple.hpp>

// GCC 12 warns falsely (-Wmismatched-new-delete) when it inlines Asio's
// coroutine frame allocator (aligned_alloc paired with its sized delete).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace sigwire;
using asio::ip::tcp;
using asio::experimental::as_tuple;
using asio::use_awaitable;
using ws_stream = ws::stream<tcp::socket>;

namespace {

void show(const char* arrow, std::string_view msg) {
  const auto first_line = msg.substr(0, msg.find("\r\n"));
  std::printf("%s %.*s  (%zu bytes)\n", arrow, static_cast<int>(first_line.size()), first_line.data(), msg.size());
}

sdp::capabilities audio_video_caps(const char* address) {
  sdp::capabilities caps;
  caps.address = address;
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {
      {.name = "opus", .clock_rate = 48000, .channels = 2, .payload_type = 111, .fmtp = "minptime=10;useinbandfec=1"},
      {.name = "PCMU", .clock_rate = 8000, .payload_type = 0},
      {.name = "telephone-event", .clock_rate = 8000, .payload_type = 101, .fmtp = "0-15"},
  };
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {{.name = "VP8", .clock_rate = 90000, .payload_type = 96, .rtcp_fb = {"nack", "nack pli"}}};
  caps.media = {audio, video};
  return caps;
}

// ---------------------------------------------------------------- server (UAS)
// One WebSocket connection: every text message is one SIP message (RFC 7118 §5).
struct uas_session {
  ws_stream& ws;
  std::vector<char> buffer = std::vector<char>(16384);
  std::string to_tag = sip::make_tag();

  // A response to `req` (Via/From/To/Call-ID/CSeq copied, §8.2.6) plus extras.
  std::string respond(const sip::message_view& req, int status, std::string_view reason,
                      std::string_view body = {}, std::string_view content_type = {}) {
    sip::builder b(buffer, body);
    sip::response_from_request(b, req, status, reason, to_tag);
    if (status >= 200 && status < 300 && req.method() != "BYE")
      b.header(sip::header_id::contact, "<sip:bob@127.0.0.1;transport=ws>");
    if (!content_type.empty()) b.header(sip::header_id::content_type, content_type);
    const auto out = b.finish();
    return out ? std::string(*out) : std::string();
  }

  void send(const std::string& msg) {
    if (msg.empty()) return;
    show("   server ->", msg);
    ws.send_text(msg);
  }

  void on_request(const sip::message_view& req) {
    if (req.method() == "REGISTER") {
      send(respond(req, 200, "OK"));
    } else if (req.method() == "INVITE") {
      sdp::negotiator neg(audio_video_caps("127.0.0.1"));
      if (neg.create_with_remote_offer(req.body()) || neg.create_answer()) {
        send(respond(req, 488, "Not Acceptable Here"));
        return;
      }
      send(respond(req, 180, "Ringing"));
      const std::string answer = neg.local_sdp();
      send(respond(req, 200, "OK", answer, "application/sdp"));
    } else if (req.method() == "ACK") {
      // no response to ACK (RFC 3261 §17.1.1.3)
    } else if (req.method() == "BYE") {
      send(respond(req, 200, "OK"));
    } else {
      send(respond(req, 501, "Not Implemented"));
    }
  }
};

asio::awaitable<void> serve(tcp::socket socket) {
  ws_stream s(std::move(socket));
  auto [rec] = co_await s.async_read_request(as_tuple(use_awaitable));
  if (rec) co_return;
  ws::server_options opt;
  opt.subprotocols = {std::string(ws::subprotocol::sip)};
  auto [aec] = co_await s.async_accept(opt, as_tuple(use_awaitable));
  if (aec || s.subprotocol() != "sip") co_return;  // RFC 7118 §4: SIP only with "sip"
  uas_session uas{s};
  std::string text;
  for (;;) {
    auto [ec, type] = co_await s.async_read(text, as_tuple(use_awaitable));
    if (ec) break;
    sip::message_view m;
    if (auto r = sip::parse(text, m); r.failed()) {  // one message per WebSocket message (RFC 7118 §5)
      const auto owed = sip::owed_response_to(m, r.ec);
      std::printf("   server: bad message (%s)\n", r.ec.message().c_str());
      if (m.is_request() && owed.status) uas.send(uas.respond(m, owed.status, owed.reason));
      continue;
    }
    if (m.is_request()) uas.on_request(m);
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple(use_awaitable));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

// ---------------------------------------------------------------- caller (UAC)
struct uac {
  ws_stream& ws;
  std::string call_id = sip::make_call_id();
  std::string from_tag = sip::make_tag();
  std::string contact = "<sip:" + core::random_token(8) + "@" + core::random_token(10) + ".invalid;transport=ws>";
  std::uint32_t cseq = 0;
  std::vector<char> buffer = std::vector<char>(16384);

  std::string request(std::string_view method, std::string_view uri, std::string_view to,
                      std::string_view body = {}, std::uint32_t number = 0) {
    if (number == 0) number = ++cseq;
    const std::string cseq_value = std::to_string(number) + " " + std::string(method);
    sip::builder b(buffer, body);
    b.request_line(method, uri)
        .header(sip::header_id::via, "SIP/2.0/WS " + core::random_token(10) + ".invalid;branch=" + sip::make_branch())
        .header(sip::header_id::max_forwards, "70")
        .header(sip::header_id::from, "<sip:alice@example.org>;tag=" + from_tag)
        .header(sip::header_id::to, to)
        .header(sip::header_id::call_id, call_id)
        .header(sip::header_id::cseq, cseq_value)
        .header(sip::header_id::contact, contact);
    if (!body.empty()) b.header(sip::header_id::content_type, "application/sdp");
    const auto out = b.finish();
    return out ? std::string(*out) : std::string();
  }

  asio::awaitable<bool> send(const std::string& msg) {
    show("caller ->", msg);
    auto [ec] = co_await ws.async_write_text(msg, as_tuple(use_awaitable));
    co_return !ec;
  }

  // Reads responses until a final one; returns its text (empty on error).
  asio::awaitable<std::string> final_response() {
    std::string text;
    for (;;) {
      auto [ec, type] = co_await ws.async_read(text, as_tuple(use_awaitable));
      if (ec) co_return std::string();
      sip::message_view m;
      if (!sip::parse(text, m).complete() || !m.is_response()) co_return std::string();
      show("<- caller", text);
      if (m.status() >= 200) co_return text;
    }
  }
};

int status_of(const std::string& text) {
  sip::message_view m;
  return sip::parse(text, m).complete() ? m.status() : 0;
}

asio::awaitable<bool> call(tcp::endpoint server) {
  ws_stream s(tcp::socket(co_await asio::this_coro::executor));
  auto [cec] = co_await s.next_layer().async_connect(server, as_tuple(use_awaitable));
  if (cec) co_return false;
  ws::client_options co;
  co.host = "127.0.0.1:" + std::to_string(server.port());
  co.subprotocols = {"sip"};
  auto [hec] = co_await s.async_handshake(co, as_tuple(use_awaitable));
  if (hec) {
    std::printf("handshake failed: %s\n", hec.message().c_str());
    co_return false;
  }
  std::printf("WebSocket open, subprotocol \"%s\"\n", std::string(s.subprotocol()).c_str());
  uac ua{s};

  co_await ua.send(ua.request("REGISTER", "sip:example.org", "<sip:alice@example.org>"));
  if (status_of(co_await ua.final_response()) != 200) co_return false;

  sdp::negotiator neg(audio_video_caps("192.0.2.10"));
  neg.create_offer();
  const std::string offer = neg.local_sdp();
  co_await ua.send(ua.request("INVITE", "sip:bob@example.org", "<sip:bob@example.org>", offer));
  const std::string ok = co_await ua.final_response();
  sip::message_view answer;
  if (!sip::parse(ok, answer).complete() || answer.status() != 200) co_return false;
  if (neg.set_remote_answer(answer.body()) || neg.negotiate()) co_return false;
  for (const auto& st : neg.streams())
    std::printf("   media %s: %s, payload type %d\n", st.type.c_str(),
                st.codecs.empty() ? "rejected" : st.codecs.front().name.c_str(),
                st.codecs.empty() ? -1 : st.codecs.front().remote_pt);

  // ACK and BYE go in the dialog: the To header now carries the callee's tag.
  const std::string to = std::string(answer.find(sip::header_id::to)->value);
  const std::uint32_t invite_cseq = ua.cseq;
  co_await ua.send(ua.request("ACK", "sip:bob@127.0.0.1;transport=ws", to, {}, invite_cseq));
  co_await ua.send(ua.request("BYE", "sip:bob@127.0.0.1;transport=ws", to));
  if (status_of(co_await ua.final_response()) != 200) co_return false;

  auto [clec] = co_await s.async_close(1000, "call ended", as_tuple(use_awaitable));
  std::printf("WebSocket closed with %u\n", s.close_code());
  co_return !clec || s.close_code() == 1000;
}

}  // namespace

int main(int argc, char** argv) {
  const bool server_only = argc == 3 && std::string(argv[1]) == "--server";
  asio::io_context io(1);
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"),
                              static_cast<unsigned short>(server_only ? std::stoi(argv[2]) : 0)});
  asio::co_spawn(io, listen(acceptor), asio::detached);
  std::printf("SIP over WebSocket server on ws://127.0.0.1:%u/ (subprotocol sip)\n", acceptor.local_endpoint().port());
  if (server_only) {
    io.run();
    return 0;
  }
  bool ok = false;
  asio::co_spawn(io, call(acceptor.local_endpoint()), [&](std::exception_ptr e, bool result) {
    ok = !e && result;
    io.stop();
  });
  io.run();
  std::printf("%s\n", ok ? "call completed" : "call FAILED");
  return ok ? 0 : 1;
}
