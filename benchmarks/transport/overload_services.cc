// http_overload_bench --service detect|ingest|lookup|all: overload of real Strata endpoints.
//
// Each endpoint runs in its real binary (build/bin/strata-detect, strata-segment) on port 0:
//   detect: POST /api/v1/frames, one 768x576 vtest.avi JPEG (Debian opencv-doc), 4 cameras,
//           backend dnn with YOLO-fastest body (../shared/assets/models), 2 instances, 2 workers;
//   ingest: POST /api/v1/events, 10 NDJSON events per request over 2000 customers, 2 workers;
//   lookup: GET /api/v1/customers/{id}/segment over the same customers, 2 workers.
// Procedure: warm up; service time S = p50 of one sequential client (2 s); sustainable rate R =
// closed loop with 8 clients (3 s); max_queue = (p99 target − S) x R − (workers − parallelism),
// at least 1 (requests waiting inside a worker for the pipeline count as queue too); restart with
// that max_queue; open loop (overload_epoll.h: one thread, up to 480 keep-alive connections) at
// 1x and 2x R for `seconds` each. Prints one row per load.
#include <signal.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "overload_epoll.h"
#include "strata/testing/fixtures.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;

const std::string kSource = STRATA_SOURCE_DIR;
const std::string kBin = std::string(STRATA_BINARY_DIR) + "/bin/";

struct Endpoint {
  std::string name, binary, route;
  double p99_target_ms;
  int workers, parallelism;
  std::function<std::string(int max_queue)> config;  // YAML
  std::function<bool(int port)> warm_up;
  RequestFn request;
};

