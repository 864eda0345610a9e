// ConsoleService: construction, routes and the SSE stream (the proxy is in console_proxy.cc).
#include "console_service.h"

#include "strata/metrics/metrics.h"

namespace strata::embedded {
extern const std::string_view console_openapi;
}

namespace strata::console {

std::string_view OpenApi() { return embedded::console_openapi; }

ConsoleService::ConsoleService(const Options& options, AssetStore assets)
    : options_(options), assets_(std::move(assets)) {}

ConsoleService::~ConsoleService() { Stop(); }

Result<std::unique_ptr<ConsoleService>> ConsoleService::Create(const Options& options,
                                                               const EmbeddedBundle& ui) {
  for (const Upstream& u : options.console.upstreams) STRATA_RETURN_IF_ERROR(ValidateUpstream(u));
  AssetStore assets = AssetStore::Embedded(ui);
  if (!options.console.web_dir.empty()) {
    STRATA_ASSIGN_OR_RETURN(assets, AssetStore::Directory(options.console.web_dir));
  }
  std::unique_ptr<ConsoleService> s(new ConsoleService(options, std::move(assets)));
  http::ServerConfig server_config = options.server;
  // The UI itself is public; the API behind it needs the token when auth is on.
  server_config.auth.public_paths.push_back("/");
  server_config.auth.public_paths.push_back("/assets/*");
  for (const std::string& f : s->assets_.RootFiles())
    server_config.auth.public_paths.push_back("/" + f);
  STRATA_ASSIGN_OR_RETURN(s->server_, http::HttpServer::Create(server_config));
  s->poller_ = std::make_unique<Poller>(options.console, &s->hub_);
  s->RegisterRoutes();
  return s;
}

void ConsoleService::Start() { poller_->Start(); }

void ConsoleService::Stop() {
  hub_.Close();
  if (server_) {
    server_->Stop();
    server_->Wait();
  }
  if (poller_) poller_->Stop();
}

void ConsoleService::RegisterRoutes() {
  http::HttpServer& s = *server_;
  s.Route("GET", "/", [this](const http::Request& r) { return assets_.Serve(r, ""); });
  s.Route("GET", "/{file}",
          [this](const http::Request& r) { return assets_.Serve(r, r.PathParam("file")); });
  s.Route("GET", "/assets/{rest...}", [this](const http::Request& r) {
    return assets_.Serve(r, "assets/" + r.PathParam("rest"));
  });
  s.Route("GET", "/api/v1/overview", [this](const http::Request&) -> Result<http::Response> {
    return http::Response::Json(poller_->Overview());
  });
  s.Route("GET", "/api/v1/services", [this](const http::Request&) -> Result<http::Response> {
    nlohmann::json list = nlohmann::json::array();
    for (const Upstream& u : options_.console.upstreams)
      list.push_back(
          {{"name", u.name}, {"type", u.type}, {"tier", u.tier}, {"node", u.node}, {"url", u.url}});
    return http::Response::Json({{"services", list}});
  });
  s.Route("GET", "/api/v1/stream", [this](const http::Request& r) { return Stream(r); });
  for (const char* method : {"GET", "POST", "PUT", "DELETE"})
    s.Route(method, "/api/v1/svc/{service}/{rest...}",
            [this](const http::Request& r) { return Proxy(r); });
  s.SetOpenApi(std::string(OpenApi()));
}

Result<http::Response> ConsoleService::Stream(const http::Request&) {
  struct State {
    uint64_t after = 0;
    bool first = true;
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
    metrics::Gauge clients = metrics::GetGauge("strata_console_sse_clients", "Open SSE streams");
    State() { clients.Inc(); }
    ~State() { clients.Dec(); }
  };
  auto st = std::make_shared<State>();
  st->after = hub_.Head();
  const auto keepalive = options_.console.keepalive;
  return http::Response::Stream("text/event-stream", [this, st, keepalive](http::StreamSink& sink) {
    auto now = std::chrono::steady_clock::now();
    if (st->first) {  // the current state at once, then every change
      st->first = false;
      st->last_write = now;
      return sink.Write(": connected\n\n" + SseEvent("overview", poller_->Overview().dump()));
    }
    std::vector<std::string> events = hub_.WaitAfter(&st->after, std::chrono::milliseconds(500));
    for (const std::string& e : events)
      if (!sink.Write(e)) return false;
    now = std::chrono::steady_clock::now();
    if (!events.empty()) {
      st->last_write = now;
    } else if (now - st->last_write >= keepalive) {
      if (!sink.Write(": keep-alive\n\n")) return false;
      st->last_write = now;
    }
    return !hub_.closed();
  });
}

}  // namespace strata::console
