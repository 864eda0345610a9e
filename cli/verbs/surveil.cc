// strata surveil: the tiered surveillance pipeline in one command (surveil_run.cc does the work):
// streams a video through roof -> detect -> identify -> notify on loopback and prints frames,
// persons, faces, identities and alerts, the bytes of every link against the naive baselines and
// latencies; `--json PATH` writes the same report as JSON, `--svg PATH` a bar chart of the bytes.
#include <cstdio>

#include "verbs.h"
#include "verbs/surveil_report.h"
#include "verbs/surveil_run.h"

namespace strata::cli {
namespace {

int Run(const SurveilOptions& o) {
  auto report = RunSurveilPipeline(o);
  if (!report.ok()) return Fail(report.status().message());
  if (!o.svg_path.empty()) {
    if (Status s = WriteText(o.svg_path, SurveilLinksSvg(*report)); !s.ok())
      return Fail(s.message());
  }
  if (o.json_path == "-") {
    std::printf("%s\n", report->dump(2).c_str());
    return 0;
  }
  std::fputs(FormatSurveilReport(*report).c_str(), stdout);
  if (!o.json_path.empty()) {
    if (Status s = WriteText(o.json_path, report->dump(2) + "\n"); !s.ok())
      return Fail(s.message());
  }
  return 0;
}

}  // namespace

void RegisterSurveil(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SurveilOptions>();
  CLI::App* cmd = app.add_subcommand(
      "surveil",
      "Run the surveillance pipeline (roof -> detect -> identify -> notify) on a video and report "
      "bytes per link, latencies and alerts");
  cmd->add_option("--video", o->video, "video file or stream URL (default: Debian opencv-doc vtest.avi)");
  cmd->add_option("--camera", o->camera, "camera id")->check([](const std::string& c) {
    bool ok = !c.empty() && c.size() <= 64 &&
              c.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
    return ok ? std::string() : std::string("camera must match [a-z0-9_-]{1,64}");
  });
  cmd->add_option("--max-frames", o->max_frames, "stop after this many captured frames (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--capture-fps", o->capture_fps, "x: frames per second captured")
      ->check(CLI::Range(0.1, 1000.0));
  cmd->add_option("--forward-fps", o->forward_fps, "y: cap on changed frames sent to the fog")
      ->check(CLI::Range(0.1, 1000.0));
  cmd->add_flag("--realtime", o->realtime, "pace the file at its own speed (default: as fast as possible)");
  cmd->add_option("--detector", o->detector,
                  "hog (embedded default) or a dnn model manifest name or path, e.g. "
                  "yolo_fastest_body");
  cmd->add_option("--models", o->models, "directory with the model files (dnn, yunet, mobilefacenet)");
  cmd->add_option("--manifests", o->manifests, "directory of the model manifests (default: configs/models)");
  cmd->add_option("--faces", o->faces, "face detector in detect and identify")
      ->check(CLI::IsMember({"haar", "yunet"}));
  cmd->add_option("--encoder", o->encoder, "face template in identify")
      ->check(CLI::IsMember({"lbph", "mobilefacenet"}));
  cmd->add_option("--threshold", o->threshold, "identify's same-person threshold (metric units)");
  cmd->add_option("--enrol", o->enrol, "enrol NAME=IMAGE into the gallery before streaming (repeatable)");
  cmd->add_option("--zone", o->zones,
                  "restricted zone, normalised points 'x,y x,y x,y ...' (repeatable)");
  cmd->add_flag("--alert-on-person", o->alert_on_person, "alert on every person track");
  cmd->add_flag("!--no-mqtt", o->mqtt, "do not start a local mosquitto");
  cmd->add_flag("--console", o->console,
                "also run strata-console (the web UI) on the services and print its URL");
  cmd->add_option("--json", o->json_path, "write the report as JSON to PATH ('-' = stdout)");
  cmd->add_option("--svg", o->svg_path, "write a bar chart of the bytes per link (SVG)");
  cmd->add_option("--work-dir", o->work_dir, "keep configs, databases and snapshots here");
  cmd->add_option("--timeout", o->timeout_s, "give up after this many seconds")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, &ctx] { ctx.action = [o] { return Run(*o); }; });
}

}  // namespace strata::cli
