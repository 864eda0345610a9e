// strata-detect: the fog tier's person/face detector (docs/services/detect.md).
#include "detect_config.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  ServiceArgs args = ParseServiceArgs(argc, argv, "detect", "strata-detect: fog person detection");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  detect_service::Options opts;
  Status s = detect_service::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  auto service = detect_service::DetectService::Create(opts.detect);
  if (!service.ok()) return ExitWithError(args.service, service.status());
  auto server = http::HttpServer::Create(opts.server);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  (*service)->RegisterRoutes(**server);
  return RunService(args, **server);
}
