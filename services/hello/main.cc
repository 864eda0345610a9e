// strata-hello: the smallest Strata service. It shows the shape every service follows
// (flags → config → stages → routes → run) and is what `make demo` starts.
#include "hello_routes.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  ServiceArgs args = ParseServiceArgs(argc, argv, "hello", "strata-hello: a tiny demo service");
  auto config = LoadServiceConfig(args);
  if (!config.ok()) return ExitWithError(args.service, config.status());
  http::ServerConfig server_config;
  Status s = ParseServerConfig(*config, args, &server_config);
  if (!s.ok()) return ExitWithError(args.service, s);
  auto server = http::HttpServer::Create(server_config);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  hello::RegisterRoutes(**server);
  return RunService(args, **server);
}
