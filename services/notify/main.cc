// strata-notify: the cloud tier's intruder alerts (docs/services/notify.md).
#include "notify_config.h"
#include "notify_service.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  ServiceArgs args = ParseServiceArgs(argc, argv, "notify", "strata-notify: cloud alerts");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  notify_service::Options opts;
  Status s = notify_service::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  http::BlockTerminationSignals();  // before the sweeper and publisher threads start
  auto service = notify_service::NotifyService::Create(opts.notify);
  if (!service.ok()) return ExitWithError(args.service, service.status());
  auto server = http::HttpServer::Create(opts.server);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  (*service)->RegisterRoutes(**server);
  (*service)->Start();
  int code = RunService(args, **server);
  (*service)->Stop();
  return code;
}
