// strata-federate: federated learning of the segmentation model (docs/services/federate.md).
// One binary, role by config: `cloud` / `fog` aggregate (HTTP API + optional MQTT publication),
// `edge` trains on its own customers and sends only updates.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "aggregator_service.h"
#include "edge.h"
#include "strata/transport/client_config.h"
#include "strata/transport/mqtt.h"
#include "strata/transport/service.h"

namespace strata::embedded {
extern const std::string_view federate_openapi;
}

namespace {

using namespace strata;

int RunEdge(const ServiceArgs& args, const federate::Options& opts) {
  auto edge = federate::EdgeClient::Create(opts.edge);
  if (!edge.ok()) return ExitWithError(args.service, edge.status());
  http::BlockTerminationSignals();
  std::atomic<bool> stop{false};
  std::thread waiter([&stop] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    stop = true;
  });
  waiter.detach();
  Status s = (*edge)->Run(stop, std::chrono::hours(24 * 365));
  if (!s.ok()) return ExitWithError(args.service, s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ServiceArgs args = ParseServiceArgs(argc, argv, "federate",
                                      "strata-federate: federated segmentation (cloud|fog|edge)");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  federate::Options opts;
  Status s = federate::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  if (opts.role == "edge") return RunEdge(args, opts);
  http::BlockTerminationSignals();
  auto agg = federate::AggregatorService::Create(opts.aggregator);
  if (!agg.ok()) return ExitWithError(args.service, agg.status());
  auto server = http::HttpServer::Create(opts.server);
  if (!server.ok()) return ExitWithError(args.service, server.status());
  (*agg)->RegisterRoutes(**server);
  (*server)->SetOpenApi(std::string(embedded::federate_openapi));
  std::unique_ptr<mqtt::MqttClient> bus;
  if (!opts.mqtt_url.empty()) {
    mqtt::Config mc{.uri = opts.mqtt_url,
                    .client_id = "strata-federate-" + opts.aggregator.id,
                    .link_src = opts.aggregator.id};
    CopyMqttAuth(opts.mqtt_auth, &mc);
    auto b = mqtt::MqttClient::Create(mc);
    if (!b.ok()) return ExitWithError(args.service, b.status());
    bus = std::move(b).value();
    if (Status c = bus->Connect(std::chrono::seconds(10)); !c.ok()) return ExitWithError(args.service, c);
    const std::string base = opts.mqtt_prefix + "/fl/" + opts.aggregator.group + "/";
    mqtt::MqttClient* raw = bus.get();
    (*agg)->SetPublisher([raw, base](const std::string& topic, const std::string& payload) {
      Status p = raw->Publish(base + topic, payload, 1, /*retained=*/true);
      if (!p.ok()) spdlog::warn("federate: MQTT publish {}: {}", topic, p.message());
    });
  }
  if (Status st = (*agg)->Start(); !st.ok()) return ExitWithError(args.service, st);
  int code = RunService(args, **server);
  (*agg)->Stop();
  return code;
}
