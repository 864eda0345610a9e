// strata health URL... : probes /healthz and /readyz of running services.
// Exit 0 when every service is alive and ready, 1 otherwise.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "strata/transport/http_client.h"
#include "verbs.h"

namespace strata::cli {
namespace {

struct Options {
  std::vector<std::string> urls;
  int timeout_ms = 2000;
  std::string token_env = "STRATA_TOKEN";
  bool json = false;
};

int Run(const Options& o) {
  nlohmann::json out = nlohmann::json::array();
  bool all_ok = true;
  const char* token = std::getenv(o.token_env.c_str());
  for (const std::string& url : o.urls) {
    nlohmann::json row = {{"url", url}};
    auto client = http::HttpClient::Create({.base_url = url,
                                            .connect_timeout = std::chrono::milliseconds(o.timeout_ms),
                                            .read_timeout = std::chrono::milliseconds(o.timeout_ms),
                                            .max_retries = 0,
                                            .token = token ? token : ""});
    if (!client.ok()) return Fail(client.status().message(), 2);
    for (const char* probe : {"/healthz", "/readyz"}) {
      auto r = (*client)->Get(probe);
      std::string key = probe + 1;
      if (!r.ok()) {
        row[key] = r.status().message();
        all_ok = false;
      } else {
        row[key] = r->status == 200 ? "ok" : "HTTP " + std::to_string(r->status);
        all_ok &= r->status == 200;
      }
    }
    out.push_back(row);
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& row : out)
      std::printf("%-32s healthz: %-8s readyz: %s\n", row["url"].get<std::string>().c_str(),
                  row["healthz"].get<std::string>().c_str(),
                  row["readyz"].get<std::string>().c_str());
  }
  return all_ok ? 0 : 1;
}

}  // namespace

void RegisterHealth(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("health", "Probe /healthz and /readyz of running services");
  cmd->add_option("url", o->urls, "Base URLs, e.g. http://127.0.0.1:8080")->required();
  cmd->add_option("--timeout-ms", o->timeout_ms, "Per-request timeout")->check(CLI::Range(1, 60000));
  cmd->add_option("--token-env", o->token_env, "Environment variable holding the bearer token");
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->callback([&ctx, o] { ctx.action = [o] { return Run(*o); }; });
}

}  // namespace strata::cli
