// strata-roof: the roof tier's capture + change gate + forwarder (docs/services/roof.md).
#include "roof_config.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  ServiceArgs args =
      ParseServiceArgs(argc, argv, "roof", "strata-roof: capture and forward changed frames");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  roof_service::Options opts;
  Status s = roof_service::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  auto service = roof_service::RoofService::Create(opts.roof);
  if (!service.ok()) return ExitWithError(args.service, service.status());
  auto server = http::HttpServer::Create(opts.server);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  (*service)->RegisterRoutes(**server);
  (*service)->Start();
  return RunService(args, **server);
}
