// strata segment replay FILE: replays UCI Online Retail CSV, CDNOW or Strata NDJSON events in time
// order, either into a running segment service (POST /api/v1/events, NDJSON batches) or through an
// in-process Segmenter, and prints what happened to every row.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "segment_common.h"
#include "strata/codec/event_json.h"
#include "strata/transport/http_client.h"

namespace strata::cli::seg {
namespace {

struct ReplayOptions {
  std::string file, format = "auto", url, token_env = "STRATA_TOKEN";
  double speed = 0, max_gap_s = 1.0;
  int batch = 1000;
  bool json = false;
};

struct Posted {
  int64_t accepted = 0, rejected = 0;
  std::vector<RowError> first_rejections;
};

// POSTs one NDJSON batch; `first` is the 1-based number of its first event in time order.
Status PostBatch(http::HttpClient& client, const std::string& body, int64_t first, Posted* p) {
  auto r = client.Post("/api/v1/events", body, "application/x-ndjson");
  if (!r.ok()) return r.status();
  if (r->status != 200 && r->status != 422) {
    Status st = r->ToStatus();
    return Status(st.code(), client.config().base_url + "/api/v1/events answered HTTP " +
                                 std::to_string(r->status) + ": " + st.message());
  }
  auto answer = r->Json();
  if (!answer.ok())
    return InternalError("server answered HTTP " + std::to_string(r->status) + " without JSON");
  p->accepted += answer->value("accepted", int64_t{0});
  p->rejected += answer->value("rejected", int64_t{0});
  if (answer->contains("errors"))
    for (const auto& e : (*answer)["errors"]) {
      if (p->first_rejections.size() >= kMaxListedErrors) break;
      p->first_rejections.push_back(
          {first - 1 + e.value("line", int64_t{0}), e.value("reason", std::string())});
    }
  return Status::Ok();
}

Result<Posted> ReplayToServer(const ReplayOptions& o, const std::vector<segment::Event>& events) {
  const char* token = std::getenv(o.token_env.c_str());
  STRATA_ASSIGN_OR_RETURN(auto client,
                          http::HttpClient::Create({.base_url = o.url,
                                                    .read_timeout = std::chrono::seconds(60),
                                                    .max_retries = 0,
                                                    .token = token ? token : "",
                                                    .link_src = "replay",
                                                    .link_dst = "segment"}));
  Posted p;
  std::string body;
  int64_t in_batch = 0, first = 1;
  const int64_t n = static_cast<int64_t>(events.size());
  const bool progress = isatty(STDERR_FILENO);
  auto flush = [&](int64_t next) -> Status {
    if (in_batch > 0) {
      Status s = PostBatch(*client, body, first, &p);
      if (!s.ok())
        return Status(s.code(), s.message() + " (sending events " + std::to_string(first) + ".." +
                                    std::to_string(next - 1) + "; " + std::to_string(p.accepted) +
                                    " accepted before)");
      if (progress) Progress("replay", next - 1, n);
    }
    body.clear();
    in_batch = 0;
    first = next;
    return Status::Ok();
  };
  Pacer pacer(o.speed, o.max_gap_s);
  for (int64_t i = 0; i < n; ++i) {
    // Real time: send what is due, then wait for this event (events due within 20 ms share a
    // batch).
    if (pacer.WaitFor(ToUnixSeconds(events[i].timestamp)) > 0.02) {
      STRATA_RETURN_IF_ERROR(flush(i + 1));
      pacer.SleepFor(pacer.WaitFor(ToUnixSeconds(events[i].timestamp)));
    }
    body += codec::EventToJson(events[i]).dump();
    body += '\n';
    if (++in_batch >= o.batch) STRATA_RETURN_IF_ERROR(flush(i + 2));
  }
  STRATA_RETURN_IF_ERROR(flush(n + 1));
  if (progress && n > 0) Progress("replay", n, n, true);
  return p;
}

void PrintSummary(const nlohmann::json& s) {
  std::printf("%s (%s): %lld rows, %lld events, %lld skipped without customer, %lld parse errors\n",
              s["file"].get<std::string>().c_str(), s["format"].get<std::string>().c_str(),
              static_cast<long long>(s["rows"]), static_cast<long long>(s["events"]),
              static_cast<long long>(s["skipped_no_customer"]),
              static_cast<long long>(s["parse_errors"]));
  for (const auto& e : s["errors"])
    std::printf("  line %lld: %s\n", static_cast<long long>(e["line"]),
                e["reason"].get<std::string>().c_str());
  std::printf(
      "%s: %lld accepted, %lld rejected in %.3f s (%.0f events/s)\n",
      s["mode"] == "http" ? ("server " + s["url"].get<std::string>()).c_str() : "in-process",
      static_cast<long long>(s["accepted"]), static_cast<long long>(s["rejected"]),
      s["seconds"].get<double>(), s["events_per_s"].get<double>());
  for (const auto& e : s["rejections"])
    std::printf("  event %lld: %s\n", static_cast<long long>(e["event"]),
                e["reason"].get<std::string>().c_str());
}

int Replay(const ReplayOptions& o) {
  auto loaded = LoadEvents(o.file, o.format);
  if (!loaded.ok()) return Fail(loaded.status().message(), LoadFailureExitCode(loaded.status()));
  nlohmann::json s = {{"file", o.file},
                      {"format", loaded->format},
                      {"mode", o.url.empty() ? "in-process" : "http"},
                      {"rows", loaded->rows},
                      {"events", loaded->events.size()},
                      {"skipped_no_customer", loaded->skipped_no_customer},
                      {"parse_errors", loaded->parse_errors},
                      {"errors", ErrorsJson(loaded->first_errors)},
                      {"speed", o.speed}};
  std::vector<SegmentRow> table;
  const auto start = std::chrono::steady_clock::now();
  if (!o.url.empty()) {
    s["url"] = o.url;
    auto posted = ReplayToServer(o, loaded->events);
    if (!posted.ok()) {
      const StatusCode c = posted.status().code();
      return Fail(posted.status().message(), c == StatusCode::kInvalidArgument ? 2 : 1);
    }
    s["accepted"] = posted->accepted;
    s["rejected"] = posted->rejected;
    s["rejections"] = ErrorsJson(posted->first_rejections, "event");
  } else {
    auto run = RunInProcess(loaded->events, {.speed = o.speed,
                                             .max_gap_s = o.max_gap_s,
                                             .progress = static_cast<bool>(isatty(STDERR_FILENO))});
    if (!run.ok()) return Fail(run.status().message(), 1);
    s["accepted"] = run->accepted;
    s["rejected"] = run->rejected;
    s["rejections"] = ErrorsJson(run->first_rejections, "event");
    s["customers"] = run->segmenter->profiles().size();
    table = TableOf(*run);
    s["segments"] = TableJson(table);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s["seconds"] = secs;
  s["events_per_s"] = secs > 0 ? static_cast<double>(loaded->events.size()) / secs : 0.0;
  if (o.json) {
    std::printf("%s\n", s.dump().c_str());
    return 0;
  }
  PrintSummary(s);
  if (o.url.empty()) {
    std::printf("\n%lld customers\n", static_cast<long long>(s["customers"]));
    PrintTable(table);
  }
  return 0;
}

}  // namespace

void AddReplay(CLI::App& segment, Context& ctx) {
  auto o = std::make_shared<ReplayOptions>();
  auto* cmd = segment.add_subcommand(
      "replay",
      "Replay an event file (UCI Online Retail CSV, CDNOW, Strata NDJSON) in time order into "
      "a segment service (--url) or an in-process segmenter");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("file", o->file, "Event file")->required();
  cmd->add_option("--format", o->format,
                  "auto|uci|cdnow|ndjson (auto: from the extension or first line)")
      ->check(CLI::IsMember({"auto", "uci", "cdnow", "ndjson"}));
  cmd->add_option("--url", o->url,
                  "Segment service base URL, e.g. http://127.0.0.1:8090 (default: in-process)");
  cmd->add_option("--speed", o->speed,
                  "0 = as fast as possible; F = F x real time (event-time gaps / F)")
      ->check(CLI::Range(0.0, 1e12));
  cmd->add_option("--max-gap-s", o->max_gap_s, "Longest single sleep in real-time mode, seconds")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--batch", o->batch, "Events per POST (NDJSON lines)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--token-env", o->token_env, "Environment variable holding the bearer token");
  cmd->add_flag("--json", o->json, "Machine-readable summary");
  cmd->callback([&ctx, o] { ctx.action = [o] { return Replay(*o); }; });
}

}  // namespace strata::cli::seg
