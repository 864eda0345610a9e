// Shared pieces of `strata segment replay|report`: loading an event file in any supported format,
// running events through an in-process Segmenter, and the segment table (text and JSON).
// Thread-safety: plain functions and values; one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/segment/event.h"
#include "strata/segment/segmenter.h"
#include "verbs.h"

namespace strata::cli::seg {

inline constexpr size_t kMaxListedErrors = 5;

struct RowError {
  int64_t line = 0;
  std::string reason;
};

struct LoadedEvents {
  std::string path, format;            // format: uci | cdnow | ndjson
  std::vector<segment::Event> events;  // sorted by time
  int64_t rows = 0;                    // data rows / non-blank lines seen
  int64_t skipped_no_customer = 0;
  int64_t parse_errors = 0;
  std::vector<RowError> first_errors;  // at most kMaxListedErrors
};

// format: auto | uci | cdnow | ndjson. NotFound when the file cannot be opened; InvalidArgument
// when the format cannot be told or the file is not in it (bad header, no valid line at all).
Result<LoadedEvents> LoadEvents(const std::string& path, const std::string& format);

// Exit code for a LoadEvents failure: 1 missing/unreadable, 2 wrong input.
int LoadFailureExitCode(const Status& s);

// One row of the segment table.
struct SegmentRow {
  uint32_t id = 0;
  std::string label;
  int64_t customers = -1;  // -1: unknown (url mode reports weights only)
  double weight = 0;
  std::vector<std::pair<std::string, double>> top;  // (feature, z)
};

struct SizeSample {
  int64_t events = 0;                               // events processed when sampled
  std::vector<std::pair<uint32_t, int64_t>> sizes;  // (segment id, customers)
};

struct InProcessOptions {
  double speed = 0;          // 0 = as fast as possible, F = F x real time
  double max_gap_s = 1.0;    // cap on one sleep in real-time mode
  int64_t sample_every = 0;  // 0 = no size samples
  int train_batches = 64;    // idle mini-batches at the end (as the service does after restart)
  bool progress = false;     // on stderr (callers pass isatty(2))
};

struct InProcessRun {
  std::unique_ptr<segment::Segmenter> segmenter;
  int64_t accepted = 0, rejected = 0;
  std::vector<RowError> first_rejections;
  std::vector<SizeSample> samples;
  std::vector<int> assignment;  // per profile index, model row (-1 without model)
  double seconds = 0;
};

// Feeds `events` to a fresh default Segmenter. Errors only from Segmenter creation/training.
Result<InProcessRun> RunInProcess(const std::vector<segment::Event>& events,
                                  const InProcessOptions& options);

// The table of the segmenter's current model (customers counted from run.assignment).
std::vector<SegmentRow> TableOf(const InProcessRun& run);
std::vector<SegmentRow> TableFromServiceJson(const nlohmann::json& segments);

void PrintTable(const std::vector<SegmentRow>& rows);
nlohmann::json TableJson(const std::vector<SegmentRow>& rows);
// key: "line" (file line) or "event" (1-based position in time order).
nlohmann::json ErrorsJson(const std::vector<RowError>& errors, const char* key = "line");

// Real-time pacing: event i is due at wall offset sum(min(gap_j / speed, max_gap_s)) after the
// first event. Speed 0 = never wait.
class Pacer {
 public:
  Pacer(double speed, double max_gap_s);
  // Seconds until the event at `t_s` (unix seconds; call in time order) is due; <= 0 = now.
  double WaitFor(double t_s);
  void SleepFor(double seconds) const;

 private:
  double speed_, max_gap_s_, due_ = 0, last_t_ = 0;
  bool first_ = true;
  std::chrono::steady_clock::time_point start_;
};
// "\r<label> 42% (n/total events)" on stderr when the percentage changes; `done` ends the line.
void Progress(const char* label, int64_t n, int64_t total, bool done = false);

// Subcommands of `strata segment` defined in their own files.
void AddReplay(CLI::App& segment, Context& ctx);  // segment_replay.cc
void AddReport(CLI::App& segment, Context& ctx);  // segment_report.cc

}  // namespace strata::cli::seg
