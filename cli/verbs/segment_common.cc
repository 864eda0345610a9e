#include "segment_common.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "strata/codec/event_json.h"
#include "strata/segment/csv_sources.h"
#include "verbs.h"

namespace strata::cli::seg {
namespace {

std::string FirstLine(std::istream& in) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) return line;
  }
  return "";
}

Result<std::string> DetectFormat(const std::string& path, std::istream& in) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".ndjson" || ext == ".jsonl") return std::string("ndjson");
  std::string line = FirstLine(in);
  if (line.empty()) return InvalidArgumentError(path + ": empty file; nothing to replay");
  size_t start = line.find_first_not_of(" \t");
  if (line[start] == '{') return std::string("ndjson");
  if (line.find("InvoiceNo") != std::string::npos) return std::string("uci");
  std::istringstream fields(line);
  std::string a, b, c, d, extra;
  fields >> a >> b >> c >> d;
  if (!d.empty() && !(fields >> extra) && a.find_first_not_of("0123456789") == std::string::npos &&
      b.size() == 8 && b.find_first_not_of("0123456789") == std::string::npos)
    return std::string("cdnow");
  if (line.size() > 60) line = line.substr(0, 60) + "...";
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return InvalidArgumentError(path + ": cannot tell the format from its first line ('" + line +
                              "'); pass --format uci|cdnow|ndjson");
}

void TakeStats(const segment::ReadStats& s, LoadedEvents* out) {
  out->rows = s.rows;
  out->skipped_no_customer = s.skipped_no_customer;
  out->parse_errors = static_cast<int64_t>(s.errors.size());
  for (size_t i = 0; i < s.errors.size() && i < kMaxListedErrors; ++i)
    out->first_errors.push_back({s.errors[i].line, s.errors[i].reason});
}

Result<LoadedEvents> LoadNdjson(const std::string& path, LoadedEvents out) {
  std::ifstream in(path, std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return NotFoundError("cannot read " + path);
  codec::EventBatch b = codec::DecodeEventsNdjson(body, static_cast<size_t>(-1) / 2);
  out.rows = static_cast<int64_t>(b.events.size() + b.errors.size());
  out.parse_errors = static_cast<int64_t>(b.errors.size());
  for (size_t i = 0; i < b.errors.size() && i < kMaxListedErrors; ++i)
    out.first_errors.push_back({static_cast<int64_t>(b.errors[i].line), b.errors[i].reason});
  out.events = std::move(b.events);
  return out;
}

}  // namespace

Result<LoadedEvents> LoadEvents(const std::string& path, const std::string& format) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgumentError(path + ": is a directory, expected an event file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path);
  LoadedEvents out;
  out.path = path;
  out.format = format;
  if (format == "auto") {
    STRATA_ASSIGN_OR_RETURN(out.format, DetectFormat(path, in));
  }
  in.close();
  if (out.format == "ndjson") {
    STRATA_ASSIGN_OR_RETURN(out, LoadNdjson(path, std::move(out)));
  } else {
    auto read =
        out.format == "uci" ? segment::ReadOnlineRetailFile(path) : segment::ReadCdnowFile(path);
    if (!read.ok()) return read.status();
    TakeStats(read->stats, &out);
    out.events = std::move(read->events);
  }
  if (out.events.empty() && out.parse_errors > 0) {
    std::string first = out.first_errors.empty()
                            ? ""
                            : ": line " + std::to_string(out.first_errors[0].line) + ": " +
                                  out.first_errors[0].reason;
    return InvalidArgumentError(path + ": no valid " + out.format + " row in " +
                                std::to_string(out.rows) + first);
  }
  segment::SortEventsByTime(out.events);
  return out;
}

int LoadFailureExitCode(const Status& s) { return s.code() == StatusCode::kNotFound ? 1 : 2; }

Pacer::Pacer(double speed, double max_gap_s)
    : speed_(speed), max_gap_s_(max_gap_s), start_(std::chrono::steady_clock::now()) {}

