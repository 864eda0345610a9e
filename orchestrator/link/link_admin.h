// The admin HTTP API of a `strata link` proxy, on strata's HttpServer (problem+json errors,
// /healthz /readyz /metrics built in):
//   GET    /api/v1/link            settings, partition state and counters
//   PUT    /api/v1/link            change settings (partial JSON; absent keys keep their value)
//   POST   /api/v1/link/partition  start a partition (optional body {"mode": "blackhole"|"reset"})
//   DELETE /api/v1/link/partition  heal
//   GET    /api/v1/openapi.json    orchestrator/link/openapi.json, embedded at build time
// Thread-safety: handlers call LinkProxy's thread-safe methods; `proxy` must outlive `server`'s
// serving (stop the server first).
//
//   RegisterLinkRoutes(*admin_server, *proxy);
//   STRATA_RETURN_IF_ERROR(admin_server->Start());
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "link_proxy.h"
#include "strata/transport/http.h"

namespace strata::link {

void RegisterLinkRoutes(http::HttpServer& server, LinkProxy& proxy);
// The hand-written OpenAPI 3.1 document of the admin API.
std::string_view LinkOpenApi();
// What GET /api/v1/link answers: name, listen, upstream, settings, partitioned, stats.
nlohmann::json LinkStatusJson(const LinkProxy& proxy);

}  // namespace strata::link
