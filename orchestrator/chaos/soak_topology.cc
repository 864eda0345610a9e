// The built-in full topology of `strata soak` (soak.h): all.yaml's services with a looping
// camera, a zone that raises alerts and unlimited federated rounds, so every service stays busy.
#include <string>

#include "chaos/soak.h"

namespace strata::chaos {
namespace {

constexpr char kTemplate[] =
    R"yaml(# The built-in topology of `strata soak` (written by the soak to <out>/topology.yaml): every
# service type of configs/topologies/all.yaml on one machine, both applications, 4 emulated links
# and 2 brokers. Nominal load: the roof loops vtest.avi at 4 forwarded frames/s (HOG on the fog),
# notify alerts on the lower half of the picture, the federated clients run unlimited rounds
# (one poll per second), and the soak posts customer events into segment-1 and segment-2.
version: 1
name: strata-soak

nodes:
  roof-1: {tier: roof}
  shop-1: {tier: edge}
  shop-2: {tier: edge}
  fog-1: {tier: fog}
  cloud-1: {tier: cloud}

links:
  - {from: roof-1, to: fog-1, latency: 1ms, bandwidth: 100mbit}
  - {from: shop-1, to: fog-1, latency: 5ms, bandwidth: 10mbit}
  - {from: shop-2, to: fog-1, latency: 15ms, jitter: 5ms, bandwidth: 2mbit}
  - {from: fog-1, to: cloud-1, latency: 20ms, jitter: 5ms, bandwidth: 20mbit}

brokers:
  mqtt-fog: {node: fog-1}
  mqtt-cloud: {node: cloud-1}

supervision:
  max_restarts: 5
  backoff: 500ms
  ready_timeout: 90s

services:
  notify:
    type: notify
    node: cloud-1
    config:
      notify:
        mqtt: {url: "${mqtt-cloud.uri}"}
        cooldown: 5s
        cameras:
          cam-1:
            zones:
              lower-half: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]
  identify:
    type: identify
    node: cloud-1
    config:
      identify:
        notify_url: ${notify.url}
        notify_spool_dir: spool
  detect:
    type: detect
    node: fog-1
    config:
      detect:
        backend: hog
        hog_max_width: 384
        instances: 1
        cloud: {url: "${identify.url}", spool_dir: spool}
  roof:
    type: roof
    node: roof-1
    config:
      roof:
        camera: cam-1
        source: /usr/share/doc/opencv-doc/examples/data/vtest.avi
        loop: true
        capture_fps: 10
        forward_fps: 4
        fog_url: ${detect.url}
  fl-cloud:
    type: federate
    node: cloud-1
    config:
      federate:
        role: cloud
        k: 3
        d: 2
        rounds: 0
        min_participants: 1
        round_timeout: 10s
        poll_interval: 1s
        nodes: [{id: fog-1, token: "1111111111111111111111111111111111111111111111111111111111111111"}]
  fl-fog:
    type: federate
    node: fog-1
    config:
      federate:
        role: fog
        id: fog-1
        k: 3
        d: 2
        min_participants: 1
        round_timeout: 10s
        poll_interval: 1s
        parent_url: ${fl-cloud.url}
        parent_token: "1111111111111111111111111111111111111111111111111111111111111111"
        nodes:
          - {id: shop-1, token: "2222222222222222222222222222222222222222222222222222222222222222"}
          - {id: shop-2, token: "3333333333333333333333333333333333333333333333333333333333333333"}
  segment-1:
    type: segment
    node: shop-1
    config:
      segment: {node: shop-1}
      mqtt: {uri: "${mqtt-fog.uri}"}
  segment-2:
    type: segment
    node: shop-2
    config:
      segment: {node: shop-2}
      mqtt: {uri: "${mqtt-fog.uri}"}
  fl-shop-1:
    type: federate
    node: shop-1
    probe: none
    config:
      federate:
        role: edge
        id: shop-1
        aggregator_url: ${fl-fog.url}
        token: "2222222222222222222222222222222222222222222222222222222222222222"
        points_csv: "@POINTS_SHOP_1@"
        poll_interval: 1s
  fl-shop-2:
    type: federate
    node: shop-2
    probe: none
    config:
      federate:
        role: edge
        id: shop-2
        aggregator_url: ${fl-fog.url}
        token: "3333333333333333333333333333333333333333333333333333333333333333"
        points_csv: "@POINTS_SHOP_2@"
        poll_interval: 1s
  console:
    type: console
    node: cloud-1
    config:
      console:
        poll_interval: 1s
)yaml";

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

}  // namespace

std::string FullSoakTopology(const std::string& points_shop_1, const std::string& points_shop_2) {
  std::string y = kTemplate;
  ReplaceAll(y, "@POINTS_SHOP_1@", points_shop_1);
  ReplaceAll(y, "@POINTS_SHOP_2@", points_shop_2);
  return y;
}

}  // namespace strata::chaos
