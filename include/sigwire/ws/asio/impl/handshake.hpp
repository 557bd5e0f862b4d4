// sigwire/ws/asio/impl/handshake.hpp - the opening handshake of ws::stream
// (RFC 6455 §4): the HTTP head exchange of both roles (the client writes its
// request and reads the 101; the server reads the request), the server's
// accept, TLS set-up for a wss client (SNI, verification). Included by
// stream.hpp; not a header to include on its own.
//
// head_op's states (both roles):
//
//   start --wss--> TLS handshake --> tls_done        (plain: straight to tls_done)
//   tls_done --client--> write the request --> wrote --> read_head
//   tls_done --server--> read_head
//   read_head: plain TCP: waiting (wait until readable, then one direct
//              recv: a silent peer holds no buffer); else reading
//   waiting / reading --bytes--> parse the head:
//     need more         --> read_head
//     complete          --> done (client: the 101 validated, the connection opened)
//     malformed, client --> done(bad_response_head)
//     malformed, server --> write 400 --> rejected --> done(bad_request_head)
#pragma once

namespace sigwire::ws {

// ---- head exchange (both roles) --------------------------------------------
// Client: [TLS] write request, read response, validate.
// Server (read_only_request): [TLS] read request.
template <class NextLayer>
struct stream<NextLayer>::head_op {
  stream* s;
  bool server;
  enum { start, tls_done, wrote, reading, waiting, rejected } state = start;

  template <class Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
    if (state == rejected) return s->finish_handshake(self, make_error_code(error::bad_request_head));
    if (ec) return s->finish_handshake(self, ec);
    switch (state) {
      case start:
        state = tls_done;
        s->arm_timer(std::chrono::steady_clock::now() + s->opt_.handshake_timeout, timer_purpose::handshake);
        if constexpr (is_tls) {
          if (server && s->tls_done_) break;
          s->tls_done_ = true;
          if (!server) s->prepare_tls_client();
          s->next_.async_handshake(server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client, std::move(self));
          return;
        }
        break;
      case tls_done: break;
      case wrote: return read_head(self);
      case reading:
        s->rlen_ += n;
        return on_bytes(self);
      case waiting: {
        std::size_t got = 0;
        ec = s->recv_into_buffer(got);
        if (ec == asio::error::would_block) return read_head(self);
        if (ec) return s->finish_handshake(self, ec);
        s->rlen_ += got;
        return on_bytes(self);
      }
      case rejected: break;
    }
    if (server) return read_head(self);
    state = wrote;
    asio::async_write(s->next_, asio::buffer(s->client_hs_->request()), std::move(self));
  }

  template <class Self>
  void on_bytes(Self& self) {
    // Parsed in its own buffer, so that the views of a complete head stay
    // valid when rbuf_ goes back to the pool: one copy, one parse.
    s->head_.assign(s->rbuf_.data(), s->rlen_);
    http::parse_result r;
    if (server) r = http::parse_request(s->head_, s->request_);
    else r = http::parse_response(s->head_, s->response_);
    if (r.failed()) {  // also a head past http::limits::max_head_bytes
      if (!server) return s->finish_handshake(self, make_error_code(error::bad_response_head));
      // A server answers a malformed head with 400 before closing.
      state = rejected;
      s->reply_ = failure_response(error::bad_request_head);
      return asio::async_write(s->next_, asio::buffer(s->reply_), std::move(self));
    }
    if (r.need_more()) {
      s->rbuf_.shrink_to(s->rlen_);  // hold only what came, while the peer takes its time
      return read_head(self);
    }
    s->head_.resize(r.consumed);  // (shrinking keeps the views valid); bytes after the head stay in rbuf_
    s->rpos_ = r.consumed;
    if (server) {
      s->request_read_ = true;
      return s->finish_handshake(self, {});
    }
    const auto v = s->client_hs_->validate(s->response_);
    if (v.ec) return s->finish_handshake(self, v.ec);
    s->subprotocol_ = v.subprotocol;
    s->deflate_ = v.deflate;
    s->open_connection(role::client);
    s->finish_handshake(self, {});
  }

  // Over plain TCP a connection that sends nothing holds no buffer: wait
  // until bytes are there, then read them (state waiting).
  template <class Self>
  void read_head(Self& self) {
    if constexpr (direct_io) {
      state = waiting;
      return s->lowest_layer().async_wait(asio::socket_base::wait_read, std::move(self));
    }
    state = reading;
    s->reserve_behind_unparsed();
    s->next_.async_read_some(asio::buffer(s->rbuf_.data() + s->rlen_, s->rbuf_.size() - s->rlen_), std::move(self));
  }
};

template <class NextLayer>
template <class Self>
void stream<NextLayer>::finish_handshake(Self& self, std::error_code ec) {
  if (ec && timed_out_) ec = make_error_code(error::timeout);
  if (ec) close_transport();
  self.complete(ec);
}

template <class NextLayer>
struct stream<NextLayer>::accept_op {
  stream* s;
  enum { start, have_request, wrote } state = start;
  template <class Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
    if (ec) return s->finish_handshake(self, ec);
    if (state == start) {
      state = have_request;
      if (!s->request_read_)
        return s->async_read_request(std::move(self));
    }
    if (state == have_request) {
      state = wrote;
      auto r = server_accept(s->request_, s->server_opts_);
      s->accept_error_ = r.ec;
      s->subprotocol_ = r.subprotocol;
      s->deflate_ = r.deflate;
      // The answer has its own buffer: request() keeps viewing head_.
      s->reply_ = std::move(r.response);
      return asio::async_write(s->next_, asio::buffer(s->reply_), std::move(self));
    }
    std::string().swap(s->reply_);
    if (s->accept_error_) return s->finish_handshake(self, s->accept_error_);
    s->open_connection(role::server);
    s->finish_handshake(self, {});
  }
};

template <class NextLayer>
void stream<NextLayer>::open_connection(ws::role r) {
  connection_options co = opt_.connection;
  co.deflate = deflate_;
  // The codec's budget (mem_level, level, keep_idle_codec, ...) is the one
  // of the deflate_options the handshake negotiated with.
  co.deflate_settings = r == role::server ? server_opts_.deflate : client_hs_->options().deflate;
  conn_.emplace(r, std::move(co), clock_now());
  sync_timer();  // replaces (or cancels) the handshake's timer
}

template <class NextLayer>
void stream<NextLayer>::prepare_tls_client() {
  if constexpr (is_tls) {
    const std::string host(detail::host_without_port(client_hs_->options().host));
    // SNI from the URL host (RFC 6066 §3); no SNI for IP literals.
    asio::error_code ec;
    asio::ip::make_address(host, ec);
    if (ec) SSL_set_tlsext_host_name(next_.native_handle(), host.c_str());
    if (opt_.tls_verify) {
      next_.set_verify_mode(asio::ssl::verify_peer);
      next_.set_verify_callback(asio::ssl::host_name_verification(host));
    } else {
      next_.set_verify_mode(asio::ssl::verify_none);
    }
  }
}

}  // namespace sigwire::ws
