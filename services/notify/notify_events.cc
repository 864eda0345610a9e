// NotifyService's routes and read side: the event log (GET /api/v1/events, /events/{id}),
// snapshots (GET /api/v1/events/{id}/snapshot.jpg) and operator acknowledgements
// (POST /api/v1/events/{id}/ack). See notify_service.h.
#include <charconv>
#include <fstream>
#include <regex>
#include <sstream>

#include "notify_service.h"
#include "strata/metrics/metrics.h"

namespace strata::embedded {
extern const std::string_view notify_openapi;
}

namespace strata::notify_service {

using nlohmann::json;

std::string_view OpenApi() { return embedded::notify_openapi; }

namespace {

constexpr int64_t kMaxUlidMs = (int64_t{1} << 48) - 1;  // a ULID's time is 48 bits

Result<EventQuery> ParseQuery(const http::Request& r) {
  EventQuery q;
  if (auto limit = r.Query("limit")) {
    int v = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
    if (limit->empty() || ec != std::errc() || end != limit->data() + limit->size() || v < 1 ||
        v > 500)
      return InvalidArgumentError("query limit must be an integer in 1..500, got '" +
                                  limit->substr(0, 32) + "'");
    q.limit = v;
  }
  if (auto before = r.Query("before")) {
    if (!IsUlid(*before))
      return InvalidArgumentError("query before must be an event id (ULID), got '" +
                                  before->substr(0, 32) + "'");
    q.before = *before;
  }
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  if (auto camera = r.Query("camera")) {
    if (!std::regex_match(*camera, kCamera))
      return InvalidArgumentError("query camera must match [a-z0-9_-]{1,64}");
    q.camera = *camera;
  }
  if (auto type = r.Query("event_type")) {
    if (*type != "unknown_face" && *type != "zone_entry" && *type != "person")
      return InvalidArgumentError("query event_type must be unknown_face, zone_entry or person");
    q.event_type = *type;
  }
  if (auto since = r.Query("since_ms")) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(since->data(), since->data() + since->size(), v);
    if (since->empty() || ec != std::errc() || end != since->data() + since->size() || v < 0 ||
        v > kMaxUlidMs)
      return InvalidArgumentError("query since_ms must be Unix epoch milliseconds, an integer in 0.." +
                                  std::to_string(kMaxUlidMs) + ", got '" + since->substr(0, 32) +
                                  "'");
    q.since_ms = v;
  }
  if (auto acked = r.Query("acknowledged")) {
    if (*acked != "true" && *acked != "false")
      return InvalidArgumentError("query acknowledged must be true or false, got '" +
                                  acked->substr(0, 32) + "'");
    q.acknowledged = *acked == "true";
  }
  return q;
}

// Number of Unicode code points of valid UTF-8 `s`, or -1 when it holds a control character
// (C0, DEL or C1). nlohmann's parser has already rejected invalid UTF-8.
int PrintableLength(const std::string& s) {
  int n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return -1;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) return -1;
    n += (c & 0xc0) != 0x80;
  }
  return n;
}

// The operator name of an ack body, or the 400/422 problem to answer.
Result<std::string> AckBy(const http::Request& r) {
  STRATA_ASSIGN_OR_RETURN(json body, http::ParseJsonBody(r));
  if (!body.is_object()) return InvalidArgumentError("body must be a JSON object {\"by\": \"<operator>\"}");
  auto by = body.find("by");
  if (by == body.end() || !by->is_string())
    return FailedPreconditionError("body.by must be a string: the operator's name");
  std::string name = by->get<std::string>();
  int len = PrintableLength(name);
  if (len < 0) return FailedPreconditionError("body.by must not contain control characters");
  if (len < 1 || len > 64 || name.find_first_not_of(' ') == std::string::npos)
    return FailedPreconditionError("body.by must be 1..64 printable characters, got " +
                                   std::to_string(len));
  return name;
}

Result<std::string> EventId(const http::Request& r) {
  std::string id = r.PathParam("id");
  if (!IsUlid(id)) return InvalidArgumentError("event id '" + id.substr(0, 32) + "' is not a ULID");
  return id;
}

}  // namespace

