// sigwire/ws/asio/impl/read.hpp - ws::stream's read path: read_op (one
// whole message per async_read) and the receive buffer it reads into.
// Included by stream.hpp; not a header to include on its own.
//
// read_op's states (an arrow is a completion of the scheduler unless it says inline):
//
//   start: started from our own completion handler --> deliver, inline
//          (at most max_inline_reads deep)
//          bytes still buffered --> posted --> deliver (never completes inline)
//          nothing buffered     --> read_more
//   deliver: feed buffered frames; an event for the user --> done
//            buffer empty: direct recv now (plain TCP, at most
//            max_direct_reads) and feed again; else, busy thread
//            (rearm_after_poll) --> rearming --> read_more after the poll
//   read_more: payload owed >= min_payload_window --> reading_payload
//              (read into the message itself) --> deliver
//              plain TCP, the last read did not fill its buffer --> waiting
//              (no buffer held; readable: one recv) --> reading
//              else --> reading (async_read_some) --> deliver
//   the peer's Close (or our protocol error): our Close frame must leave
//   first --> closing (waits for that write) --> done(closed / the error)
//   any other error: done(error)
#pragma once

namespace sigwire::ws {

template <class NextLayer>
struct stream<NextLayer>::read_op {
  stream* s;
  std::string* out;
  enum { start, posted, reading, reading_payload, waiting, closing, rearming } state = start;
  std::size_t window_size = 0;  // of the read in state `reading_payload`
  std::error_code final_ec;  // what a read in state `closing` reports

  template <class Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
    if (state == start) return begin(self);
    if (state == closing) return done(self, final_ec, message_type::binary);
    if (state == rearming) return rearm(self);
    // A completion from the scheduler: a new turn of this stream.
    bool destroyed = false;
    bool* const outer = std::exchange(s->turn_destroyed_, &destroyed);
    if (!ec && state == waiting) {  // readable: read into a buffer lent for this turn
      ec = s->recv_into_buffer(n);
      if (ec == asio::error::would_block) {
        s->turn_destroyed_ = outer;
        return wait(self);
      }
      state = reading;
    }
    if (!ec && (state == reading || state == reading_payload)) s->note_read_completion();
    if (!ec && state == reading) s->received(n, s->rbuf_.size());
    if (!ec && state == reading_payload) s->received(0, window_size, n);
    if (ec) done(self, s->timed_out_ ? make_error_code(error::timeout) : ec, message_type::binary);
    else if (state != reading_payload || !commit(self, n)) deliver(self);
    if (destroyed) {
      if (outer) *outer = true;
      return;
    }
    s->turn_destroyed_ = outer;
  }

  template <class Self>
  void begin(Self& self) {
    if (!s->conn_) return self.complete(make_error_code(error::closed), message_type::binary);
    s->reading_ = true;
    const bool closed = s->transport_closed_ || s->conn_->state() == connection_state::closed;
    const bool buffered = s->rpos_ < s->rlen_ || closed;
    if (s->turn_destroyed_ && s->inline_reads_ < max_inline_reads) {
      // Started from our own completion handler: continue in this turn.
      bool* destroyed = s->turn_destroyed_;
      ++s->inline_reads_;
      deliver(self);
      if (!*destroyed) --s->inline_reads_;
      return;
    }
    if (buffered) {
      state = posted;
      return asio::post(s->get_executor(), std::move(self));  // never complete inline
    }
    // Nothing buffered: straight to the socket (async_read_some never
    // completes inline), saving a scheduler round and its epoll_wait.
    s->rpos_ = s->rlen_ = 0;
    s->flush();
    read_more(self);
  }

  // Reads into the payload window when a large payload is still owed,
  // else into rbuf_.
  template <class Self>
  void read_more(Self& self) {
    const auto window = s->conn_->payload_window(s->opt_.max_read_buffer_size);
    if (window.size() >= min_payload_window) {
      state = reading_payload;
      window_size = window.size();
      return s->next_.async_read_some(asio::buffer(window.data(), window.size()), std::move(self));
    }
    if constexpr (direct_io) {
      // Quiet: the last read did not fill the buffer, so the peer has sent
      // everything for now. Wait without holding a buffer.
      if (!s->last_read_filled_ && s->opt_.release_idle_read_buffer) return wait(self);
    }
    state = reading;
    s->next_.async_read_some(s->read_space(), std::move(self));
  }

  // Gives the read buffer back (everything in it was parsed) and waits
  // for readability: on Asio's epoll reactor this costs an epoll_ctl
  // where a read would have cost a recv that finds nothing, so an idle
  // stream holds no buffer at no extra system call.
  template <class Self>
  void wait(Self& self) {
    if constexpr (direct_io) {  // (only direct_io streams enter state waiting)
      s->rbuf_.release();
      state = waiting;
      s->lowest_layer().async_wait(asio::socket_base::wait_read, std::move(self));
    }
  }

