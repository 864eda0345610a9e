// strata-segment: an edge node's customer micro-segmentation service (docs/services/segment.md).
#include "segment_config.h"
#include "strata/transport/mqtt.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  ServiceArgs args = ParseServiceArgs(argc, argv, "segment", "strata-segment: live customer segments");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  segment_service::Options opts;
  Status s = segment_service::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  auto service = segment_service::SegmentService::Create(opts.service);
  if (!service.ok()) return ExitWithError(args.service, service.status());
  auto server = http::HttpServer::Create(opts.server);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  (*service)->RegisterRoutes(**server);
  (*server)->SetOpenApi(std::string(segment_service::OpenApi()));
  std::unique_ptr<mqtt::MqttClient> bus;
  if (!opts.mqtt_uri.empty()) {
    auto b = segment_service::ConnectBus(opts, **service);
    if (!b.ok()) return ExitWithError(args.service, b.status());
    bus = std::move(b).value();
  }
  return RunService(args, **server);
}
