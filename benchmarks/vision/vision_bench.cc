// Vision benchmarks. Everything runs on ONE OpenCV thread (cv::setNumThreads(1)) so numbers are
// per core. After the Google Benchmark run, the python3-opencv peer of the frame-change algorithm
// (benchmarks/peers/vision_frame_change.py) runs on the same frames and the ratio is printed.
//   vision_bench [--benchmark_filter=...] [--no_peer]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/videoio.hpp>
#include <string>

#include "strata/core/rng.h"
#include "strata/vision/detector.h"
#include "strata/vision/frame_change.h"
#include "strata/vision/image_io.h"

namespace strata::vision {
namespace {

const char* kVtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

const std::vector<cv::Mat>& Frames() {
  static const std::vector<cv::Mat> frames = [] {
    std::vector<cv::Mat> v;
    cv::VideoCapture cap(kVtest, cv::CAP_FFMPEG);
    cv::Mat f;
    while (v.size() < 100 && cap.read(f)) v.push_back(f.clone());
    if (v.empty()) {  // no opencv-doc: synthetic 768x576 noise frames
      cv::RNG rng(1);
      for (int i = 0; i < 8; ++i) {
        cv::Mat m(576, 768, CV_8UC3);
        rng.fill(m, cv::RNG::UNIFORM, 0, 255);
        v.push_back(m);
      }
    }
    return v;
  }();
  return frames;
}

std::vector<std::string> ModelDirs() {
  return {std::string(STRATA_SOURCE_DIR) + "/../shared/assets/models"};
}

void BM_FrameChange(benchmark::State& state, std::string method) {
  cv::setNumThreads(1);
  FrameChangeConfig c;
  c.method = method;
  auto gate = FrameChange::Create(c);
  if (!gate.ok()) {
    state.SkipWithError(gate.status().ToString().c_str());
    return;
  }
  const auto& frames = Frames();
  size_t i = 0, changed = 0;
  for (auto _ : state) {
    auto r = gate->Process(frames[i % frames.size()], FromUnixSeconds(0.1 * i));
    changed += r.ok() && r->changed;
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["fps"] = benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
  state.counters["changed"] = static_cast<double>(changed) / std::max<size_t>(1, i);
}
BENCHMARK_CAPTURE(BM_FrameChange, background, std::string("background"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FrameChange, consecutive, std::string("consecutive"))
    ->Unit(benchmark::kMicrosecond);

void BM_Detector(benchmark::State& state, std::string backend, std::string manifest, int size) {
  cv::setNumThreads(1);
  DetectorConfig c;
  c.backend = backend;
  if (!manifest.empty())
    c.manifest = std::string(STRATA_SOURCE_DIR) + "/configs/models/" + manifest + ".yaml";
  c.model_dirs = ModelDirs();
  c.input_size = size;
  auto det = CreateDetector(c);
  if (!det.ok()) {
    state.SkipWithError(det.status().ToString().c_str());
    return;
  }
  const auto& frames = Frames();
  size_t i = 0, persons = 0;
  for (auto _ : state) {
    auto r = (*det)->Detect(frames[(i * 7) % frames.size()]);
    persons += r.ok() ? r->size() : 0;
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
  state.counters["persons/frame"] = static_cast<double>(persons) / std::max<size_t>(1, i);
}
BENCHMARK_CAPTURE(BM_Detector, hog, std::string("hog"), std::string(), 0)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Detector, yolox_nano_416, std::string("dnn"), std::string("yolox_nano"), 0)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Detector, yolox_nano_320, std::string("dnn"), std::string("yolox_nano"), 320)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Detector, yolo_fastest_coco, std::string("dnn"),
                  std::string("yolo_fastest_coco"), 0)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Detector, yolo_fastest_xl, std::string("dnn"), std::string("yolo_fastest_xl"),
                  0)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);
BENCHMARK_CAPTURE(BM_Detector, yolo_fastest_body, std::string("dnn"),
                  std::string("yolo_fastest_body"), 0)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);

std::pair<std::vector<cv::Rect2f>, std::vector<float>> RandomBoxes(int n) {
  Rng rng(5);
  std::vector<cv::Rect2f> boxes;
  std::vector<float> scores;
  for (int i = 0; i < n; ++i) {
    boxes.emplace_back(
        static_cast<float>(rng.Uniform(0, 700)), static_cast<float>(rng.Uniform(0, 500)),
        static_cast<float>(rng.Uniform(20, 120)), static_cast<float>(rng.Uniform(40, 200)));
    scores.push_back(static_cast<float>(rng.Uniform()));
  }
  return {boxes, scores};
}

void BM_Nms(benchmark::State& state) {
  auto [boxes, scores] = RandomBoxes(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(Nms(boxes, scores, 0.3f, 0.45f));
}
BENCHMARK(BM_Nms)->Arg(100)->Arg(1000);

void BM_CvNmsBoxes(benchmark::State& state) {
  auto [boxes, scores] = RandomBoxes(static_cast<int>(state.range(0)));
  std::vector<cv::Rect2d> d(boxes.begin(), boxes.end());
  std::vector<int> keep;
  for (auto _ : state) {
    cv::dnn::NMSBoxes(d, scores, 0.3f, 0.45f, keep);
    benchmark::DoNotOptimize(keep);
  }
}
BENCHMARK(BM_CvNmsBoxes)->Arg(100)->Arg(1000);

void BM_DecodeJpeg(benchmark::State& state) {
  cv::setNumThreads(1);
  auto jpeg = EncodeJpeg(Frames()[0], 85);
  for (auto _ : state) benchmark::DoNotOptimize(DecodeJpeg(*jpeg, {}));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * jpeg->size()));
}
BENCHMARK(BM_DecodeJpeg)->Unit(benchmark::kMicrosecond);

// Keeps fps of the frame-change runs for the ratio line.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("fps");
      if (it != r.counters.end()) fps[r.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> fps;
};

double RunPeer(const std::string& method) {
  std::string script = std::string(STRATA_SOURCE_DIR) + "/benchmarks/peers/vision_frame_change.py";
  if (!std::filesystem::exists("/usr/bin/python3")) return 0;
  std::string cmd = "/usr/bin/python3 " + script + " --method " + method + " --seconds 3";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  char buf[512];
  std::string out;
  while (fgets(buf, sizeof(buf), p)) out += buf;
  pclose(p);
  std::cout << "peer: " << out;
  auto pos = out.find("\"fps\": ");
  return pos == std::string::npos ? 0 : std::stod(out.substr(pos + 7));
}

}  // namespace
}  // namespace strata::vision

int main(int argc, char** argv) {
  bool peer = true;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--no_peer") {
      peer = false;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  strata::vision::Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (!peer) return 0;
  for (const char* method : {"background", "consecutive"}) {
    auto it = reporter.fps.find(std::string("BM_FrameChange/") + method);
    if (it == reporter.fps.end()) continue;
    double py = strata::vision::RunPeer(method);
    std::printf(
        "frame_change %-11s 768x576, 1 core: strata %.0f fps, python3-opencv %.0f fps, "
        "ratio %.2fx (floor 1500 fps/core: %s)\n",
        method, it->second, py, py > 0 ? it->second / py : 0.0,
        it->second >= 1500 ? "met" : "NOT met");
  }
  return 0;
}