  // Feeds buffered bytes until an event for the user, then reads more.
  template <class Self>
  void deliver(Self& self) {
    for (int direct_reads = 0;; ++direct_reads) {
      if (deliver_buffered(self)) return;
      s->rpos_ = s->rlen_ = 0;
      s->flush();
      if (s->transport_closed_ || s->conn_->state() == connection_state::closed)
        return done(self, make_error_code(error::closed), message_type::binary);
      if (s->last_read_filled_) s->grow_read_buffer();
      const bool may_read_now = direct_reads < max_direct_reads;
      const auto window = s->conn_->payload_window(s->opt_.max_read_buffer_size);
      if (window.size() >= min_payload_window) {
        // Most of a large payload is still to come: read it straight into
        // the message buffer (unmasked there in place), skipping a copy.
        if (!may_read_now || !s->read_now(asio::buffer(window.data(), window.size()))) break;
        if (commit(self, s->last_read_size_)) return;
        continue;
      }
      if (!may_read_now || !s->read_now(s->read_space())) break;
      s->rlen_ = s->last_read_size_;
    }
    if (s->busy_elsewhere()) {
      // Re-arm behind the scheduler's next poll: by then the peer has
      // usually sent more, so Asio's first recv finds data instead of
      // costing a system call that would block (see rearm_after_poll).
      state = rearming;
      return asio::post(s->get_executor(), std::move(self));
    }
    read_more(self);
  }

  // After the scheduler's poll the peer has usually sent more: read at
  // once (as a completion of state waiting), and wait only if nothing came.
  template <class Self>
  void rearm(Self& self) {
    if (s->transport_closed_ || !s->conn_ || s->conn_->state() == connection_state::closed)
      return done(self, make_error_code(error::closed), message_type::binary);
    if constexpr (direct_io) {
      if (s->opt_.release_idle_read_buffer &&
          s->conn_->payload_window(s->opt_.max_read_buffer_size).size() < min_payload_window) {
        state = waiting;
        return (*this)(self);
      }
    }
    read_more(self);
  }

  // n payload bytes arrived in the window; true when that completed the read.
  template <class Self>
  bool commit(Self& self, std::size_t n) {
    return report(self, s->conn_->commit_payload(n).ev);
  }

  // Feeds what rbuf_ holds; true when an event completed this read (self
  // is then spent, and the stream may be gone).
  template <class Self>
  bool deliver_buffered(Self& self) {
    while (s->rpos_ < s->rlen_) {
      const auto r = s->conn_->feed(std::string_view(s->rbuf_.data() + s->rpos_, s->rlen_ - s->rpos_));
      s->rpos_ += r.consumed;
      if (report(self, r.ev)) return true;
    }
    return false;
  }

  // Completes the read for an event the user sees; false for none, ping, pong.
  template <class Self>
  bool report(Self& self, const event& ev) {
    switch (ev.type) {
      case event_type::none:
      case event_type::ping:
      case event_type::pong: return false;
      case event_type::text:
      case event_type::binary:
        s->conn_->take_message(*out);  // a swap, not a copy
        // An automatic pong or earlier replies may be waiting: they
        // leave with the reply the handler is about to make.
        if (s->conn_->buffered_amount() > 0) s->defer_flush();
        done(self, {}, ev.type == event_type::text ? message_type::text : message_type::binary);
        return true;
      case event_type::close:
        s->close_code_ = ev.code;
        s->close_reason_.assign(ev.data);
        end_after_output(self, make_error_code(error::closed));
        return true;
      case event_type::error:
        s->close_code_ = static_cast<std::uint16_t>(close_code::abnormal);
        end_after_output(self, ev.ec);
        return true;
    }
    return false;
  }

  // The Close frame we answer with (§5.5.1), or send after a protocol
  // error (§7.1.7), must leave before the read reports the end: a handler
  // that then destroys the stream must not cut it off. A direct send has
  // usually taken it already; otherwise (TLS, io_uring, a full socket
  // buffer) the read completes once it is written, the write fails, or the
  // close timeout closes the transport.
  template <class Self>
  void end_after_output(Self& self, std::error_code ec) {
    s->flush();
    if (!s->writing_ || s->transport_closed_) return done(self, ec, message_type::binary);
    state = closing;
    final_ec = ec;
    s->sync_timer();  // the close timeout, counted from when our Close was queued
    s->write_waiters_.push_back({s->written_total_ + s->buffered_amount(),
                                 std::make_unique<detail::waiter_impl<Self, executor_type>>(std::move(self),
                                                                                            s->get_executor())});
  }

