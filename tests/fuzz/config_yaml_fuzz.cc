// Fuzz target: YAML configs (every service's --config, topology files, model manifests).
// Walks the whole tree through every typed getter; errors are fine, crashes and throws are not.
#include "fuzz.h"
#include "strata/core/config.h"

std::vector<std::string> strata::fuzz::Seeds() {
  return {
      "server:\n  host: 127.0.0.1\n  port: 8080\n  max_body_bytes: 1048576\n"
      "detect:\n  backend: dnn\n  classes: [person, car]\n  score_threshold: 0.4\n"
      "  tracker: {iou: 0.3, min_hits: 3}\n  timeout: 250ms\n",
      "roof:\n  frame_change:\n    ignore_masks:\n      - [[0, 0], [1, 0], [1, 0.1]]\n"
      "  keepalive: 1h\n  anchors: &a {x: 1}\n  copy: *a\n",
      "a: !!binary aGVsbG8=\nb: [1, 2, [3, [4, {c: d}]]]\nc: ~\nd: .nan\ne: -.inf\nf: 1e400\n",
  };
}

namespace {
void Walk(const strata::ConfigNode& n, int depth) {
  if (depth > 64) return;
  for (const std::string& key : n.Keys()) {
    std::string s;
    bool b;
    int i;
    int64_t l;
    double d;
    std::vector<std::string> vs;
    std::vector<double> vd;
    std::chrono::milliseconds ms;
    (void)n.Get(key, &s);
    (void)n.Get(key, &b);
    (void)n.Get(key, &i);
    (void)n.Get(key, &l);
    (void)n.Get(key, &d);
    (void)n.Get(key, &vs);
    (void)n.Get(key, &vd);
    (void)n.Get(key, &ms);
    (void)n.GetInRange(key, &i, -5, 5);
    (void)n.Where(key);
    auto child = n.Child(key);
    if (child.ok()) Walk(*child, depth + 1);
  }
  for (const strata::ConfigNode& item : n.Items()) Walk(item, depth + 1);
  (void)n.Scalar();
  (void)n.CheckKeys({"server", "detect"});
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto root = strata::ConfigNode::Parse(std::string_view(reinterpret_cast<const char*>(data), size),
                                        "fuzz.yaml");
  if (root.ok()) Walk(*root, 0);
  (void)strata::ParseDuration(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