class Service {
 public:
  Service(const Endpoint& ep, const testing::TempDir& dir, int max_queue) {
    const std::string cfg = dir.File(ep.name + ".yaml");
    std::ofstream(cfg) << ep.config(max_queue);
    const std::string port_file = dir.File("port-" + std::to_string(max_queue));
    std::filesystem::remove(port_file);
    std::fflush(stdout);  // the child must not inherit (and later print) buffered output
    std::vector<std::string> argv = {kBin + ep.binary, "--config", cfg, "--port", "0",
                                     "--port-file", port_file, "--data-dir", dir.path(),
                                     "--log-level", "warn"};
    auto p = testing::Subprocess::Start(argv);
    if (!p.ok()) return;
    proc_ = std::move(p).value();
    auto port = testing::WaitForPortFile(port_file, 60s);
    if (port.ok()) port_ = *port;
    else std::printf("%s did not start: %s\n", ep.binary.c_str(), proc_->Stderr().c_str());
  }
  ~Service() {
    if (!proc_) return;
    proc_->Signal(SIGTERM);
    if (!proc_->Wait(15s).ok()) proc_->Signal(SIGKILL);
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<testing::Subprocess> proc_;
  int port_ = 0;
};

std::string Post(const std::string& path, const std::string& type, const std::string& body,
                 const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: bench\r\nContent-Type: " + type + "\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

bool Send(int port, const std::string& req, int want = 200) {
  RawHttp c(port);
  bool closes = false;
  return c.Connect() && c.Send(req) && c.Read(10s, &closes) == want;
}

std::string VtestJpeg() {
  cv::VideoCapture cap("/usr/share/doc/opencv-doc/examples/data/vtest.avi", cv::CAP_FFMPEG);
  cv::Mat frame;
  for (int i = 0; i <= 200 && cap.isOpened(); ++i)
    if (!cap.read(frame)) break;
  if (frame.empty()) return "";
  std::vector<uint8_t> buf;
  cv::imencode(".jpg", frame, buf, {cv::IMWRITE_JPEG_QUALITY, 90});
  return std::string(buf.begin(), buf.end());
}

std::string Events(int i, int per_request) {
  static const long base = static_cast<long>(std::time(nullptr)) - 86400;
  static const char* kTypes[] = {"purchase", "view", "cart", "view"};
  std::string body;
  for (int j = 0; j < per_request; ++j) {
    int n = i * per_request + j;
    char line[256];
    std::snprintf(line, sizeof line,
                  "{\"customer_id\":\"c%d\",\"ts\":%ld,\"type\":\"%s\",\"amount\":%d.5,"
                  "\"quantity\":1,\"category\":\"cat%d\",\"channel\":\"%s\"}\n",
                  n % 2000, base + n % 80000, kTypes[n % 4], 5 + n % 90, n % 7,
                  n % 3 ? "store" : "online");
    body += line;
  }
  return body;
}

std::vector<Endpoint> Endpoints(const std::string& jpeg) {
  // OVERLOAD_SERVER / OVERLOAD_SEGMENT: extra YAML lines for `server:` / `segment:` (indented),
  // e.g. OVERLOAD_SERVER=$'  rate_limit: {requests_per_second: 1000, burst: 100}\n'.
  auto server = [](int workers, int max_queue) {
    const char* extra = std::getenv("OVERLOAD_SERVER");
    return "server:\n  workers: " + std::to_string(workers) + "\n  max_queue: " +
           std::to_string(max_queue) + "\n" + (extra ? extra : "");
  };
  Endpoint detect{
      .name = "detect",
      .binary = "strata-detect",
      .route = "POST /api/v1/frames (YOLO-fastest body)",
      .p99_target_ms = 300,
      .workers = 2,
      .parallelism = 2,
      .config =
          [server](int q) {
            return server(2, q) + "detect:\n  backend: dnn\n  manifest: " + kSource +
                   "/configs/models/yolo_fastest_body.yaml\n  model_dirs: [" + kSource +
                   "/../shared/assets/models]\n  instances: 2\n  threads: 1\n";
          },
      .warm_up =
          [jpeg](int port) {
            bool ok = true;
            for (int i = 0; i < 4; ++i)
              ok &= Send(port, Post("/api/v1/frames", "image/jpeg", jpeg,
                                    "X-Strata-Camera: cam-" + std::to_string(i) + "\r\n"));
            return ok;
          },
      .request =
          [jpeg](int i) {
            return Post("/api/v1/frames", "image/jpeg", jpeg,
                        "X-Strata-Camera: cam-" + std::to_string(i % 4) + "\r\n");
          }};
  auto segment_config = [server](int q) {
    std::string extra = std::getenv("OVERLOAD_SEGMENT") ? std::getenv("OVERLOAD_SEGMENT") : "";
    return server(2, q) + "segment:\n  node: bench\n" + extra;
  };
  auto segment_warm_up = [](int port) {
    // 2000 customers, then until the model is seeded (lookup answers 200), bounded.
    for (int i = 0; i < 100; ++i) {
      if (!Send(port, Post("/api/v1/events", "application/x-ndjson", Events(i, 100)))) return false;
      if (i >= 20 && Send(port, "GET /api/v1/customers/c1/segment HTTP/1.1\r\nHost: b\r\n\r\n"))
        return true;
    }
    return false;
  };
  Endpoint ingest{.name = "ingest",
                  .binary = "strata-segment",
                  .route = "POST /api/v1/events (10 events)",
                  .p99_target_ms = 50,
                  .workers = 2,
                  .parallelism = 1,
                  .config = segment_config,
                  .warm_up = segment_warm_up,
                  .request = [](int i) {
                    return Post("/api/v1/events", "application/x-ndjson", Events(i, 10));
                  }};
  Endpoint lookup{.name = "lookup",
                  .binary = "strata-segment",
                  .route = "GET /api/v1/customers/{id}/segment",
                  .p99_target_ms = 5,
                  .workers = 2,
                  .parallelism = 1,
                  .config = segment_config,
                  .warm_up = segment_warm_up,
                  .request = [](int i) {
                    return "GET /api/v1/customers/c" + std::to_string((int64_t{i} * 7919) % 2000) +
                           "/segment HTTP/1.1\r\nHost: bench\r\n\r\n";
                  }};
  return {detect, ingest, lookup};
}

void Run(const Endpoint& ep, double seconds) {
  testing::TempDir dir;
  double service_ms = 0, rate = 0;
  {
    Service svc(ep, dir, 64);
    if (!svc.port() || !ep.warm_up(svc.port())) {
      std::printf("%s: cannot start or warm up %s\n", ep.name.c_str(), ep.binary.c_str());
      return;
    }
    ClosedResult one = ClosedLoop(svc.port(), ep.request, 1, 2000ms);
    ClosedResult many = ClosedLoop(svc.port(), ep.request, 8, 3000ms);
    rate = many.rate;
    // Service time under load: the 1-client latency, or the pipeline's share of a second.
    service_ms = std::max(one.p50, rate > 0 ? 1000.0 * ep.parallelism / rate : 0.0);
    std::printf("%s %s: 1 client p50 %.2f ms; sustainable %.0f req/s (8 clients, p50 %.1f ms, "
                "%d failed)\n",
                ep.name.c_str(), ep.route.c_str(),
                one.p50, rate, many.p50, many.failed);
  }
  if (rate <= 0) return;
  const int extra = ep.workers - ep.parallelism;
  const int max_queue = std::max(
      1, static_cast<int>(std::floor((ep.p99_target_ms - service_ms) / 1000.0 * rate)) - extra);
  std::printf("%s: p99 target %.0f ms → max_queue = (%.0f − %.2f) ms x %.0f/s − %d = %d\n",
              ep.name.c_str(), ep.p99_target_ms, ep.p99_target_ms, service_ms, rate, extra,
              max_queue);
  Service svc(ep, dir, max_queue);
  if (!svc.port() || !ep.warm_up(svc.port())) return;
  std::printf("%-7s %-4s %9s %7s %9s %9s %9s %7s %7s %9s %9s %8s %6s\n", "target", "load",
              "offered/s", "sent", "ok/s", "ok p50ms", "ok p99ms", "503", "429", "rej p50ms",
              "rej p99ms", "timeouts", "errors");
  for (double mult : {1.0, 2.0}) {
    double offered = rate * mult;
    int total = std::max(1, static_cast<int>(offered * seconds));
    // Up to 480 connections (below the server's max_connections 512): in flight can reach
    // workers + max_queue before the server rejects.
    OpenLoopResult r = EpollOpenLoop(svc.port(), offered, total, 480, ep.request);
    std::printf("%-7s %-4s %9.0f %7d %9.0f %9.1f %9.1f %7d %7d %9.2f %9.2f %8d %6d\n",
                ep.name.c_str(), mult == 1.0 ? "1x" : "2x", offered, r.sent, r.achieved, r.ok_p50,
                r.ok_p99, r.r503, r.r429, r.rej_p50, r.rej_p99, r.timeouts, r.errors);
    std::fflush(stdout);
    std::this_thread::sleep_for(500ms);
  }
}

}  // namespace

void ServiceOverload(const std::string& which, double seconds) {
  std::string jpeg = VtestJpeg();
  std::printf("== service overload (open loop %.0f s per load; ok latency from the scheduled send, "
              "rejection latency from the actual send; timeout 5 s)\n",
              seconds);
  for (const Endpoint& ep : Endpoints(jpeg)) {
    if (which != "all" && which != ep.name) continue;
    if (ep.name == "detect" && jpeg.empty()) {
      std::printf("detect: skipped (vtest.avi from Debian opencv-doc is absent)\n");
      continue;
    }
    Run(ep, seconds);
  }
}

}  // namespace strata::bench