double Pacer::WaitFor(double t_s) {
  if (speed_ <= 0) return 0;
  if (first_) {
    first_ = false;
    start_ = std::chrono::steady_clock::now();
  } else if (t_s > last_t_) {
    due_ += std::min((t_s - last_t_) / speed_, max_gap_s_);
  }
  last_t_ = std::max(last_t_, t_s);
  return due_ - std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Pacer::SleepFor(double seconds) const {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

void Progress(const char* label, int64_t n, int64_t total, bool done) {
  static int last_percent = -1;
  if (total <= 0) return;
  const int percent = static_cast<int>(100 * std::min(n, total) / total);
  if (!done && percent == last_percent) return;
  last_percent = done ? -1 : percent;
  std::fprintf(stderr, "\r%s %3d%% (%lld/%lld events)%s", label, percent, static_cast<long long>(n),
               static_cast<long long>(total), done ? "\n" : "");
  std::fflush(stderr);
}

namespace {

void Sample(const segment::Segmenter& s, std::vector<int>* assignment) {
  assignment->assign(s.profiles().size(), -1);
  const segment::Assigner* a = s.assigner();
  if (!a || s.profiles().size() == 0) return;
  std::vector<segment::Assignment> out;
  if (!a->AssignBatch(s.FeatureMatrix(s.newest()), &out).ok()) return;
  for (size_t i = 0; i < out.size(); ++i) (*assignment)[i] = out[i].index;
}

SizeSample Sizes(const InProcessRun& run, int64_t events) {
  SizeSample sample{.events = events};
  const segment::Assigner* a = run.segmenter->assigner();
  if (!a) return sample;
  std::vector<int64_t> counts(a->k(), 0);
  for (int j : run.assignment)
    if (j >= 0) ++counts[j];
  for (int j = 0; j < a->k(); ++j) sample.sizes.emplace_back(a->model().ids[j], counts[j]);
  return sample;
}

}  // namespace

Result<InProcessRun> RunInProcess(const std::vector<segment::Event>& events,
                                  const InProcessOptions& o) {
  InProcessRun run;
  STRATA_ASSIGN_OR_RETURN(segment::Segmenter s, segment::Segmenter::Create({}));
  run.segmenter = std::make_unique<segment::Segmenter>(std::move(s));
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(events.size());
  Pacer pacer(o.speed, o.max_gap_s);
  for (int64_t i = 0; i < n; ++i) {
    pacer.SleepFor(pacer.WaitFor(ToUnixSeconds(events[i].timestamp)));
    auto r = run.segmenter->Process(events[i]);
    if (r.ok()) {
      ++run.accepted;
    } else if (++run.rejected <= static_cast<int64_t>(kMaxListedErrors)) {
      run.first_rejections.push_back({i + 1, r.status().message()});
    }
    if (o.sample_every > 0 && (i + 1) % o.sample_every == 0 && i + 1 < n) {
      Sample(*run.segmenter, &run.assignment);
      run.samples.push_back(Sizes(run, i + 1));
    }
    if (o.progress) Progress("replay", i + 1, n);
  }
  if (o.progress) Progress("replay", n, n, true);
  if (o.train_batches > 0 && run.segmenter->profiles().size() > 0)
    STRATA_RETURN_IF_ERROR(run.segmenter->Train(run.segmenter->newest(), o.train_batches));
  Sample(*run.segmenter, &run.assignment);
  if (o.sample_every > 0) run.samples.push_back(Sizes(run, n));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

std::vector<SegmentRow> TableOf(const InProcessRun& run) {
  std::vector<SegmentRow> rows;
  const segment::Assigner* a = run.segmenter->assigner();
  if (!a) return rows;
  std::vector<int64_t> counts(a->k(), 0);
  for (int j : run.assignment)
    if (j >= 0) ++counts[j];
  for (int j = 0; j < a->k(); ++j) {
    SegmentRow row{.id = a->model().ids[j],
                   .label = a->Label(j),
                   .customers = counts[j],
                   .weight = a->model().weights[j]};
    for (const auto& f : a->Explain(j)) row.top.emplace_back(f.name, f.z);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<SegmentRow> TableFromServiceJson(const nlohmann::json& segments) {
  std::vector<SegmentRow> rows;
  for (const auto& s : segments) {
    SegmentRow row{.id = s.value("id", 0u),
                   .label = s.value("label", std::string()),
                   .weight = s.value("weight", 0.0)};
    if (s.contains("explanation") && s["explanation"].is_array())
      for (const auto& f : s["explanation"])
        row.top.emplace_back(f.value("feature", std::string()), f.value("z", 0.0));
    rows.push_back(std::move(row));
  }
  return rows;
}

void PrintTable(const std::vector<SegmentRow>& rows) {
  if (rows.empty()) {
    std::printf("no segments yet: the model is still warming up\n");
    return;
  }
  std::printf("%4s  %-26s %9s %10s  %s\n", "id", "label", "customers", "weight",
              "top features (z)");
  for (const auto& r : rows) {
    std::string top;
    for (const auto& [name, z] : r.top) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%s%s %+.1f", top.empty() ? "" : ", ", name.c_str(), z);
      top += buf;
    }
    std::string customers = r.customers >= 0 ? std::to_string(r.customers) : "-";
    std::printf("%4u  %-26s %9s %10.1f  %s\n", r.id, r.label.c_str(), customers.c_str(), r.weight,
                top.c_str());
  }
}

nlohmann::json TableJson(const std::vector<SegmentRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [name, z] : r.top) top.push_back({{"feature", name}, {"z", z}});
    nlohmann::json row = {
        {"id", r.id}, {"label", r.label}, {"weight", r.weight}, {"top_features", top}};
    row["customers"] = r.customers >= 0 ? nlohmann::json(r.customers) : nlohmann::json(nullptr);
    out.push_back(row);
  }
  return out;
}

nlohmann::json ErrorsJson(const std::vector<RowError>& errors, const char* key) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : errors) out.push_back({{key, e.line}, {"reason", e.reason}});
  return out;
}

}  // namespace strata::cli::seg
