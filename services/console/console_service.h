// ConsoleService: strata-console, the web console backend (docs/services/console.md). It owns
// the HTTP server, the poller and the SSE hub, and serves
//   GET /, /{file}, /assets/{rest...}       the UI (embedded or --web-dir; public under auth)
//   GET /api/v1/overview                    the tier map (nodes, services, links)
//   GET /api/v1/stream                      SSE: `overview` after every poll, `alert` per new alert
//   GET /api/v1/services                    the configured upstreams
//   GET|POST|PUT|DELETE /api/v1/svc/{service}/{rest...}  → that upstream's /api/v1/{rest...}
// Each open stream holds one server worker: the console defaults to 64 workers.
// Thread-safety: create, Start(), then serve; Stop() (or the destructor) from any one thread.
//
//   STRATA_ASSIGN_OR_RETURN(auto svc, ConsoleService::Create(opts, ConsoleUiBundle()));
//   svc->Start();                                  // poller thread
//   int code = RunService(args, svc->server());    // until SIGTERM
#pragma once

#include <memory>
#include <string_view>

#include "assets.h"
#include "console_config.h"
#include "event_hub.h"
#include "poller.h"
#include "strata/transport/http.h"

namespace strata::console {

// The hand-written OpenAPI 3.1 document (services/console/openapi.json, embedded at build time).
std::string_view OpenApi();

class ConsoleService {
 public:
  // `ui` is used unless options.console.web_dir is set. InvalidArgument/NotFound for a bad
  // server config or web_dir.
  static Result<std::unique_ptr<ConsoleService>> Create(const Options& options,
                                                        const EmbeddedBundle& ui);
  ~ConsoleService();
  // Starts the poller (the first poll runs at once, in the background).
  void Start();
  // Stops the server, then the poller. Idempotent.
  void Stop();
  http::HttpServer& server() { return *server_; }
  Poller& poller() { return *poller_; }

 private:
  ConsoleService(const Options& options, AssetStore assets);
  void RegisterRoutes();
  Result<http::Response> Stream(const http::Request& req);
  Result<http::Response> Proxy(const http::Request& req);

  const Options options_;
  AssetStore assets_;
  EventHub hub_;
  std::unique_ptr<Poller> poller_;
  std::unique_ptr<http::HttpServer> server_;  // last: stopped (and its streams ended) first
};

}  // namespace strata::console
