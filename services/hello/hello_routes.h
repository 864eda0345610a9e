// Routes of strata-hello, kept apart from main.cc so tests can check them against openapi.json.
#pragma once

#include <string_view>

#include "strata/transport/http.h"

namespace strata::hello {

void RegisterRoutes(http::HttpServer& server);
// The hand-written OpenAPI 3.1 document (services/hello/openapi.json, embedded at build time).
std::string_view OpenApi();

}  // namespace strata::hello
