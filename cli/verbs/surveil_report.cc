#include "verbs/surveil_report.h"

#include "verbs/svg.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace strata::cli {
namespace {

using nlohmann::json;

// The reference design's per-item size estimates.
constexpr double kRefFrameBytes = 50e3;  // one camera frame
constexpr double kRefCropBytes = 8e3;    // one person crop

const PromText& Metrics(const SurveilInputs& in, const std::string& service) {
  static const PromText kEmpty;
  auto it = in.metrics.find(service);
  return it == in.metrics.end() ? kEmpty : it->second;
}

double Num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

json Latency(const PromText& m, const std::string& name, const PromText::Labels& labels) {
  return {{"p50", 1000 * m.Quantile(name, labels, 0.5)},
          {"p99", 1000 * m.Quantile(name, labels, 0.99)}};
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

json Link(const std::string& name, double reference, double naive, double measured) {
  json j = {{"link", name}, {"reference_estimate_bytes", reference}, {"measured_bytes", measured}};
  if (naive > 0) {
    j["naive_bytes"] = naive;
    j["saving_vs_naive"] = 1.0 - measured / naive;
  }
  return j;
}

std::string Bytes(double b) {
  char buf[32];
  if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2f MB", b / 1e6);
  else if (b >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

}  // namespace

json BuildSurveilReport(const SurveilInputs& in) {
  const json& rs = in.roof_stats;
  const PromText& roof = Metrics(in, "roof");
  const PromText& detect = Metrics(in, "detect");
  const PromText& identify = Metrics(in, "identify");
  const PromText& notify = Metrics(in, "notify");
  const double captured = Num(rs, "frames_captured"), forwarded = Num(rs, "frames_forwarded");
  const double video_seconds = in.capture_fps > 0 ? captured / in.capture_fps : 0;
  const double persons = detect.Sum("strata_detect_detections_total", {{"label", "person"}});
  const double detect_frames = detect.Sum("strata_detect_frames_total");
  const double persons_per_frame = detect_frames > 0 ? persons / detect_frames : 0;

  json report;
  report["video"] = {{"path", in.video},
                     {"file_fps", in.video_fps},
                     {"capture_fps", in.capture_fps},
                     {"forward_fps", in.forward_fps},
                     {"seconds_covered", video_seconds}};
  report["run"] = {{"wall_seconds", in.wall_seconds},
                   {"achieved_fps", in.wall_seconds > 0 ? captured / in.wall_seconds : 0},
                   {"realtime_factor", in.wall_seconds > 0 ? video_seconds / in.wall_seconds : 0}};
  report["frames"] = {{"captured", captured},
                      {"changed", Num(rs, "frames_changed")},
                      {"forwarded", forwarded},
                      {"skipped_unchanged", Num(rs, "frames_skipped_unchanged")},
                      {"skipped_rate_cap", Num(rs, "frames_skipped_rate_cap")},
                      {"dropped_queue_full", Num(rs, "frames_dropped_queue_full")},
                      {"fog_errors", Num(rs, "fog_errors")}};
  report["fog"] = {
      {"frames_processed", detect_frames},
      {"persons", persons},
      {"faces", detect.Sum("strata_detect_faces_total")},
      {"crops_sent",
       {{"face", detect.Sum("strata_detect_uplink_crops_total", {{"result", "sent"}, {"kind", "face"}})},
        {"person",
         detect.Sum("strata_detect_uplink_crops_total", {{"result", "sent"}, {"kind", "person"}})},
        {"failed", detect.Sum("strata_detect_uplink_crops_total", {{"result", "failed"}})},
        {"dropped", detect.Sum("strata_detect_uplink_crops_total", {{"result", "dropped"}})}}}};
  json identities = json::object();
  for (const char* status : {"known", "unknown", "no_face"})
    identities[status] = identify.Sum("strata_identify_results_total", {{"status", status}});

  json by_type = json::object();
  std::vector<double> e2e;
  for (const json& e : in.events) {
    by_type[e.value("event_type", "?")] = by_type.value(e.value("event_type", "?"), 0) + 1;
    if (e.contains("latency_ms") && e["latency_ms"].is_object() &&
        e["latency_ms"].contains("end_to_end") && e["latency_ms"]["end_to_end"].is_number())
      e2e.push_back(e["latency_ms"]["end_to_end"].get<double>());
  }
  json alerts = {{"events", in.events.size()}, {"by_type", by_type}};
  if (in.mqtt) alerts["mqtt_messages"] = in.mqtt_alerts;
  report["cloud"] = {{"identities", identities}, {"alerts", alerts}};

  const double naive = Num(rs, "jpeg_bytes_equivalent_estimate");
  const double roof_fog = roof.Sum("strata_link_bytes_total", {{"src", "roof"}, {"dst", "fog"}});
  const double fog_cloud =
      detect.Sum("strata_link_bytes_total", {{"src", "fog"}, {"dst", "cloud"}});
  const double cloud_notify =
      identify.Sum("strata_link_bytes_total", {{"src", "identify"}, {"dst", "notify"}});
  report["links"] = json::array(
      {Link("camera -> fog, every frame (naive)", kRefFrameBytes * in.capture_fps * video_seconds,
            naive, naive),
       Link("roof -> fog", kRefFrameBytes * in.forward_fps * video_seconds, naive, roof_fog),
       Link("fog -> cloud", kRefCropBytes * persons_per_frame * in.forward_fps * video_seconds,
            naive, fog_cloud),
       Link("identify -> notify", 0, 0, cloud_notify)});

  json roof_rt = Latency(roof, "strata_link_latency_seconds", {{"src", "roof"}, {"dst", "fog"}});
  if (rs.contains("fog_round_trip_ms") && rs["fog_round_trip_ms"].is_object())  // exact, not buckets
    roof_rt = {{"p50", Num(rs["fog_round_trip_ms"], "p50")},
               {"p99", Num(rs["fog_round_trip_ms"], "p99")}};
  report["latency_ms"] = {
      {"roof_to_fog_round_trip", roof_rt},
      {"detect_frame", Latency(detect, "strata_stage_latency_seconds", {{"stage", "detect_frame"}})},
      {"fog_to_cloud_round_trip",
       Latency(detect, "strata_link_latency_seconds", {{"src", "fog"}, {"dst", "cloud"}})},
      {"identify_to_notify_round_trip",
       Latency(identify, "strata_link_latency_seconds", {{"src", "identify"}, {"dst", "notify"}})},
      {"frame_to_alert", {{"p50", Percentile(e2e, 0.5)}, {"p99", Percentile(e2e, 0.99)}}}};
  (void)notify;
  return report;
}

std::string FormatSurveilReport(const json& r) {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  const json &v = r["video"], &run = r["run"], &f = r["frames"], &fog = r["fog"], &c = r["cloud"];
  add("strata surveil: %s\n", v["path"].get<std::string>().c_str());
  add("  %.1f s of video at x=%.0f fps (roof cap y=%.0f fps) in %.1f s wall: %.1f fps, %.2fx real "
      "time\n",
      v["seconds_covered"].get<double>(), v["capture_fps"].get<double>(),
      v["forward_fps"].get<double>(), run["wall_seconds"].get<double>(),
      run["achieved_fps"].get<double>(), run["realtime_factor"].get<double>());
  add("roof    frames captured %.0f, changed %.0f, forwarded %.0f; skipped: unchanged %.0f, rate "
      "cap %.0f, queue full %.0f\n",
      f["captured"].get<double>(), f["changed"].get<double>(), f["forwarded"].get<double>(),
      f["skipped_unchanged"].get<double>(), f["skipped_rate_cap"].get<double>(),
      f["dropped_queue_full"].get<double>());
  const json& crops = fog["crops_sent"];
  add("fog     %.0f frames, %.0f persons, %.0f faces; crops sent up: %.0f face + %.0f person\n",
      fog["frames_processed"].get<double>(), fog["persons"].get<double>(),
      fog["faces"].get<double>(), crops["face"].get<double>(), crops["person"].get<double>());
  const json& id = c["identities"];
  add("cloud   identities: %.0f known, %.0f unknown, %.0f person-only; alerts: %zu",
      id["known"].get<double>(), id["unknown"].get<double>(), id["no_face"].get<double>(),
      c["alerts"]["events"].get<size_t>());
  for (auto& [type, n] : c["alerts"]["by_type"].items())
    add(" %s=%d", type.c_str(), n.get<int>());
  if (c["alerts"].contains("mqtt_messages")) {
    out += " (MQTT:";
    for (auto& [phase, n] : c["alerts"]["mqtt_messages"].items())
      add(" %s=%d", phase.c_str(), n.get<int>());
    out += ")";
  }
  out += "\n\nbytes per link                       reference estimate        measured      saving\n";
  for (const json& l : r["links"]) {
    std::string ref = l["reference_estimate_bytes"].get<double>() > 0
                          ? Bytes(l["reference_estimate_bytes"].get<double>())
                          : "-";
    std::string saving = "-";
    if (l.contains("saving_vs_naive")) {
      std::snprintf(line, sizeof line, "%.1f%%", 100 * l["saving_vs_naive"].get<double>());
      saving = line;
    }
    add("  %-34s %18s  %12s  %10s\n", l["link"].get<std::string>().c_str(), ref.c_str(),
        Bytes(l["measured_bytes"].get<double>()).c_str(), saving.c_str());
  }
  out += "  (reference: 50 kB x x fps x T raw, 50 kB x y fps x T roof->fog, 8 kB x persons x y x T "
         "fog->cloud)\n\nlatency ms                             p50       p99\n";
  for (const char* name : {"roof_to_fog_round_trip", "detect_frame", "fog_to_cloud_round_trip",
                           "identify_to_notify_round_trip", "frame_to_alert"}) {
    const json& l = r["latency_ms"][name];
    add("  %-34s %8.1f  %8.1f\n", name, l["p50"].get<double>(), l["p99"].get<double>());
  }
  return out;
}

std::string SurveilLinksSvg(const json& r) {
  svg::BarChart chart{.title = "Bytes per link: " + r["video"]["path"].get<std::string>(),
                      .x_label = "link",
                      .y_label = "MB"};
  int i = 0;
  for (const json& l : r["links"]) {
    chart.labels.push_back(l["link"].get<std::string>().substr(0, 22));
    chart.values.push_back(l["measured_bytes"].get<double>() / 1e6);
    chart.colours.push_back(svg::Palette(i++));
  }
  svg::Svg out(900, 460);
  svg::DrawBarChart(out, {80, 50, 780, 330}, chart);
  return out.Finish();
}

}  // namespace strata::cli
