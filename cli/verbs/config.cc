// strata config check FILE: validates a service config (the `server:` section and its keys) and
// reports the first error with file, key and line.
#include <cstdio>

#include "strata/transport/service.h"
#include "verbs.h"

namespace strata::cli {

void RegisterConfig(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("config", "Work with service config files");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand("check", "Validate a service config file");
  auto file = std::make_shared<std::string>();
  check->add_option("file", *file, "YAML config file")->required();
  check->callback([&ctx, file] {
    ctx.action = [file] {
      auto root = ConfigNode::LoadFile(*file);
      if (!root.ok()) return Fail(root.status().message(), root.status().code() == StatusCode::kNotFound ? 1 : 2);
      http::ServerConfig server;
      ServiceArgs args;
      Status s = ParseServerConfig(*root, args, &server);
      if (!s.ok()) return Fail(s.message(), 2);
      std::printf("%s: ok (server %s:%d, body limit %zu bytes, auth %s, tls %s)\n", file->c_str(),
                  server.host.c_str(), server.port, server.max_body_bytes,
                  server.auth.enabled ? "on" : "off", server.tls.cert_file.empty() ? "off" : "on");
      return 0;
    };
  });
}

}  // namespace strata::cli
