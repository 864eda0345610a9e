// ConsoleConfig: typed settings of strata-console (the web console backend) with inline defaults,
// and the YAML parser that fills and validates them (kept out of main.cc so tests can check the
// error messages).
// Thread-safety: plain values; ParseConfig is a free function without shared state.
//
//   console::Options opts;
//   STRATA_RETURN_IF_ERROR(console::ParseConfig(root, args, &opts));
//   STRATA_ASSIGN_OR_RETURN(auto svc, ConsoleService::Create(opts, ConsoleUiBundle()));
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "strata/core/config.h"
#include "strata/transport/http.h"
#include "strata/transport/service.h"

namespace strata::console {

// One service the console watches and forwards to.
struct Upstream {
  std::string name;  // unique, [a-z0-9][a-z0-9_-]{0,63}; the {service} of /api/v1/svc/{service}/...
  std::string type;  // what it is (detect, notify, roof, ...); defaults to name
  std::string tier;  // roof | edge | fog | cloud
  std::string node;  // the machine/group it runs on in the tier map; defaults to name
  std::string url;   // http(s)://host:port
};

struct ConsoleConfig {
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds poll_timeout{800};     // per /readyz, /metrics, /api/v1/events call
  std::chrono::milliseconds proxy_timeout{10000};  // per proxied request
  std::chrono::milliseconds keepalive{15000};      // SSE `: keep-alive` comment when idle
  std::string web_dir;                             // "" = serve the UI embedded in the binary
  std::vector<Upstream> upstreams;
  std::string upstream_token_env = "STRATA_UPSTREAM_TOKEN";
  std::string upstream_token_file;
  std::string upstream_token;    // resolved from the file, else the env var; "" = none
  std::string upstream_ca_file;  // PEM CA that verifies https:// upstreams; "" = system store
};

struct Options {
  http::ServerConfig server;
  ConsoleConfig console;
};

inline constexpr int kDefaultConsoleWorkers = 64;  // each open SSE stream holds one worker

// Reads `server:` (shared section; workers default to 64 here) and `console:` {poll_interval,
// poll_timeout, proxy_timeout, keepalive, web_dir, upstream_token_env, upstream_token_file,
// upstream_ca_file, upstreams: [{name, type, tier, node, url}]}. Unknown keys, bad tiers or urls,
// duplicate names, a node in two tiers, and an unreadable token or CA file are InvalidArgument
// naming file, key and line.
Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);

// Checks one upstream (also used for upstreams built in code): InvalidArgument naming the field.
Status ValidateUpstream(const Upstream& u);

}  // namespace strata::console
