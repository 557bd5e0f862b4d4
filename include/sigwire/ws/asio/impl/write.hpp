// sigwire/ws/asio/impl/write.hpp - ws::stream's send queue: messages are
// framed into the connection's output at once; one write is in flight at a
// time (inflight_), tried first as one direct non-blocking send on plain TCP;
// replies to a batch of received messages leave together (schedule_flush);
// watermarks, write waiters, and closing the transport. Included by
// stream.hpp; not a header to include on its own.
#pragma once

namespace sigwire::ws {

// ---- writing ------------------------------------------------------------------
template <class NextLayer>
send_status stream<NextLayer>::send_owned(message_type type, std::string&& s) {
  const std::size_t n = s.size();  // read before the string is moved from
  return enqueue(
      [&] { return type == message_type::text ? conn_->send_text(std::move(s)) : conn_->send_binary(std::move(s)); },
      n);
}

template <class NextLayer>
template <class F>
send_status stream<NextLayer>::enqueue(F&& frame_it, std::size_t size) {
  if (!conn_ || transport_closed_) return send_status::dropped;
  if (buffered_amount() + size > opt_.high_watermark) {
    above_high_ = true;
    return send_status::dropped;
  }
  if (frame_it()) return send_status::dropped;
  queued_total_ = written_total_ + buffered_amount();
  schedule_flush();
  return send_status::queued;
}

// Data is std::string_view (copied when framed) or std::string (taken over).
template <class NextLayer>
template <class Data, class Token>
auto stream<NextLayer>::async_write(message_type type, Data data, Token&& token) {
  return asio::async_initiate<Token, void(std::error_code)>(
      [this, type, data = std::move(data)](auto handler) mutable {
        using H = std::decay_t<decltype(handler)>;
        auto w = std::make_unique<detail::waiter_impl<H, executor_type>>(std::move(handler), get_executor());
        const auto st = type == message_type::text ? send_text(std::move(data)) : send_binary(std::move(data));
        if (st == send_status::dropped) return w->complete(make_error_code(error::closed));
        if (written_total_ >= queued_total_) return w->complete({});  // the send went out at once
        write_waiters_.push_back({queued_total_, std::move(w)});
      },
      token);
}

// Messages parsed from one read are usually answered one by one from their
// handlers. While unparsed input remains, output is held so that the whole
// batch leaves in one write: the read op flushes when its buffer drains,
// and a posted check flushes anyway when no read carries the batch on.
// Inside one of our read completions the check is posted only once the
// handler has returned without starting a read, so the usual read loop
// costs no scheduler round for it. The check goes round the scheduler
// twice, so that a handler run later (a posted completion) could start
// the next read first.
template <class NextLayer>
void stream<NextLayer>::schedule_flush() {
  if (rpos_ >= rlen_) return flush();
  defer_flush();
}

template <class NextLayer>
void stream<NextLayer>::defer_flush() {
  flush_deferred_ = true;
  if (!turn_destroyed_) post_flush_fallback();  // in a read completion, done() decides
}

template <class NextLayer>
void stream<NextLayer>::post_flush_fallback() {
  if (flush_posted_) return;
  flush_posted_ = true;
  post_flush_check(2);
}

template <class NextLayer>
void stream<NextLayer>::post_flush_check(int rounds) {
  asio::post(get_executor(), [this, rounds, alive = std::weak_ptr<bool>(alive_)] {
    if (auto a = alive.lock(); !a || !*a) return;
    if (rounds > 1) return post_flush_check(rounds - 1);
    flush_posted_ = false;
    if (flush_deferred_ && (!reading_ || rpos_ >= rlen_)) flush();
  });
}

template <class NextLayer>
void stream<NextLayer>::flush() {
  flush_deferred_ = false;
  if (writing_ || !conn_ || transport_closed_) return;
  if (conn_->buffered_amount() == 0) {
    if (conn_->transport_should_close() && !reading_) close_transport();
    return;
  }
  conn_->take_output(inflight_);
  const std::size_t sent = send_now();
  if (sent == inflight_.size()) return wrote(sent);
  writing_ = true;
  auto on_done = [this, sent, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, std::size_t n) {
    if (auto a = alive.lock(); !a || !*a) return;
    on_written(ec, sent + n);
  };
  asio::async_write(next_, unsent_pieces(sent), std::move(on_done));
}

// The batch's pieces without their first `sent` bytes.
template <class NextLayer>
std::vector<asio::const_buffer> stream<NextLayer>::unsent_pieces(std::size_t sent) const {
  std::vector<asio::const_buffer> pieces;
  pieces.reserve(inflight_.max_pieces());
  inflight_.for_each_piece([&](std::string_view piece) {
    const std::size_t skip = std::min(sent, piece.size());
    sent -= skip;
    if (skip < piece.size()) pieces.push_back(asio::buffer(piece) + skip);
  });
  return pieces;
}

// Plain TCP: one non-blocking send (gathered: sendmsg) before going
// async, so that a write which fits the socket buffer costs one system
// call and no scheduler round. Returns the bytes sent (0 when it would
// block or failed: the async write then meets and reports the same error).
template <class NextLayer>
std::size_t stream<NextLayer>::send_now() {
  if constexpr (direct_io) {
    return detail::send_now(lowest_layer().native_handle(), [&](auto&& f) { inflight_.for_each_piece(f); });
  }
  return 0;
}

template <class NextLayer>
void stream<NextLayer>::on_written(std::error_code ec, std::size_t n) {
  writing_ = false;
  if (ec) {
    written_total_ += n;
    inflight_.clear();
    fail_waiters(ec);
    close_transport();
    return;
  }
  wrote(n);
  if (!transport_closed_) schedule_flush();  // what queued meanwhile; held while a batch is being read
}

// Book-keeping after inflight_ was written whole. Runs inside flush(), so
// whatever calls user code is posted (waiters post their completions).
template <class NextLayer>
void stream<NextLayer>::wrote(std::size_t n) {
  written_total_ += n;
  // Nothing more queued: hold no output buffer while idle (the next
  // take_output() swaps this empty one into the connection).
  if (conn_->buffered_amount() == 0) inflight_.release();
  else inflight_.clear();
  // Waiters are in queue order: complete those whose bytes are all out.
  const auto done = std::find_if(write_waiters_.begin(), write_waiters_.end(),
                                 [&](const auto& w) { return w.first > written_total_; });
  for (auto it = write_waiters_.begin(); it != done; ++it) it->second->complete({});
  write_waiters_.erase(write_waiters_.begin(), done);
  if (above_high_ && buffered_amount() < opt_.low_watermark) {
    above_high_ = false;
    if (on_drain_)
      asio::post(get_executor(), [this, alive = std::weak_ptr<bool>(alive_)] {
        if (auto a = alive.lock(); a && *a && on_drain_) on_drain_();
      });
  }
  if (conn_->transport_should_close() && conn_->buffered_amount() == 0) {
    // §7.1.1: the server closes TCP first; our client closes too once the
    // handshake is complete (peers handle either order).
    close_transport();
  }
}

template <class NextLayer>
void stream<NextLayer>::fail_waiters(std::error_code ec) {
  for (auto& w : write_waiters_) w.second->complete(ec);
  write_waiters_.clear();
  complete_close_waiters(ec);
}

template <class NextLayer>
void stream<NextLayer>::complete_close_waiters(std::error_code ec) {
  if (!transport_closed_ && conn_ && conn_->state() != connection_state::closed) return;
  for (auto& w : close_waiters_) w->complete(ec);
  close_waiters_.clear();
}

template <class NextLayer>
void stream<NextLayer>::close_transport() {
  if (transport_closed_) return;
  transport_closed_ = true;
  asio::error_code ignored;
  if constexpr (is_tls) {
    // RFC 8446 §6.1: after a clean close handshake, TLS says it is closing too.
    if (conn_ && conn_->close_handshake_complete() && !writing_) detail::send_close_notify(next_);
  }
  lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
  lowest_layer().close(ignored);
  cancel_timer();
  for (auto& w : write_waiters_) w.second->complete(make_error_code(error::closed));
  write_waiters_.clear();
  // §7.1.5: no Close frame received means the close code is 1006.
  if (close_code_ == 0) close_code_ = static_cast<std::uint16_t>(close_code::abnormal);
  const std::error_code outcome = close_outcome();
  for (auto& w : close_waiters_) w->complete(outcome);
  close_waiters_.clear();
}

// What async_close reports: success only for a complete close handshake.
template <class NextLayer>
std::error_code stream<NextLayer>::close_outcome() const {
  if (timed_out_) return make_error_code(error::timeout);
  if (conn_ && conn_->close_handshake_complete()) return {};
  return make_error_code(error::closed_abnormally);
}

}  // namespace sigwire::ws
