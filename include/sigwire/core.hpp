// sigwire/core.hpp - everything in core/.
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/base64.hpp>
#include <sigwire/core/cpu.hpp>
#include <sigwire/core/digest.hpp>
#include <sigwire/core/error.hpp>
#include <sigwire/core/random.hpp>
#include <sigwire/core/utf8.hpp>
