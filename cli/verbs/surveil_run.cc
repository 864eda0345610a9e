#include "verbs/surveil_run.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <opencv2/videoio.hpp>
#include <sstream>
#include <thread>

#include "strata/core/clock.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "strata/vision/video_source.h"
#include "verbs/surveil_report.h"
#include "verbs/surveil_stack.h"

namespace strata::cli {
namespace {

using nlohmann::json;

std::string ZonesYaml(const SurveilOptions& o) {
  if (o.zones.empty()) return "";
  std::string y = "  cameras:\n    " + o.camera + ":\n      zones:\n";
  for (size_t i = 0; i < o.zones.size(); ++i) {
    y += "        zone" + std::to_string(i + 1) + ": [";
    std::string pts = o.zones[i];
    size_t pos = 0;
    bool first = true;
    while (pos < pts.size()) {
      size_t sp = pts.find(' ', pos);
      std::string pt = pts.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      pos = sp == std::string::npos ? pts.size() : sp + 1;
      if (pt.empty()) continue;
      y += std::string(first ? "" : ", ") + "[" + pt + "]";
      first = false;
    }
    y += "]\n";
  }
  return y;
}

std::string MqttYaml(const std::string& uri, const std::string& id) {
  return uri.empty() ? "" : "  mqtt: {url: \"" + uri + "\", client_id: " + id + "}\n";
}

// The directory of the model manifests (configs/models): --manifests, else ./configs/models, else
// beside the build (<bin>/../../configs/models), else the installed copy.
std::string ManifestDir(const SurveilOptions& o, const std::filesystem::path& bin_dir) {
  if (!o.manifests.empty()) return o.manifests;
  for (const std::filesystem::path& p :
       {std::filesystem::path("configs/models"), bin_dir / "../../configs/models",
        std::filesystem::path("/usr/share/strata/configs/models")}) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) return std::filesystem::weakly_canonical(p, ec).string();
  }
  return "configs/models";
}

// A manifest given as a name ("yolo_fastest_body") or a path.
std::string Manifest(const std::string& dir, const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".yaml"))
    return name_or_path;
  return dir + "/" + name_or_path + ".yaml";
}

std::string ModelsYaml(const SurveilOptions& o) {
  return o.models.empty() ? "" : "  model_dirs: [\"" + o.models + "\"]\n";
}

std::string DetectorYaml(const SurveilOptions& o, const std::string& manifests) {
  std::string y = "detect:\n  faces: " + o.faces + "\n  face_manifest: \"" + manifests +
                  "/yunet.yaml\"\n  annotate: false\n" + ModelsYaml(o);
  if (o.detector != "hog")
    y += "  backend: dnn\n  manifest: \"" + Manifest(manifests, o.detector) + "\"\n";
  return y;
}

std::string IdentifyYaml(const SurveilOptions& o, const std::string& manifests,
                         const std::string& notify_url, const std::string& broker) {
  std::string y = "identify:\n  notify_url: \"" + notify_url + "\"\n  encoder: " + o.encoder +
                  "\n  faces: " + o.faces + "\n  face_manifest: \"" + manifests +
                  "/yunet.yaml\"\n  manifest: \"" + manifests + "/mobilefacenet.yaml\"\n" +
                  ModelsYaml(o) + MqttYaml(broker, "surveil-identify");
  if (o.threshold >= 0) y += "  threshold: " + std::to_string(o.threshold) + "\n";
  return y;
}

// --enrol NAME=IMAGE: one photo into identify's gallery.
Status Enrol(const std::string& identify_url, const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0)
    return InvalidArgumentError("--enrol '" + spec + "': expected NAME=IMAGE");
  const std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("--enrol: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  STRATA_ASSIGN_OR_RETURN(auto c, http::HttpClient::Create({.base_url = identify_url}));
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r,
                          c->Post("/api/v1/gallery/" + name, ss.str(), "image/jpeg"));
  Status st = r.ToStatus();
  if (!st.ok()) return Status(st.code(), "--enrol " + name + "=" + path + ": " + st.message());
  return Status::Ok();
}

void Progress(int64_t n, int64_t total, double fps, bool done) {
  if (total <= 0) return;
  const int width = 30;
  int fill = static_cast<int>(width * std::min<int64_t>(n, total) / total);
  std::fprintf(stderr, "\r[%s%s] %lld/%lld frames  %.1f fps%s", std::string(fill, '#').c_str(),
               std::string(width - fill, '.').c_str(), static_cast<long long>(n),
               static_cast<long long>(total), fps, done ? "\n" : "");
  std::fflush(stderr);
}

