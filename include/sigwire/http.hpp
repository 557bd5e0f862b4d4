// sigwire/http.hpp - the HTTP/1.1 upgrade-head layer.
#pragma once

#include <sigwire/http/error.hpp>
#include <sigwire/http/head.hpp>
