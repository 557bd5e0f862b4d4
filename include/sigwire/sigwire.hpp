// sigwire/sigwire.hpp - umbrella header: every layer that is present.
#pragma once

#include <sigwire/core.hpp>
#include <sigwire/ws.hpp>  // with http.hpp; the Asio stream: <sigwire/ws/asio/stream.hpp>
