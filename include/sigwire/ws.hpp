// sigwire/ws.hpp - the sans-IO WebSocket layer (RFC 6455, RFC 7692).
// The Asio stream is in <sigwire/ws/asio/stream.hpp> (not included here).
#pragma once

#include <sigwire/http.hpp>
#include <sigwire/ws/close_code.hpp>
#include <sigwire/ws/connection.hpp>
#include <sigwire/ws/deflate.hpp>
#include <sigwire/ws/error.hpp>
#include <sigwire/ws/frame.hpp>
#include <sigwire/ws/handshake.hpp>
#include <sigwire/ws/mask.hpp>
#include <sigwire/ws/subprotocol.hpp>
