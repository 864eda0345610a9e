// strata-identify: the cloud tier's face identification (docs/services/identify.md).
#include "identify_config.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  ServiceArgs args =
      ParseServiceArgs(argc, argv, "identify", "strata-identify: cloud face identification");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  identify_service::Options opts;
  Status s = identify_service::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  auto service = identify_service::IdentifyService::Create(opts.identify);
  if (!service.ok()) return ExitWithError(args.service, service.status());
  auto server = http::HttpServer::Create(opts.server);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  (*service)->RegisterRoutes(**server);
  return RunService(args, **server);
}
