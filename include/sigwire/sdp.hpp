// sigwire/sdp.hpp - everything in sdp/: RFC 8866 parser and writer, RFC 3264
// negotiator. Depends on core/ only.
#pragma once

#include <sigwire/sdp/attributes.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/error.hpp>
#include <sigwire/sdp/negotiator.hpp>
#include <sigwire/sdp/presets.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/view.hpp>
