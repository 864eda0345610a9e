#include "strata/transport/service.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>

#include "strata/core/logging.h"
#include "strata/version.h"

namespace strata {

ServiceArgs ParseServiceArgs(int argc, char** argv, const std::string& service,
                             const std::string& description) {
  http::BlockTerminationSignals();  // before any thread starts, so RunService can sigwait
  ServiceArgs a;
  a.service = service;
  CLI::App app{description, "strata-" + service};
  app.set_version_flag("--version", std::string(kVersion));
  app.add_option("--config", a.config_path, "YAML config file (default: embedded defaults)")
      ->check(CLI::ExistingFile);
  app.add_option("--host", a.host, "Address to bind (overrides server.host)");
  app.add_option("--port", a.port, "Port to bind, 0 = any free port (overrides server.port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--port-file", a.port_file, "Write the bound port to this file");
  app.add_option("--log-level,-v", a.log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", a.log_format, "text|json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--data-dir", a.data_dir, "Directory for databases and files");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::exit(app.exit(e));
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "strata-%s: error: %s (see --help)\n", service.c_str(), e.what());
    std::exit(2);
  }
  Status s = InitLogging({.level = a.log_level, .format = a.log_format, .name = service});
  if (!s.ok()) std::exit(ExitWithError(service, s));
  return a;
}

Result<ConfigNode> LoadServiceConfig(const ServiceArgs& args) {
  if (args.config_path.empty()) return ConfigNode::Parse("", "<defaults>");
  return ConfigNode::LoadFile(args.config_path);
}

