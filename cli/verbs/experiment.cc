// strata experiment placement: where should inference run? Runs the surveillance pipeline twice
// on the same video — the detector on the fog (near the camera, the WAN between the fog and the
// cloud services) and the detector in the cloud (the WAN between the camera side and the
// detector) — and the segmentation lookup at the edge vs in the cloud behind the same emulated WAN
// (`strata link`). Reports detection round trip, frame→alert latency, lookup latency (p50/p99) and
// the bytes that cross the WAN, as a table, JSON and an SVG chart.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "strata/codec/event_json.h"
#include "strata/segment/generator.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "verbs.h"
#include "verbs/surveil_run.h"
#include "verbs/surveil_stack.h"
#include "verbs/svg.h"

namespace strata::cli {
namespace {

using nlohmann::json;

struct PlacementOptions {
  SurveilOptions surveil;
  WanLink wan;
  int lookups = 300;
  int customers = 500;
  std::string json_path, svg_path;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

json Pair(double p50, double p99) { return {{"p50", p50}, {"p99", p99}}; }

// One placement's numbers from a surveil report; `wan_link` names the report's link that crossed
// the WAN.
json Summarise(const json& report, const std::string& wan_link) {
  double wan_bytes = 0;
  for (const json& l : report["links"])
    if (l["link"] == wan_link) wan_bytes = l["measured_bytes"].get<double>();
  return {{"detect_round_trip_ms", report["latency_ms"]["roof_to_fog_round_trip"]},
          {"frame_to_alert_ms", report["latency_ms"]["frame_to_alert"]},
          {"wan_link", wan_link},
          {"wan_bytes", wan_bytes},
          {"frames_forwarded", report["frames"]["forwarded"]},
          {"alerts", report["cloud"]["alerts"]["events"]}};
}

// strata-segment with `customers` synthetic customers; lookups of their segment direct and
// through the WAN link; returns {"edge": {p50,p99}, "cloud": {p50,p99}} in ms.
Result<json> SegmentLookups(const PlacementOptions& o, const std::string& bin_dir) {
  testing::TempDir dir;
  SurveilStack stack(dir.path(), bin_dir);
  STRATA_RETURN_IF_ERROR(stack.Start("segment", "server: {host: 127.0.0.1}\n"));
  STRATA_RETURN_IF_ERROR(
      stack.StartLink("wan-segment", "segment", o.wan.latency, o.wan.jitter, o.wan.bandwidth));
  STRATA_ASSIGN_OR_RETURN(auto gen, segment::Generator::Create(
                                        {.customers = o.customers, .events = 12000, .seed = 7}));
  STRATA_ASSIGN_OR_RETURN(auto edge, http::HttpClient::Create({.base_url = stack.Url("segment")}));
  std::string batch;
  segment::Event e;
  for (int n = 1; gen.Next(&e); ++n) {
    batch += codec::EventToJson(e).dump() + "\n";
    if (n % 2000 == 0) {
      STRATA_ASSIGN_OR_RETURN(http::ClientResponse r,
                              edge->Post("/api/v1/events", batch, "application/x-ndjson"));
      STRATA_RETURN_IF_ERROR(r.ToStatus());
      batch.clear();
    }
  }
  STRATA_ASSIGN_OR_RETURN(auto cloud,
                          http::HttpClient::Create({.base_url = stack.Url("wan-segment")}));
  json out;
  for (auto& [name, client] : {std::pair{"edge", edge.get()}, std::pair{"cloud", cloud.get()}}) {
    std::vector<double> ms;
    for (int i = 0; i < o.lookups; ++i) {
      auto t = std::chrono::steady_clock::now();
      STRATA_ASSIGN_OR_RETURN(
          http::ClientResponse r,
          client->Get("/api/v1/customers/" + gen.CustomerId(i % o.customers) + "/segment"));
      if (r.status != 200 && r.status != 404) STRATA_RETURN_IF_ERROR(r.ToStatus());
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
    }
    out[name] = Pair(Percentile(ms, 0.5), Percentile(ms, 0.99));
  }
  return out;
}

std::string Svg(const json& r) {
  svg::BarChart chart{.title = "Placement: p50 latency, WAN " + r["wan"]["latency"].get<std::string>() +
                               " one way, " + r["wan"]["bandwidth"].get<std::string>(),
                      .x_label = "",
                      .y_label = "ms (p50)"};
  auto bar = [&](const std::string& label, double v, int colour) {
    chart.labels.push_back(label);
    chart.values.push_back(v);
    chart.colours.push_back(svg::Palette(colour));
  };
  bar("detect @fog", r["fog"]["detect_round_trip_ms"]["p50"].get<double>(), 0);
  bar("detect @cloud", r["cloud"]["detect_round_trip_ms"]["p50"].get<double>(), 1);
  bar("lookup @edge", r["segment_lookup_ms"]["edge"]["p50"].get<double>(), 0);
  bar("lookup @cloud", r["segment_lookup_ms"]["cloud"]["p50"].get<double>(), 1);
  svg::Svg out(760, 420);
  svg::DrawBarChart(out, {80, 50, 640, 300}, chart);
  return out.Finish();
}

int RunPlacement(const PlacementOptions& o) {
  std::error_code ec;
  const std::string bin_dir =
      std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
  json r = {{"wan", {{"latency", o.wan.latency}, {"jitter", o.wan.jitter},
                     {"bandwidth", o.wan.bandwidth}}},
            {"video", o.surveil.video},
            {"detector", o.surveil.detector}};
  std::fprintf(stderr, "placement 1/3: detector on the fog (WAN between fog and cloud)\n");
  auto fog = RunSurveilPipeline(o.surveil, {.detect_to_cloud = o.wan});
  if (!fog.ok()) return Fail("detector on the fog: " + fog.status().message());
  r["fog"] = Summarise(*fog, "fog -> cloud");
  std::fprintf(stderr, "placement 2/3: detector in the cloud (WAN between camera and detector)\n");
  auto cloud = RunSurveilPipeline(o.surveil, {.roof_to_detect = o.wan});
  if (!cloud.ok()) return Fail("detector in the cloud: " + cloud.status().message());
  r["cloud"] = Summarise(*cloud, "roof -> fog");
  std::fprintf(stderr, "placement 3/3: segment lookups at the edge and in the cloud\n");
  auto lookups = SegmentLookups(o, bin_dir);
  if (!lookups.ok()) return Fail("segment lookups: " + lookups.status().message());
  r["segment_lookup_ms"] = *lookups;

  if (o.json_path == "-") {
    std::printf("%s\n", r.dump(2).c_str());
  } else {
    auto row = [](const char* name, const json& lat, const json& alert, double bytes) {
      std::printf("  %-26s %8.1f %8.1f   %8.1f %8.1f   %12.0f\n", name, lat["p50"].get<double>(),
                  lat["p99"].get<double>(), alert["p50"].get<double>(), alert["p99"].get<double>(),
                  bytes);
    };
    std::printf("placement (WAN %s one way, jitter %s, %s)\n", o.wan.latency.c_str(),
                o.wan.jitter.c_str(), o.wan.bandwidth.c_str());
    std::printf("  %-26s %17s   %17s   %12s\n", "", "detect rt ms", "frame->alert ms",
                "WAN bytes");
    std::printf("  %-26s %8s %8s   %8s %8s\n", "", "p50", "p99", "p50", "p99");
    row("detector on the fog", r["fog"]["detect_round_trip_ms"], r["fog"]["frame_to_alert_ms"],
        r["fog"]["wan_bytes"].get<double>());
    row("detector in the cloud", r["cloud"]["detect_round_trip_ms"],
        r["cloud"]["frame_to_alert_ms"], r["cloud"]["wan_bytes"].get<double>());
    const json& l = r["segment_lookup_ms"];
    std::printf("  %-26s %8.2f %8.2f   (segment lookup, %d requests)\n", "lookup at the edge",
                l["edge"]["p50"].get<double>(), l["edge"]["p99"].get<double>(), o.lookups);
    std::printf("  %-26s %8.2f %8.2f\n", "lookup in the cloud", l["cloud"]["p50"].get<double>(),
                l["cloud"]["p99"].get<double>());
    if (!o.json_path.empty()) {
      if (Status s = WriteText(o.json_path, r.dump(2) + "\n"); !s.ok()) return Fail(s.message());
    }
  }
  if (!o.svg_path.empty()) {
    if (Status s = WriteText(o.svg_path, Svg(r)); !s.ok()) return Fail(s.message());
  }
  return 0;
}

}  // namespace

void RegisterAdaptiveExperiment(CLI::App* exp, Context& ctx);  // experiment_adaptive.cc

void RegisterExperiment(CLI::App& app, Context& ctx) {
  CLI::App* exp = app.add_subcommand("experiment", "Measured experiments across tiers");
  exp->require_subcommand(1);
  RegisterAdaptiveExperiment(exp, ctx);
  auto o = std::make_shared<PlacementOptions>();
  o->surveil.realtime = true;
  o->surveil.max_frames = 150;
  o->surveil.mqtt = false;
  o->surveil.alert_on_person = true;  // every track raises an alert: frame→alert is measured
  CLI::App* cmd = exp->add_subcommand(
      "placement", "Detector on the fog vs in the cloud behind an emulated WAN, and segment "
                   "lookups at the edge vs in the cloud: latency p50/p99 and WAN bytes");
  cmd->add_option("--video", o->surveil.video, "video (default: Debian opencv-doc vtest.avi)");
  cmd->add_option("--max-frames", o->surveil.max_frames, "frames per run")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--detector", o->surveil.detector, "hog or a dnn manifest name/path");
  cmd->add_option("--models", o->surveil.models, "directory with the model files");
  cmd->add_option("--manifests", o->surveil.manifests, "directory of the model manifests");
  cmd->add_option("--latency", o->wan.latency, "WAN one-way latency (e.g. 20ms)");
  cmd->add_option("--jitter", o->wan.jitter, "WAN jitter");
  cmd->add_option("--bandwidth", o->wan.bandwidth, "WAN bandwidth (e.g. 20mbit)");
  cmd->add_option("--lookups", o->lookups, "segment lookups per placement")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("!--batch", o->surveil.realtime,
                "read the video as fast as possible (default: at its own speed)");
  cmd->add_option("--json", o->json_path, "write the result as JSON to PATH ('-' = stdout)");
  cmd->add_option("--svg", o->svg_path, "write a bar chart of the p50 latencies");
  cmd->callback([o, &ctx] { ctx.action = [o] { return RunPlacement(*o); }; });
}

}  // namespace strata::cli
