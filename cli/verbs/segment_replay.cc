// strata segment replay FILE: replays UCI Online Retail CSV, CDNOW or Strata NDJSON events in time
// order, either into a running segment service (POST /api/v1/events, NDJSON batches), over MQTT
// through a durable outbox with receipts (--mqtt --node --outbox; survives a kill of either side:
// rerun the same command to resume), or through an in-process Segmenter, and prints what happened
// to every row.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "segment_common.h"
#include "strata/codec/event_json.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt_outbox.h"

namespace strata::cli::seg {
namespace {

struct ReplayOptions {
  std::string file, format = "auto", url, token_env = "STRATA_TOKEN";
  std::string mqtt, node, outbox, publisher = "replay", mqtt_user, mqtt_password_file;
  double resend_after_s = 5, timeout_s = 600;
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

struct Delivered {
  int64_t enqueued = 0, resumed_from = 0;
  mqtt::OutboxStats stats;
};

// FNV-1a of the file: names this input in the outbox marks and in generated event ids.
Result<std::string> Fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path);
  uint64_t h = 1469598103934665603ull;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex);
}

// Enqueues the events (resuming after what an earlier run of the same file enqueued) into the
// outbox and waits until every row is receipted by segment, or the timeout.
Result<Delivered> ReplayToMqtt(const ReplayOptions& o, const std::vector<segment::Event>& events) {
  using namespace std::chrono;
  const auto deadline =
      steady_clock::now() + duration_cast<milliseconds>(duration<double>(o.timeout_s));
  auto left = [&] {
    return std::max(milliseconds(0), duration_cast<milliseconds>(deadline - steady_clock::now()));
  };
  STRATA_ASSIGN_OR_RETURN(std::string fp, Fingerprint(o.file));
  const size_t batch = static_cast<size_t>(std::min(o.batch, 10000));
  STRATA_ASSIGN_OR_RETURN(
      auto box,
      mqtt::MqttOutbox::Open(
          {.path = o.outbox,
           .name = "replay",
           .events_topic = "strata/seg/" + o.node + "/events/" + o.publisher,
           .receipts_topic = "strata/seg/" + o.node + "/receipts/" + o.publisher,
           .resend_after = duration_cast<milliseconds>(duration<double>(o.resend_after_s)),
           .batch_rows = batch,
           .max_inflight = std::max<size_t>(5000, 4 * batch)}));
  mqtt::Config mc{.uri = o.mqtt,
                  .client_id = "strata-replay-" + o.publisher,
                  .clean_session = false,  // receipts sent while we are down are kept for us
                  .username = o.mqtt_user,
                  .link_src = "replay"};
  if (!o.mqtt_password_file.empty()) {
    std::ifstream pw(o.mqtt_password_file);
    if (!pw || !std::getline(pw, mc.password))
      return InvalidArgumentError("cannot read --mqtt-password-file " + o.mqtt_password_file);
  }
  STRATA_RETURN_IF_ERROR(box->Start(mc, milliseconds(10000)));
  Delivered d;
  STRATA_ASSIGN_OR_RETURN(auto source, box->Mark("source"));
  STRATA_ASSIGN_OR_RETURN(auto done, box->Mark("enqueued"));
  const int64_t n = static_cast<int64_t>(events.size());
  if (source && *source == fp && done)
    d.resumed_from = std::min<int64_t>(n, std::atoll(done->c_str()));
  std::vector<mqtt::OutboxRow> rows;
  auto flush = [&](int64_t next) -> Status {
    while (!rows.empty()) {
      auto r = box->Enqueue(rows, {{"source", fp}, {"enqueued", std::to_string(next)}});
      if (r.ok()) {
        d.enqueued += *r;
        rows.clear();
      } else if (r.status().code() != StatusCode::kResourceExhausted) {
        return r.status();
      } else if (left().count() == 0 || !box->WaitForSpace(static_cast<int64_t>(rows.size()),
                                                           std::min(left(), milliseconds(1000)))) {
        if (left().count() == 0) return DeadlineExceededError(r.status().message());
      }
    }
    return Status::Ok();
  };
  Pacer pacer(o.speed, o.max_gap_s);
  const bool progress = isatty(STDERR_FILENO);
  for (int64_t i = d.resumed_from; i < n; ++i) {
    if (pacer.WaitFor(ToUnixSeconds(events[i].timestamp)) > 0.02) {
      STRATA_RETURN_IF_ERROR(flush(i));
      pacer.SleepFor(pacer.WaitFor(ToUnixSeconds(events[i].timestamp)));
    }
    segment::Event e = events[i];
    if (e.id.empty()) e.id = "r" + fp + "-" + std::to_string(i);  // same id on every rerun
    rows.push_back({e.id, codec::EventToJson(e).dump()});
    if (rows.size() >= batch) STRATA_RETURN_IF_ERROR(flush(i + 1));
  }
  STRATA_RETURN_IF_ERROR(flush(n));
  while (!box->WaitEmpty(std::min(left(), milliseconds(1000)))) {
    d.stats = box->stats();
    if (progress) Progress("receipts", n - d.stats.pending, n);
    if (left().count() == 0)
      return DeadlineExceededError(std::to_string(d.stats.pending) +
                                   " event(s) not receipted by segment '" + o.node + "' within " +
                                   std::to_string(o.timeout_s) + " s; they stay in " + o.outbox +
                                   ": rerun the same command to resume");
  }
  d.stats = box->stats();
  return d;
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
  if (s["mode"] == "mqtt")
    std::printf("outbox %s: %lld enqueued now (resumed after %lld), %lld published, %lld resent\n",
                s["outbox"].get<std::string>().c_str(), static_cast<long long>(s["enqueued"]),
                static_cast<long long>(s["resumed_from"]), static_cast<long long>(s["published"]),
                static_cast<long long>(s["resent"]));
  const std::string where = s["mode"] == "http" ? "server " + s["url"].get<std::string>()
                            : s["mode"] == "mqtt"
                                ? "segment " + s["node"].get<std::string>() + " via " +
                                      s["broker"].get<std::string>() + " (receipted)"
                                : "in-process";
  std::printf("%s: %lld accepted, %lld rejected in %.3f s (%.0f events/s)\n", where.c_str(),
              static_cast<long long>(s["accepted"]), static_cast<long long>(s["rejected"]),
              s["seconds"].get<double>(), s["events_per_s"].get<double>());
  for (const auto& e : s["rejections"]) {
    if (e.contains("id"))
      std::printf("  event id %s: %s\n", e["id"].get<std::string>().c_str(),
                  e["reason"].get<std::string>().c_str());
    else
      std::printf("  event %lld: %s\n", static_cast<long long>(e["event"]),
                  e["reason"].get<std::string>().c_str());
  }
}