void NotifyService::RegisterRoutes(http::HttpServer& server) {
  server_ = &server;
  server.Route("POST", "/api/v1/sightings",
               [this](const http::Request& r) { return PostSighting(r); });
  server.Route("GET", "/api/v1/events", [this](const http::Request& r) { return GetEvents(r); });
  server.Route("GET", "/api/v1/events/{id}",
               [this](const http::Request& r) { return GetEvent(r); });
  server.Route("GET", "/api/v1/events/{id}/snapshot.jpg",
               [this](const http::Request& r) { return GetSnapshot(r); });
  server.Route("POST", "/api/v1/events/{id}/ack",
               [this](const http::Request& r) { return AckEvent(r); });
  server.AddReadinessCheck("store", [this]() { return store_->PendingCount().status(); });
  server.SetOpenApi(std::string(OpenApi()));
}

Result<http::Response> NotifyService::GetEvents(const http::Request& r) {
  STRATA_ASSIGN_OR_RETURN(EventQuery q, ParseQuery(r));
  int limit = q.limit;
  q.limit = limit + 1;  // one more tells whether a next page exists
  STRATA_ASSIGN_OR_RETURN(auto rows, store_->List(q));
  json events = json::array();
  for (int i = 0; i < static_cast<int>(rows.size()) && i < limit; ++i)
    events.push_back(EventDoc(rows[i]));
  json next =
      static_cast<int>(rows.size()) > limit ? json(rows[limit - 1].alert_id) : json(nullptr);
  return http::Response::Json({{"events", events}, {"next", next}});
}

Result<http::Response> NotifyService::GetEvent(const http::Request& r) {
  STRATA_ASSIGN_OR_RETURN(std::string id, EventId(r));
  STRATA_ASSIGN_OR_RETURN(AlertRow row, store_->Get(id));
  return http::Response::Json(EventDoc(row));
}

Result<http::Response> NotifyService::AckEvent(const http::Request& r) {
  STRATA_ASSIGN_OR_RETURN(std::string id, EventId(r));
  if (auto bad = http::CheckContentType(r, "application/json")) return *bad;
  STRATA_ASSIGN_OR_RETURN(std::string by, AckBy(r));
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       clock_->Now().time_since_epoch())
                       .count();
  bool first = false;
  STRATA_ASSIGN_OR_RETURN(AlertRow row, store_->Acknowledge(id, by, now_ms, &first));
  metrics::GetCounter("strata_notify_acks_total", "Alert acknowledgements, by result",
                      {{"result", first ? "acknowledged" : "already"}})
      .Inc();
  return http::Response::Json(EventDoc(row));
}

json EventDoc(const AlertRow& row) {
  json doc = row.doc;
  doc["acknowledged"] = row.acknowledged_at_ms
                            ? json{{"by", row.acknowledged_by}, {"at_ms", *row.acknowledged_at_ms}}
                            : json(nullptr);
  return doc;
}

Result<http::Response> NotifyService::GetSnapshot(const http::Request& r) {
  STRATA_ASSIGN_OR_RETURN(std::string id, EventId(r));
  STRATA_ASSIGN_OR_RETURN(AlertRow row, store_->Get(id));
  if (row.snapshot == SnapshotState::kExpired)
    return NotFoundError("the snapshot of event " + id + " has expired");
  std::ifstream in(SnapshotPath(id), std::ios::binary);
  if (row.snapshot != SnapshotState::kPresent || !in)
    return NotFoundError("event " + id + " has no snapshot");
  std::ostringstream data;
  data << in.rdbuf();
  return http::Response::Bytes(data.str(), "image/jpeg");
}

std::string NotifyService::SnapshotPath(const std::string& alert_id) const {
  return config_.snapshots_dir + "/" + alert_id + ".jpg";
}

std::string NotifyService::PublicUrl() const {
  if (!config_.public_url.empty() || !server_) return config_.public_url;
  std::string host = server_->config().host;
  if (host == "0.0.0.0" || host == "::" || host.empty()) host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(server_->tls() ? "https://" : "http://") + host + ":" +
         std::to_string(server_->port());
}

}  // namespace strata::notify_service
