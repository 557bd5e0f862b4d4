// sigwire/sip.hpp - the SIP message layer: parser, URIs, typed headers,
// UAS checks, stream framer, builder, digest authentication.
#pragma once

#include <sigwire/sip/access.hpp>
#include <sigwire/sip/auth.hpp>
#include <sigwire/sip/builder.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/framer.hpp>
#include <sigwire/sip/header_names.hpp>
#include <sigwire/sip/headers.hpp>
#include <sigwire/sip/limits.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/uas.hpp>
#include <sigwire/sip/tel.hpp>
#include <sigwire/sip/uri.hpp>