Result<PromText> FetchMetrics(const std::string& url) {
  STRATA_ASSIGN_OR_RETURN(auto c, http::HttpClient::Create({.base_url = url}));
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r, c->Get("/metrics"));
  STRATA_RETURN_IF_ERROR(r.ToStatus());
  return PromText::Parse(r.body);
}

Result<json> FetchEvents(const std::string& url) {
  STRATA_ASSIGN_OR_RETURN(auto c, http::HttpClient::Create({.base_url = url}));
  json all = json::array();
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    STRATA_ASSIGN_OR_RETURN(
        http::ClientResponse r,
        c->Get("/api/v1/events?limit=500" + (cursor.empty() ? "" : "&before=" + cursor)));
    STRATA_RETURN_IF_ERROR(r.ToStatus());
    STRATA_ASSIGN_OR_RETURN(json body, r.Json());
    for (const json& e : body.value("events", json::array())) all.push_back(e);
    if (!body.contains("next") || !body["next"].is_string()) break;
    cursor = body["next"].get<std::string>();
  }
  return all;
}

// Waits until every queued crop has gone through detect → identify → notify: the three services'
// counters stop moving for one second (bounded by 30 s).
void WaitSettled(const SurveilStack& stack) {
  double last = -1;
  int stable = 0;
  for (int i = 0; i < 150 && stable < 5; ++i) {
    double sum = 0;
    for (const char* svc : {"detect", "identify", "notify"}) {
      auto m = FetchMetrics(stack.Url(svc));
      if (m.ok())  // not HTTP request counters: this very polling moves them
        sum += m->Sum("strata_detect_uplink_crops_total") + m->Sum("strata_identify_results_total") +
               m->Sum("strata_notify_sightings_total");
    }
    stable = sum == last ? stable + 1 : 0;
    last = sum;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

Result<json> RunSurveilPipeline(const SurveilOptions& o, const Placement& placement) {
  if (o.video == kVtest && !std::filesystem::exists(kVtest))
    return NotFoundError(std::string(kVtest) +
                         " is missing: install it with 'apt-get install opencv-doc' or pass --video PATH");
  auto probe = vision::VideoSource::Open({.uri = o.video});
  if (!probe.ok()) return Status(probe.status().code(), "--video: " + probe.status().message());
  const double file_fps = probe->fps();
  int64_t total = 0;
  {
    cv::VideoCapture cap(o.video, cv::CAP_FFMPEG);
    total = static_cast<int64_t>(cap.get(cv::CAP_PROP_FRAME_COUNT));
    if (file_fps > 0 && o.capture_fps < file_fps)
      total = static_cast<int64_t>(total * o.capture_fps / file_fps);
    if (o.max_frames > 0 && (total <= 0 || o.max_frames < total)) total = o.max_frames;
  }
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::optional<testing::TempDir> temp;
  std::string work = o.work_dir;
  if (work.empty()) {
    temp.emplace();
    work = temp->path();
  } else {
    std::filesystem::create_directories(work, ec);
  }
  SurveilStack stack(work, self.parent_path().string());
  const std::string manifests = ManifestDir(o, self.parent_path());
  std::string broker;
  if (o.mqtt) {
    Status b = stack.StartBroker();
    if (b.ok())
      broker = stack.broker_uri();
    else
      std::fprintf(stderr, "strata surveil: no MQTT (%s)\n", b.message().c_str());
  }
  const std::string server = "server: {host: 127.0.0.1}\n";
  Status s = stack.Start("notify", server + "notify:\n" + MqttYaml(broker, "surveil-notify") +
                                       "  alert_on_person: " + (o.alert_on_person ? "true" : "false") +
                                       "\n" + ZonesYaml(o));
  if (s.ok())
    s = stack.Start("identify",
                    server + IdentifyYaml(o, manifests, stack.Url("notify"), broker));
  for (size_t i = 0; s.ok() && i < o.enrol.size(); ++i) s = Enrol(stack.Url("identify"), o.enrol[i]);
  std::string cloud = "identify", fog = "detect";  // what detect and roof send to
  if (s.ok() && placement.detect_to_cloud) {
    const WanLink& w = *placement.detect_to_cloud;
    s = stack.StartLink("wan-cloud", "identify", w.latency, w.jitter, w.bandwidth);
    cloud = "wan-cloud";
  }
  if (s.ok())
    s = stack.Start("detect", server + DetectorYaml(o, manifests) + "  cloud: {url: \"" +
                                  stack.Url(cloud) + "\"}\n");
  if (s.ok() && placement.roof_to_detect) {
    const WanLink& w = *placement.roof_to_detect;
    s = stack.StartLink("wan-fog", "detect", w.latency, w.jitter, w.bandwidth);
    fog = "wan-fog";
  }
  // Alerts as an MQTT consumer sees them.
  std::mutex mu;
  std::map<std::string, int> mqtt_alerts;
  std::unique_ptr<mqtt::MqttClient> sub;
  if (s.ok() && !broker.empty()) {
    auto c = mqtt::MqttClient::Create({.uri = broker, .client_id = "surveil-report"});
    if (c.ok()) {
      sub = std::move(c).value();
      (void)sub->Subscribe("strata/camera/+/alert", 1, [&](const mqtt::Message& m) {
        json a = json::parse(m.payload, nullptr, false);
        std::lock_guard lock(mu);
        ++mqtt_alerts[a.is_object() ? a.value("phase", "?") : "?"];
      });
      s = sub->Connect(std::chrono::seconds(5));
    }
  }
  char roof_yaml[1024];
  std::snprintf(roof_yaml, sizeof roof_yaml,
                "roof:\n  camera: %s\n  source: \"%s\"\n  fog_url: \"%s\"\n  capture_fps: %g\n"
                "  forward_fps: %g\n  realtime: %s\n  block_when_full: %s\n  queue_frames: %d\n"
                "  max_frames: %lld\n",
                o.camera.c_str(), o.video.c_str(), stack.Url(fog).c_str(), o.capture_fps,
                o.forward_fps, o.realtime ? "true" : "false", o.realtime ? "false" : "true",
                o.realtime ? 8 : 1,  // batch: a short queue, so latency is not queueing
                static_cast<long long>(o.max_frames));
  auto start = std::chrono::steady_clock::now();
  if (s.ok()) s = stack.Start("roof", server + roof_yaml);
  if (s.ok() && o.console) {
    std::string upstreams;
    for (const auto& [name, tier] : {std::pair{"roof", "roof"}, {"detect", "fog"},
                                     {"identify", "cloud"}, {"notify", "cloud"}})
      upstreams += std::string("    - {name: ") + name + ", tier: " + tier + ", node: " + tier +
                   "-1, url: \"" + stack.Url(name) + "\"}\n";
    s = stack.Start("console", server + "console:\n  upstreams:\n" + upstreams);
    if (s.ok())
      std::fprintf(stderr, "surveil: web console at %s/ while the run lasts\n",
                   stack.Url("console").c_str());
  }
  if (!s.ok()) return s;

  const bool tty = isatty(STDERR_FILENO);
  auto roof = std::move(http::HttpClient::Create({.base_url = stack.Url("roof")})).value();
  json stats;
  auto deadline = start + std::chrono::seconds(o.timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = roof->Get("/api/v1/stats");
    if (r.ok() && r->status == 200) {
      auto j = r->Json();
      if (j.ok()) stats = *j;
    }
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t n = stats.value("frames_captured", int64_t{0});
    if (tty) Progress(n, std::max(total, n), secs > 0 ? n / secs : 0, false);
    if (stats.value("drained", false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (!stats.value("drained", false))
    return DeadlineExceededError("the run did not finish within --timeout");
  WaitSettled(stack);
  SurveilInputs in{.video = o.video,
                   .video_fps = file_fps,
                   .capture_fps = o.capture_fps,
                   .forward_fps = o.forward_fps,
                   .wall_seconds =
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                           .count(),
                   .roof_stats = stats,
                   .mqtt = !broker.empty()};
  if (tty) {
    int64_t n = stats.value("frames_captured", int64_t{0});
    Progress(n, n, n / in.wall_seconds, true);
  }
  for (const char* svc : {"roof", "detect", "identify", "notify"}) {
    auto m = FetchMetrics(stack.Url(svc));
    if (!m.ok())
      return UnavailableError(std::string("metrics of strata-") + svc + ": " + m.status().message());
    in.metrics[svc] = std::move(m).value();
  }
  auto events = FetchEvents(stack.Url("notify"));
  if (!events.ok())
    return UnavailableError("events of strata-notify: " + events.status().message());
  in.events = std::move(events).value();
  {
    std::lock_guard lock(mu);
    in.mqtt_alerts = mqtt_alerts;
  }
  if (sub) sub->Disconnect();
  json report = BuildSurveilReport(in);
  report["alerts"] = in.events;
  return report;
}

}  // namespace strata::cli
