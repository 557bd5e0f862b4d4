// sigwire/sigwire.hpp - umbrella header: every layer that is present.
#pragma once

#include <sigwire/core.hpp>
#include <sigwire/sdp.hpp>
#include <sigwire/sip.hpp>
#include <sigwire/stun/message.hpp>
#include <sigwire/ws.hpp>