int Replay(const ReplayOptions& o) {
  auto loaded = LoadEvents(o.file, o.format);
  if (!loaded.ok()) return Fail(loaded.status().message(), LoadFailureExitCode(loaded.status()));
  nlohmann::json s = {{"file", o.file},
                      {"format", loaded->format},
                      {"mode", !o.mqtt.empty() ? "mqtt"
                               : o.url.empty() ? "in-process"
                                               : "http"},
                      {"rows", loaded->rows},
                      {"events", loaded->events.size()},
                      {"skipped_no_customer", loaded->skipped_no_customer},
                      {"parse_errors", loaded->parse_errors},
                      {"errors", ErrorsJson(loaded->first_errors)},
                      {"speed", o.speed}};
  std::vector<SegmentRow> table;
  const auto start = std::chrono::steady_clock::now();
  if (!o.mqtt.empty()) {
    s["broker"] = o.mqtt;
    s["node"] = o.node;
    s["publisher"] = o.publisher;
    s["outbox"] = o.outbox;
    auto sent = ReplayToMqtt(o, loaded->events);
    if (!sent.ok()) {
      const StatusCode c = sent.status().code();
      return Fail(sent.status().message(), c == StatusCode::kInvalidArgument ? 2 : 1);
    }
    s["enqueued"] = sent->enqueued;
    s["resumed_from"] = sent->resumed_from;
    s["published"] = sent->stats.published;
    s["resent"] = sent->stats.resent;
    s["accepted"] = sent->stats.receipted;  // this run's receipts (earlier runs' are not counted)
    s["rejected"] = sent->stats.rejected;
    nlohmann::json rej = nlohmann::json::array();
    for (const auto& [id, reason] : sent->stats.first_rejections)
      if (rej.size() < kMaxListedErrors) rej.push_back({{"id", id}, {"reason", reason}});
    s["rejections"] = rej;
  } else if (!o.url.empty()) {
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
  if (o.url.empty() && o.mqtt.empty()) {
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
  auto* mq = cmd->add_option("--mqtt", o->mqtt,
                             "MQTT broker URL (tcp://host:1883): publish through --outbox with "
                             "receipts from segment --node instead of HTTP");
  cmd->add_option("--node", o->node, "Segment node name (topics strata/seg/<node>/...)")->needs(mq);
  cmd->add_option("--outbox", o->outbox,
                  "Outbox SQLite file; rows leave it only on a receipt. Rerun with the same file "
                  "after a kill to resume")
      ->needs(mq);
  cmd->add_option("--publisher", o->publisher,
                  "Publisher name in the topics (events/<name>, receipts/<name>)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            bool ok = !v.empty() && v.size() <= 64;
            for (char c : v)
              ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                          c == '-');
            return ok ? "" : "must match [A-Za-z0-9._-]{1,64}";
          },
          "NAME"));
  cmd->add_option("--resend-after-s", o->resend_after_s,
                  "Republish an event still without a receipt after this many seconds")
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--timeout-s", o->timeout_s,
                  "Give up (exit 1, rows kept in the outbox) when not all receipts arrived")
      ->check(CLI::Range(1.0, 864000.0));
  cmd->add_option("--mqtt-user", o->mqtt_user, "MQTT username");
  cmd->add_option("--mqtt-password-file", o->mqtt_password_file, "File holding the MQTT password");
  cmd->callback([&ctx, o] {
    if (!o->mqtt.empty() && (o->node.empty() || o->outbox.empty()))
      throw CLI::ValidationError("--mqtt", "needs --node and --outbox");
    if (!o->mqtt.empty() && !o->url.empty()) throw CLI::ValidationError("--mqtt", "excludes --url");
    ctx.action = [o] { return Replay(*o); };
  });
}

}  // namespace strata::cli::seg
