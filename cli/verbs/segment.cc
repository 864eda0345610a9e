// strata segment generate|replay|report|serve: customer micro-segmentation from the command line.
// This file registers the verb and holds `generate` (synthetic events with ground truth) and
// `serve` (execs the sibling strata-segment binary); replay and report live in
// segment_replay.cc and segment_report.cc.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "segment_common.h"
#include "strata/codec/event_json.h"
#include "strata/segment/generator.h"
#include "verbs.h"

namespace strata::cli {
namespace {

using segment::DriftStep;
using segment::SegmentSpec;

constexpr const char* kDriftHelp =
    "Scheduled drift, repeatable. KIND:SEG@EVENT[:FRACTION] with KIND\n"
    "  grow    move FRACTION (default 0.1) of all customers into segment SEG\n"
    "  shrink  move FRACTION (default 0.5) of SEG's customers to other segments\n"
    "  appear  segment SEG (0..7; SEG >= k adds a default behaviour) starts empty and takes\n"
    "          FRACTION (default 0.15) of all customers at EVENT\n"
    "  move    SEG changes behaviour: move:SEG@EVENT shifts it (4x basket, 1.5x activity,\n"
    "          peak hour +8 h, next channel, a new category); move:SEG@EVENT=T copies default\n"
    "          behaviour T (0..7)\n"
    "e.g. --drift move:2@60000 --drift grow:0@100000:0.2 --drift appear:5@30000";

struct GenerateOptions {
  int customers = 5000;
  int64_t events = 200000;
  int k = 5;
  double noise = 0.05;
  double events_per_day = 2000;
  uint64_t seed = 1;
  std::vector<std::string> drift;
  std::string out, truth;
  bool json = false;
};

// Parses one --drift SPEC; `segments` is extended/adjusted for appear and used for move shifts.
Result<DriftStep> ParseDrift(const std::string& spec, std::vector<SegmentSpec>* segments) {
  const std::string bad = "--drift '" + spec + "': ";
  size_t colon = spec.find(':'), at = spec.find('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon)
    return InvalidArgumentError(bad + "expected KIND:SEG@EVENT[:FRACTION] (see --help)");
  DriftStep d;
  const std::string kind = spec.substr(0, colon);
  const std::map<std::string, std::pair<DriftStep::Kind, double>> kinds = {
      {"grow", {DriftStep::Kind::kGrow, 0.1}},
      {"shrink", {DriftStep::Kind::kShrink, 0.5}},
      {"appear", {DriftStep::Kind::kAppear, 0.15}},
      {"move", {DriftStep::Kind::kMove, 0}}};
  auto k = kinds.find(kind);
  if (k == kinds.end())
    return InvalidArgumentError(bad + "unknown kind '" + kind + "' (grow|shrink|appear|move)");
  d.kind = k->second.first;
  d.fraction = k->second.second;
  std::string rest = spec.substr(at + 1), tail;
  size_t sep = rest.find_first_of(":=");
  if (sep != std::string::npos) {
    if ((rest[sep] == '=') != (d.kind == DriftStep::Kind::kMove))
      return InvalidArgumentError(bad + "'=T' is for move, ':FRACTION' for grow/shrink/appear");
    tail = rest.substr(sep + 1);
    rest = rest.substr(0, sep);
  }
  int template_index = -1;
  try {
    size_t pos = 0;
    d.segment = std::stoi(spec.substr(colon + 1, at - colon - 1), &pos);
    if (pos != at - colon - 1) throw std::invalid_argument("seg");
    d.at_event = std::stoll(rest, &pos);
    if (pos != rest.size()) throw std::invalid_argument("event");
    if (!tail.empty() && d.kind == DriftStep::Kind::kMove)
      template_index = std::stoi(tail, &pos);
    else if (!tail.empty())
      d.fraction = std::stod(tail, &pos);
    if (pos != tail.size() && !tail.empty()) throw std::invalid_argument("tail");
  } catch (const std::exception&) {
    return InvalidArgumentError(bad + "SEG and EVENT must be integers, FRACTION a number");
  }
  if (d.segment < 0 || d.segment > 7) return InvalidArgumentError(bad + "SEG must be in 0..7");
  const std::vector<SegmentSpec> defaults = segment::DefaultSegments(8);
  if (d.kind == DriftStep::Kind::kAppear) {
    while (static_cast<int>(segments->size()) <= d.segment) {
      segments->push_back(defaults[segments->size()]);
      segments->back().share = 0;
    }
    (*segments)[d.segment].share = 0;
  } else if (d.kind == DriftStep::Kind::kMove) {
    if (template_index > 7) return InvalidArgumentError(bad + "T must be in 0..7");
    if (template_index >= 0) {
      d.behaviour = defaults[template_index];
    } else {
      d.behaviour = defaults[d.segment];
      d.behaviour.basket_mean *= 4;
      d.behaviour.activity *= 1.5;
      d.behaviour.peak_hour = std::fmod(d.behaviour.peak_hour + 8, 24);
      d.behaviour.channel = (d.behaviour.channel + 1) % 3;
      d.behaviour.category += 8;
    }
  }
  return d;
}

int Generate(const GenerateOptions& o) {
  segment::Generator::Config config{.customers = o.customers,
                                    .events = o.events,
                                    .k = o.k,
                                    .noise = o.noise,
                                    .events_per_day = o.events_per_day,
                                    .seed = o.seed};
  config.segments = segment::DefaultSegments(o.k);
  for (const std::string& spec : o.drift) {
    auto d = ParseDrift(spec, &config.segments);
    if (!d.ok()) return Fail(d.status().message(), 2);
    config.drift.push_back(*d);
  }
  auto gen = segment::Generator::Create(config);
  if (!gen.ok()) return Fail("generate: " + gen.status().message(), 2);
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  if (!out) return Fail("cannot write " + o.out + ": " + std::strerror(errno), 1);
  const bool progress = isatty(STDERR_FILENO);
  segment::Event e;
  int64_t n = 0;
  while (gen->Next(&e)) {
    out << codec::EventToJson(e).dump() << '\n';
    if (progress)
      seg::Progress("generate", ++n, o.events);
    else
      ++n;
  }
  if (progress) seg::Progress("generate", n, o.events, true);
  out.close();
  if (!out) return Fail("cannot write " + o.out + ": " + std::strerror(errno), 1);
  if (!o.truth.empty()) {
    std::ofstream t(o.truth, std::ios::trunc);
    t << "customer_id,segment\n";
    for (int i = 0; i < gen->customers(); ++i)
      t << gen->CustomerId(i) << ',' << gen->labels()[i] << '\n';
    t.close();
    if (!t) return Fail("cannot write " + o.truth + ": " + std::strerror(errno), 1);
  }
  nlohmann::json summary = {
      {"events", n},
      {"customers", gen->customers()},
      {"segments", gen->segments().size()},
      {"k", o.k},
      {"noise", o.noise},
      {"seed", o.seed},
      {"drift_steps", o.drift.size()},
      {"out", o.out},
      {"truth", o.truth.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.truth)}};
  if (o.json) {
    std::printf("%s\n", summary.dump().c_str());
  } else {
    std::printf(
        "wrote %lld events for %d customers (k=%d, noise %.2f, %zu drift steps, seed %llu) to %s\n",
        static_cast<long long>(n), gen->customers(), o.k, o.noise, o.drift.size(),
        static_cast<unsigned long long>(o.seed), o.out.c_str());
    if (!o.truth.empty())
      std::printf("ground truth (segment per customer after the last drift step): %s\n",
                  o.truth.c_str());
  }
  return 0;
}

void AddGenerate(CLI::App& segment, Context& ctx) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = segment.add_subcommand("generate",
                                     "Write a synthetic event stream with known segments (NDJSON)");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--customers", o->customers, "Number of customers")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--events", o->events, "Number of events")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--k", o->k, "Number of ground-truth segments (default behaviours)")
      ->check(CLI::Range(1, 8));
  cmd->add_option("--noise", o->noise,
                  "Share of events drawn from another segment's behaviour, [0, 1)")
      ->check(CLI::Range(0.0, 0.999999));
  cmd->add_option("--events-per-day", o->events_per_day, "Global event rate (sets the time span)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "Random seed (same seed, same file)");
  cmd->add_option("--drift", o->drift, kDriftHelp)->default_str("");
  cmd->add_option("--out", o->out, "NDJSON file to write (one event per line)")->required();
  cmd->add_option("--truth", o->truth, "CSV customer_id,segment with the final ground truth");
  cmd->add_flag("--json", o->json, "Machine-readable summary");
  cmd->callback([&ctx, o] { ctx.action = [o] { return Generate(*o); }; });
}

// `strata segment serve ARGS...` becomes `<dir of this binary>/strata-segment ARGS...`.
void AddServe(CLI::App& segment, Context& ctx) {
  auto* cmd = segment.add_subcommand(
      "serve",
      "Run the segment service: execs strata-segment from the same directory with the "
      "remaining arguments (try 'strata segment serve --help')");
  cmd->prefix_command();
  cmd->set_help_flag();  // --help goes to strata-segment
  cmd->callback([&ctx, cmd] {
    std::vector<std::string> args = cmd->remaining();
    ctx.action = [args] {
      std::error_code ec;
      std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
      std::filesystem::path bin = self.parent_path() / "strata-segment";
      if (ec || access(bin.c_str(), X_OK) != 0)
        return Fail(
            "cannot run the segment service: " + bin.string() +
                " is missing (build it with 'ninja strata-segment' or install it next to strata)",
            1);
      std::vector<std::string> argv_s = {bin.string()};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::fflush(nullptr);
      execv(bin.c_str(), argv.data());
      return Fail("cannot exec " + bin.string() + ": " + std::strerror(errno), 1);
    };
  });
}

}  // namespace

void RegisterSegment(CLI::App& app, Context& ctx) {
  auto* cmd =
      app.add_subcommand("segment", "Customer micro-segmentation: generate, replay, report, serve");
  cmd->require_subcommand(1);
  AddGenerate(*cmd, ctx);
  seg::AddReplay(*cmd, ctx);
  seg::AddReport(*cmd, ctx);
  AddServe(*cmd, ctx);
}

}  // namespace strata::cli