  template <class Self>
  void done(Self& self, std::error_code ec, message_type t) {
    s->reading_ = false;
    if constexpr (direct_io) {
      // Everything received is parsed and the peer is quiet: give the
      // buffer back, so a stream with no read pending holds none either.
      if (s->rpos_ >= s->rlen_ && !s->last_read_filled_ && s->opt_.release_idle_read_buffer) {
        s->rpos_ = s->rlen_ = 0;
        s->rbuf_.release();
      }
    }
    if (ec) {
      if (s->conn_ && s->conn_->buffered_amount() == 0 && !s->writing_) s->close_transport();
      s->complete_close_waiters(s->close_outcome());
    }
    stream* const st = s;
    bool* const turn = st->turn_destroyed_;
    if (!turn && st->flush_deferred_) st->post_flush_fallback();  // nothing looks after the handler
    self.complete(ec, t);  // may start the next read, or destroy the stream
    // Held replies leave when the next read drains the buffer; if the
    // handler started none, the posted check sends them.
    if (turn && !*turn && !st->reading_ && st->flush_deferred_) st->post_flush_fallback();
  }
};

// One non-blocking recv into `to`, only on plain TCP (epoll backend) and
// only after a read that filled its buffer. False when nothing came: the
// reactor's read then waits (and reports EOF or errors). The size read is
// left in last_read_size_.
template <class NextLayer>
bool stream<NextLayer>::read_now(asio::mutable_buffer to) {
  if constexpr (direct_io) {
    if (!last_read_filled_) return false;
    last_read_filled_ = false;
    const long n = detail::recv_now(lowest_layer().native_handle(), to.data(), to.size());
    if (n <= 0) return false;
    last_read_size_ = static_cast<std::size_t>(n);
    received(0, to.size(), last_read_size_);
    return true;
  }
  return false;
}

// Plain TCP on epoll only (io_uring submits reads without a system call).
template <class NextLayer>
void stream<NextLayer>::note_read_completion() {
  if constexpr (direct_io) {
    const std::uint64_t now = ++detail::reads_completed_on_this_thread;
    busy_elsewhere_ = now - read_mark_ > rearm_after_poll;
    read_mark_ = now;
  }
}

// Only between reads (nothing unparsed in the buffer).
template <class NextLayer>
void stream<NextLayer>::grow_read_buffer() {
  if (rbuf_.size() < opt_.max_read_buffer_size) rbuf_.reserve(std::min(rbuf_.size() * 2, opt_.max_read_buffer_size));
}

// The whole read buffer for a read (nothing unparsed in it), lent now if
// the stream holds none.
template <class NextLayer>
asio::mutable_buffer stream<NextLayer>::read_space() {
  rbuf_.reserve(opt_.read_buffer_size);
  return asio::buffer(rbuf_.data(), rbuf_.size());
}

// Room to read behind the rlen_ bytes held (a partial HTTP head), in a
// buffer of the pooled size when they are few.
template <class NextLayer>
void stream<NextLayer>::reserve_behind_unparsed() {
  const std::size_t size = opt_.read_buffer_size;
  rbuf_.reserve(rlen_ + 1024 <= size ? size : rlen_ + size, rlen_);
}

// One non-blocking recv after a wait for readability, behind the rlen_
// bytes already in the buffer. would_block when the wake-up found nothing.
template <class NextLayer>
std::error_code stream<NextLayer>::recv_into_buffer(std::size_t& n) {
  if constexpr (!direct_io) {  // only direct_io streams wait for readability
    n = 0;
    return asio::error::operation_not_supported;
  } else {
    reserve_behind_unparsed();
    const long got = detail::recv_now(lowest_layer().native_handle(), rbuf_.data() + rlen_, rbuf_.size() - rlen_);
    if (got > 0) {
      n = static_cast<std::size_t>(got);
      return {};
    }
    if (got == 0) return asio::error::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::would_block;
    return {errno, asio::error::get_system_category()};
  }
}

// A read completed: `added` more bytes in rbuf_, `got` of `asked` bytes in all.
template <class NextLayer>
void stream<NextLayer>::received(std::size_t added, std::size_t asked, std::size_t got) {
  rlen_ += added;
  last_read_filled_ = got == asked;
  conn_->advance_clock(clock_now());  // the bytes are heard when fed
}

// Reads and discards until the close handshake ends (async_close without a reader).
template <class NextLayer>
void stream<NextLayer>::drain_reads() {
  async_read(discard_, [this, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, message_type) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (!ec) drain_reads();
  });
}

}  // namespace sigwire::ws