Status ParseServerConfig(const ConfigNode& root, const ServiceArgs& args, http::ServerConfig* out) {
  out->service = args.service;
  STRATA_ASSIGN_OR_RETURN(ConfigNode s, root.Child("server"));
  STRATA_RETURN_IF_ERROR(s.CheckKeys({"host", "port", "max_body_bytes", "read_timeout",
                                      "write_timeout", "keep_alive_timeout", "workers",
                                      "max_queue", "max_connections", "header_timeout",
                                      "body_timeout", "max_header_bytes", "max_header_count",
                                      "auth", "tls", "rate_limit"}));
  STRATA_RETURN_IF_ERROR(s.Get("host", &out->host));
  STRATA_RETURN_IF_ERROR(s.GetInRange("port", &out->port, 0, 65535));
  int64_t max_body = static_cast<int64_t>(out->max_body_bytes);
  STRATA_RETURN_IF_ERROR(s.Get("max_body_bytes", &max_body));
  if (max_body <= 0 || max_body > (int64_t{1} << 31))
    return InvalidArgumentError(s.Where("max_body_bytes") + ": must be in [1, 2 GiB]");
  out->max_body_bytes = static_cast<size_t>(max_body);
  STRATA_RETURN_IF_ERROR(s.Get("read_timeout", &out->read_timeout));
  STRATA_RETURN_IF_ERROR(s.Get("write_timeout", &out->write_timeout));
  STRATA_RETURN_IF_ERROR(s.Get("keep_alive_timeout", &out->keep_alive_timeout));
  STRATA_RETURN_IF_ERROR(s.GetInRange("workers", &out->workers, 1, 1024));
  STRATA_RETURN_IF_ERROR(s.GetInRange("max_queue", &out->max_queue, 0, 1 << 20));
  // Slow-client guards (docs/reliability.md, "Slow and hostile clients").
  STRATA_RETURN_IF_ERROR(s.GetInRange("max_connections", &out->max_connections, 1, 1 << 20));
  STRATA_RETURN_IF_ERROR(s.Get("header_timeout", &out->header_timeout));
  STRATA_RETURN_IF_ERROR(s.Get("body_timeout", &out->body_timeout));
  int64_t header_bytes = static_cast<int64_t>(out->max_header_bytes);
  STRATA_RETURN_IF_ERROR(s.Get("max_header_bytes", &header_bytes));
  if (header_bytes < 1024 || header_bytes > (int64_t{1} << 24))
    return InvalidArgumentError(s.Where("max_header_bytes") + ": must be in [1 KiB, 16 MiB]");
  out->max_header_bytes = static_cast<size_t>(header_bytes);
  STRATA_RETURN_IF_ERROR(s.GetInRange("max_header_count", &out->max_header_count, 1, 10000));
  STRATA_ASSIGN_OR_RETURN(ConfigNode auth, s.Child("auth"));
  STRATA_RETURN_IF_ERROR(auth.CheckKeys(
      {"enabled", "token_env", "token_file", "metrics_public", "key_file", "allow",
       "max_failures_per_minute"}));
  STRATA_RETURN_IF_ERROR(auth.Get("enabled", &out->auth.enabled));
  out->auth.explicitly_disabled = auth.Has("enabled") && !out->auth.enabled;
  STRATA_RETURN_IF_ERROR(auth.Get("key_file", &out->auth.key_file));
  STRATA_RETURN_IF_ERROR(auth.Get("allow", &out->auth.allow));
  STRATA_RETURN_IF_ERROR(
      auth.GetInRange("max_failures_per_minute", &out->auth.max_failures_per_minute, 0, 1000000));
  STRATA_RETURN_IF_ERROR(auth.Get("token_env", &out->auth.token_env));
  STRATA_RETURN_IF_ERROR(auth.Get("token_file", &out->auth.token_file));
  STRATA_RETURN_IF_ERROR(auth.Get("metrics_public", &out->auth.metrics_public));
  // Per-client rate limit (docs/reliability.md, "Per-client rate limit"); 0 req/s = off.
  STRATA_ASSIGN_OR_RETURN(ConfigNode rl, s.Child("rate_limit"));
  STRATA_RETURN_IF_ERROR(rl.CheckKeys({"requests_per_second", "burst", "exempt", "max_clients"}));
  STRATA_RETURN_IF_ERROR(
      rl.GetInRange("requests_per_second", &out->rate_limit.requests_per_second, 0, 1e9));
  STRATA_RETURN_IF_ERROR(rl.GetInRange("burst", &out->rate_limit.burst, 0, 1e9));
  STRATA_RETURN_IF_ERROR(rl.Get("exempt", &out->rate_limit.exempt));
  int max_clients = static_cast<int>(out->rate_limit.max_clients);
  STRATA_RETURN_IF_ERROR(rl.GetInRange("max_clients", &max_clients, 1, 10000000));
  out->rate_limit.max_clients = static_cast<size_t>(max_clients);
  STRATA_ASSIGN_OR_RETURN(ConfigNode tls, s.Child("tls"));
  STRATA_RETURN_IF_ERROR(tls.CheckKeys({"cert_file", "key_file"}));
  STRATA_RETURN_IF_ERROR(tls.Get("cert_file", &out->tls.cert_file));
  STRATA_RETURN_IF_ERROR(tls.Get("key_file", &out->tls.key_file));
  if (args.host) out->host = *args.host;
  if (args.port) out->port = *args.port;
  return Status::Ok();
}

int RunService(const ServiceArgs& args, http::HttpServer& server) {
  Status s = server.Start();
  if (!s.ok()) return ExitWithError(args.service, s);
  if (!args.port_file.empty()) {
    std::string tmp = args.port_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << server.port() << "\n";
      if (!out) return ExitWithError(args.service, InternalError("cannot write " + tmp));
    }
    std::rename(tmp.c_str(), args.port_file.c_str());  // atomic: readers never see half a file
  }
  s = http::RunUntilSignal(server);
  if (!s.ok()) return ExitWithError(args.service, s);
  return 0;
}

int ExitWithError(const std::string& service, const Status& status) {
  std::fprintf(stderr, "strata-%s: error: %s\n", service.c_str(), status.message().c_str());
  int code = ToExitCode(status);
  return code == 0 ? 1 : code;
}

}  // namespace strata
