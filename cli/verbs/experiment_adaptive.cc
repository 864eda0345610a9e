// strata experiment adaptive: does the roof's adaptive forwarding (services/roof/rate_controller.h)
// hold the p99 of a frame's age at detection (roof queue + fog round trip) under its target when
// the fog's load steps up? Runs strata-detect (one pipeline) and strata-roof (vtest, real time,
// looped) twice — controller off, then on — and in the middle third of each run adds other cameras
// that send as fast as the fog answers (the step). Samples
// the roof's forwarding rate and recent p99 every 0.5 s; prints a summary and writes the trace as
// JSON and an SVG plot.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <opencv2/videoio.hpp>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/vision/image_io.h"
#include "verbs.h"
#include "verbs/surveil_run.h"
#include "verbs/surveil_stack.h"
#include "verbs/svg.h"

namespace strata::cli {
namespace {

using nlohmann::json;

struct AdaptiveOptions {
  std::string video = kVtest;
  int target_ms = 600;
  double forward_fps = 5;
  int load_clients = 3;
  int seconds = 48;  // per run; the step is the middle third
  std::string json_path, svg_path;
};

// Frames of the video as JPEGs, for the step load.
std::vector<std::string> LoadFrames(const std::string& video, int n) {
  std::vector<std::string> out;
  cv::VideoCapture cap(video, cv::CAP_FFMPEG);
  cv::Mat f;
  for (int i = 0; i < n && cap.read(f); ++i) {
    auto j = vision::EncodeJpeg(f, 80);
    if (j.ok()) out.emplace_back(j->begin(), j->end());
  }
  return out;
}

Result<json> OneRun(const AdaptiveOptions& o, bool adaptive, const std::string& bin_dir,
                    const std::vector<std::string>& frames) {
  testing::TempDir dir;
  SurveilStack stack(dir.path(), bin_dir);
  STRATA_RETURN_IF_ERROR(stack.Start(
      "detect", "server: {host: 127.0.0.1, workers: 8}\ndetect:\n  instances: 1\n  faces: off\n"
                "  annotate: false\n"));
  char roof[1024];
  std::snprintf(roof, sizeof roof,
                "server: {host: 127.0.0.1}\nroof:\n  camera: cam1\n  source: \"%s\"\n"
                "  fog_url: \"%s\"\n  forward_fps: %g\n  realtime: true\n  loop: true\n"
                "  adaptive: {target_p99: %dms, min_fps: 0.5, window: 6}\n",
                o.video.c_str(), stack.Url("detect").c_str(), o.forward_fps,
                adaptive ? o.target_ms : 0);
  STRATA_RETURN_IF_ERROR(stack.Start("roof", roof));
  STRATA_ASSIGN_OR_RETURN(auto stats, http::HttpClient::Create({.base_url = stack.Url("roof")}));
  std::atomic<bool> load_on{false}, done{false};
  std::vector<std::thread> load;  // the step: other cameras, each sending as fast as answered
  for (int k = 0; k < o.load_clients; ++k)
    load.emplace_back([&, k] {
      auto c = http::HttpClient::Create({.base_url = stack.Url("detect"), .max_retries = 0});
      if (!c.ok()) return;
      size_t i = static_cast<size_t>(k) * 7;
      while (!done) {
        if (!load_on) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        (void)(*c)->Post("/api/v1/frames", frames[i++ % frames.size()], "image/jpeg",
                         {{"X-Strata-Camera", "load" + std::to_string(k)}});
      }
    });
  json trace = json::array();
  const auto start = std::chrono::steady_clock::now();
  for (int tick = 0; tick < o.seconds * 2; ++tick) {
    double t = tick * 0.5;
    load_on = t >= o.seconds / 3.0 && t < 2 * o.seconds / 3.0;
    std::this_thread::sleep_until(start + std::chrono::milliseconds(500 * (tick + 1)));
    auto r = stats->Get("/api/v1/stats");
    if (!r.ok() || r->status != 200) continue;
    auto j = r->Json();
    if (!j.ok()) continue;
    trace.push_back({{"t", t + 0.5},
                     {"load", load_on.load()},
                     {"forward_fps", j->value("forward_fps_now", 0.0)},
                     {"p99_ms", j->value("recent_p99_ms", 0.0)}});
  }
  done = true;
  for (std::thread& t : load) t.join();
  return trace;
}

// While the step load is on: max p99, and max p99 over its second half (after the controller had
// time to react), and the mean forwarding rate.
json Summary(const json& trace, int seconds) {
  double max_p99 = 0, settled = 0, fps = 0;
  int n = 0;
  for (const json& s : trace) {
    if (!s["load"].get<bool>()) continue;
    double p99 = s["p99_ms"].get<double>();
    max_p99 = std::max(max_p99, p99);
    if (s["t"].get<double>() >= seconds / 2.0 + 0.5) settled = std::max(settled, p99);
    fps += s["forward_fps"].get<double>();
    ++n;
  }
  return {{"max_p99_ms_under_load", max_p99},
          {"max_p99_ms_second_half_of_load", settled},
          {"mean_forward_fps_under_load", n ? fps / n : 0}};
}

std::string Plot(const json& r) {
  svg::LineChart chart{.title = "Frame age p99 (roof queue + fog round trip) under a step load, target " +
                                std::to_string(r["target_ms"].get<int>()) + " ms",
                       .x_label = "seconds",
                       .y_label = "p99 frame age, ms"};
  for (const char* run : {"off", "on"}) {
    svg::Series s{.name = std::string("controller ") + run,
                  .colour = svg::Palette(run[1] == 'f' ? 1 : 0)};
    for (const json& p : r[run]["trace"]) s.points.push_back({p["t"], p["p99_ms"]});
    chart.series.push_back(std::move(s));
  }
  svg::Series target{.name = "target", .colour = "#999999"};
  const json& tr = r["on"]["trace"];
  if (!tr.empty()) {
    target.points = {{tr.front()["t"], r["target_ms"]}, {tr.back()["t"], r["target_ms"]}};
    chart.series.push_back(target);
  }
  svg::Svg out(900, 460);
  svg::DrawLineChart(out, {80, 50, 640, 340}, chart);
  svg::DrawLegend(out, 740, 60, "",
                  {{"controller off", svg::Palette(1)}, {"controller on", svg::Palette(0)},
                   {"target", "#999999"}});
  return out.Finish();
}

int RunAdaptive(const AdaptiveOptions& o) {
  if (!std::filesystem::exists(o.video)) return Fail("--video: '" + o.video + "' not found");
  std::error_code ec;
  const std::string bin = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
  std::vector<std::string> frames = LoadFrames(o.video, 40);
  if (frames.empty()) return Fail("--video: no frame could be read from '" + o.video + "'");
  json r = {{"target_ms", o.target_ms}, {"forward_fps", o.forward_fps},
            {"load_clients", o.load_clients},
            {"seconds", o.seconds}};
  for (bool on : {false, true}) {
    std::fprintf(stderr, "adaptive: controller %s (%d s)\n", on ? "on" : "off", o.seconds);
    auto trace = OneRun(o, on, bin, frames);
    if (!trace.ok()) return Fail(trace.status().message());
    r[on ? "on" : "off"] = {{"trace", *trace}, {"summary", Summary(*trace, o.seconds)}};
  }
  for (const char* run : {"off", "on"})
    std::printf("controller %-3s  under the step load: max p99 %7.1f ms (second half %7.1f ms), "
                "mean forwarding %.2f fps\n",
                run, r[run]["summary"]["max_p99_ms_under_load"].get<double>(),
                r[run]["summary"]["max_p99_ms_second_half_of_load"].get<double>(),
                r[run]["summary"]["mean_forward_fps_under_load"].get<double>());
  if (!o.json_path.empty()) {
    if (Status s = WriteText(o.json_path, r.dump(2) + "\n"); !s.ok()) return Fail(s.message());
  }
  if (!o.svg_path.empty()) {
    if (Status s = WriteText(o.svg_path, Plot(r)); !s.ok()) return Fail(s.message());
  }
  return 0;
}

}  // namespace

void RegisterAdaptiveExperiment(CLI::App* exp, Context& ctx) {
  auto o = std::make_shared<AdaptiveOptions>();
  CLI::App* cmd = exp->add_subcommand(
      "adaptive", "Roof forwarding rate control under a step load on the fog: p99 trace, "
                  "controller off vs on");
  cmd->add_option("--video", o->video, "video (default: Debian opencv-doc vtest.avi)");
  cmd->add_option("--target-ms", o->target_ms,
                  "p99 target of a frame's age when its detections are back (queue + round trip)")
      ->check(CLI::Range(10, 60000));
  cmd->add_option("--forward-fps", o->forward_fps, "roof forwarding cap")->check(CLI::Range(0.5, 100.0));
  cmd->add_option("--load-clients", o->load_clients,
                  "the step: other cameras sending to the fog as fast as it answers")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--seconds", o->seconds, "length of each run")->check(CLI::Range(6, 3600));
  cmd->add_option("--json", o->json_path, "write the traces as JSON");
  cmd->add_option("--svg", o->svg_path, "write the p99 traces as an SVG plot");
  cmd->callback([o, &ctx] { ctx.action = [o] { return RunAdaptive(*o); }; });
}

}  // namespace strata::cli
