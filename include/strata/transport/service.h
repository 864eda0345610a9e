// Service scaffolding shared by every services/<name>/main.cc: command-line flags, the `server:`
// section of a service config, logging, and run-until-signal.
//
// Flags (every service): --config FILE, --host, --port (0 = any free port), --port-file FILE
// (written once bound, for launchers), --log-level, --log-format text|json, --data-dir,
// --help, --version. Bad flags print one line and exit 2.
// Thread-safety: call from main() only.
//
//   int main(int argc, char** argv) {
//     auto args = ParseServiceArgs(argc, argv, "hello", "A tiny demo service");
//     ... create stages, server->Route(...) ...
//     return RunService(*args, *server);
//   }
#pragma once

#include <optional>
#include <string>

#include "strata/core/config.h"
#include "strata/transport/http.h"

namespace strata {

struct ServiceArgs {
  std::string service;
  std::string config_path;  // empty = embedded defaults
  std::optional<std::string> host;
  std::optional<int> port;
  std::string port_file;
  std::string log_level = "info";
  std::string log_format = "text";
  std::string data_dir = "var";
};

// Parses flags; on --help/--version prints and exits 0, on bad flags prints one line and exits 2.
ServiceArgs ParseServiceArgs(int argc, char** argv, const std::string& service,
                             const std::string& description);

// Loads --config (or an empty document when none was given). NotFound/InvalidArgument with file
// and line on failure.
Result<ConfigNode> LoadServiceConfig(const ServiceArgs& args);

// Reads the `server:` section (host, port, max_body_bytes, read_timeout, write_timeout,
// keep_alive_timeout, workers, max_queue, auth{enabled, token_env, token_file, metrics_public,
// key_file, allow, max_failures_per_minute}, tls{cert_file, key_file}) into `out`, then applies
// --host/--port overrides. `auth: {enabled: false}` written out sets auth.explicitly_disabled.
Status ParseServerConfig(const ConfigNode& root, const ServiceArgs& args, http::ServerConfig* out);

// Starts `server`, writes --port-file, serves until SIGTERM/SIGINT, stops gracefully.
// Returns the process exit code (0 clean, 1 on failure with one line on stderr).
int RunService(const ServiceArgs& args, http::HttpServer& server);

// Prints "strata-<service>: error: <message>" and returns ToExitCode(status) (never 0).
int ExitWithError(const std::string& service, const Status& status);

}  // namespace strata
