#include "segment_service.h"

#include <filesystem>

#include "strata/segment/quantized_model.h"

namespace strata::segment_service {

using nlohmann::json;
using segment::Assigner;
using segment::Assignment;

Result<std::unique_ptr<SegmentService>> SegmentService::Create(const Config& config) {
  if (config.node.empty() || config.node.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
    return InvalidArgumentError("segment.node must match [a-z0-9_-]+, got '" + config.node + "'");
  if (config.max_batch_lines == 0) return InvalidArgumentError("segment.max_batch_lines must be > 0");
  STRATA_RETURN_IF_ERROR(ValidateHistoryConfig(config.history));
  std::unique_ptr<SegmentService> s(new SegmentService());
  s->config_ = config;
  s->history_ = SegmentHistory(config.history);
  std::string db = (std::filesystem::path(config.data_dir) / "segment_profiles.db").string();
  STRATA_ASSIGN_OR_RETURN(segment::Segmenter seg, segment::Segmenter::Create(config.segmenter));
  s->segmenter_ = std::make_unique<segment::Segmenter>(std::move(seg));
  STRATA_ASSIGN_OR_RETURN(s->store_, segment::ProfileStore::Open({.path = db},
                                                                 &s->segmenter_->mutable_profiles()));
  // Recovered profiles (snapshot + replayed log) seed the segmenter's population.
  const auto& table = s->store_->table();
  if (table.size() > 0) {
    int64_t newest = 0;
    for (uint32_t i = 0; i < table.size(); ++i) newest = std::max(newest, table.profile(i).ref_s);
    s->recovered_newest_ = FromUnixSeconds(static_cast<double>(newest));
    STRATA_RETURN_IF_ERROR(s->segmenter_->Train(s->recovered_newest_, 64));
  }
  return s;
}

void SegmentService::SetChangeSink(ChangeSink sink) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
}

int64_t SegmentService::customers() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(store_->table().size());
}

WallTime SegmentService::NowLocked() const {
  return std::max(segmenter_->newest(), recovered_newest_);
}

void SegmentService::PublishChangesLocked() {
  std::vector<segment::ModelChange> changes = segmenter_->TakeModelChanges();
  if (changes.empty() || !sink_) return;
  json list = json::array();
  for (const auto& c : changes)
    list.push_back({{"kind", segment::ModelChangeKindName(c.kind)}, {"ids", c.ids},
                    {"at_point", c.at_point}});
  json segs = json::array();
  if (const Assigner* a = segmenter_->assigner())
    for (int i = 0; i < a->k(); ++i) segs.push_back({{"id", a->model().ids[i]}, {"label", a->Label(i)}});
  sink_({{"node", config_.node}, {"changes", list}, {"segments", segs}, {"ts", FormatRfc3339(Clock::Real()->Now())}});
}

Result<json> SegmentService::Ingest(const codec::EventBatch& batch, IngestedIds* ids) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto ack, store_->Append(batch.events));  // durable before ack
  json errors = json::array();
  for (const auto& e : batch.errors) errors.push_back({{"line", e.line}, {"reason", e.reason}});
  std::vector<bool> rejected(batch.events.size(), false);
  for (const auto& r : ack.rejected) {
    rejected[r.index] = true;
    errors.push_back({{"line", batch.event_lines[r.index]}, {"reason", r.status.message()}});
  }
  if (ids) {  // committed: every valid event is stored (now or before)
    for (size_t i = 0; i < batch.events.size(); ++i)
      if (!rejected[i] && !batch.events[i].id.empty()) ids->stored.push_back(batch.events[i].id);
    for (const auto& r : ack.rejected)
      if (!batch.events[r.index].id.empty())
        ids->rejected.emplace_back(batch.events[r.index].id, r.status.message());
  }
  for (size_t i : ack.duplicate_indices) rejected[i] = true;  // stored before: not applied again
  for (size_t i = 0; i < batch.events.size(); ++i) {
    if (rejected[i]) continue;
    auto a = segmenter_->AssignApplied(batch.events[i]);  // the store already applied it
    if (!a.ok()) return a.status().WithContext("line " + std::to_string(batch.event_lines[i]));
  }
  if (store_->log_events() >= config_.snapshot_every_events) STRATA_RETURN_IF_ERROR(store_->Snapshot());
  PublishChangesLocked();
  SampleHistoryLocked(ack.accepted - ack.duplicates);
  std::sort(errors.begin(), errors.end(),
            [](const json& x, const json& y) { return x["line"] < y["line"]; });
  return json{{"accepted", ack.accepted}, {"duplicates", ack.duplicates},
              {"rejected", errors.size()}, {"errors", errors}};
}

Result<http::Response> SegmentService::PostEvents(const http::Request& r) {
  std::string ct = r.Header("content-type");
  if (!ct.empty() && ct.rfind("application/x-ndjson", 0) != 0 && ct.rfind("application/json", 0) != 0)
    return http::Problem(415, "expected application/x-ndjson (one JSON event per line)", r.path);
  codec::EventBatch batch = codec::DecodeEventsNdjson(r.body, config_.max_batch_lines);
  if (batch.events.empty() && batch.errors.empty())
    return InvalidArgumentError("empty batch: send one JSON event per line");
  STRATA_ASSIGN_OR_RETURN(json answer, Ingest(batch));
  // 200 when everything was accepted; 207-like partial success is still 200 with errors listed,
  // and 422 when no line was valid (nothing was stored). A line whose id was already stored counts
  // as accepted (and in "duplicates"): a resend of a committed batch is answered 200.
  int status = answer["accepted"].get<int64_t>() == 0 ? 422 : 200;
  return http::Response::Json(answer, status);
}

json SegmentService::SegmentJsonLocked(const Assigner& a, int index) const {
  json explain = json::array();
  for (const auto& f : a.Explain(index))
    explain.push_back({{"feature", f.name}, {"z", f.z}, {"segment_value", f.segment_value},
                       {"population_value", f.population_value}});
  return {{"id", a.model().ids[index]}, {"label", a.Label(index)},
          {"weight", a.model().weights[index]}, {"explanation", explain}};
}

Result<http::Response> SegmentService::GetCustomer(const http::Request& r, bool segment_only) {
  const std::string id = r.PathParam("id");
  if (id.size() > segment::kMaxCustomerIdLength) return InvalidArgumentError("customer id is too long");
  std::lock_guard lock(mu_);
  const auto& table = segmenter_->profiles();
  auto idx = table.Find(id);
  if (!idx) return NotFoundError("customer '" + id + "' is unknown");
  const Assigner* a = segmenter_->assigner();
  if (!a) return FailedPreconditionError("no segment model yet: the node is still warming up");
  segment::FeatureVector x = table.Features(*idx, NowLocked());
  Assignment s = a->Assign(x.data());
  json seg = SegmentJsonLocked(*a, s.index);
  seg["distance"] = s.distance;
  seg["confidence"] = s.confidence;
  if (segment_only) return http::Response::Json({{"customer_id", id}, {"segment", seg}});
  json features = json::object();
  const auto& infos = segment::FeatureInfos();
  for (size_t f = 0; f < infos.size(); ++f)
    features[std::string(infos[f].name)] = segment::ToOriginalUnits(static_cast<int>(f), x[f]);
  return http::Response::Json({{"customer_id", id}, {"profile", features}, {"segment", seg},
                               {"model_version", a->model().version}});
}

Result<http::Response> SegmentService::GetSegments(const http::Request&) {
  std::lock_guard lock(mu_);
  const Assigner* a = segmenter_->assigner();
  json items = json::array();
  if (a) {
    const auto& infos = segment::FeatureInfos();
    for (int i = 0; i < a->k(); ++i) {
      json s = SegmentJsonLocked(*a, i);
      json centroid = json::object();
      for (int f = 0; f < a->model().dim(); ++f)
        centroid[std::string(infos[f].name)] = segment::ToOriginalUnits(f, a->model().centroids(i, f));
      s["centroid"] = centroid;
      items.push_back(s);
    }
  }
  return http::Response::Json({{"items", items}, {"model_version", a ? a->model().version : 0},
                               {"customers", segmenter_->profiles().size()}});
}

Result<http::Response> SegmentService::GetSegmentCustomers(const http::Request& r) {
  uint32_t seg_id = 0;
  int64_t limit = 100, after = -1;
  try {
    size_t pos = 0;
    seg_id = static_cast<uint32_t>(std::stoul(r.PathParam("id"), &pos));
    if (pos != r.PathParam("id").size()) throw std::invalid_argument("id");
    if (auto l = r.Query("limit")) limit = std::stoll(*l);
    if (auto a = r.Query("after")) after = std::stoll(*a);
  } catch (const std::exception&) {
    return InvalidArgumentError("segment id, limit and after must be integers");
  }
  if (limit < 1 || limit > 10000) return InvalidArgumentError("limit must be in [1, 10000]");
  std::lock_guard lock(mu_);
  const Assigner* a = segmenter_->assigner();
  if (!a) return FailedPreconditionError("no segment model yet: the node is still warming up");
  auto index = a->IndexOf(seg_id);
  if (!index) return NotFoundError("segment " + std::to_string(seg_id) + " is unknown");
  const auto& table = segmenter_->profiles();
  json items = json::array();
  int64_t next = -1;
  for (int64_t i = after + 1; i < static_cast<int64_t>(table.size()); ++i) {
    segment::FeatureVector x = table.Features(static_cast<uint32_t>(i), NowLocked());
    if (a->Assign(x.data()).index != *index) continue;
    if (static_cast<int64_t>(items.size()) == limit) {
      next = i - 1;
      break;
    }
    items.push_back(std::string(table.customer_id(static_cast<uint32_t>(i))));
  }
  json body = {{"segment_id", seg_id}, {"items", items}};
  body["next_cursor"] = next >= 0 ? json(std::to_string(next)) : json(nullptr);
  return http::Response::Json(body);
}

Result<http::Response> SegmentService::GetModel(const http::Request& r) {
  std::lock_guard lock(mu_);
  const Assigner* a = segmenter_->assigner();
  if (!a) return FailedPreconditionError("no segment model yet: the node is still warming up");
  if (r.Query("format").value_or("float") == "int8") {
    STRATA_ASSIGN_OR_RETURN(auto q, segment::QuantizedModel::Create(a->model()));
    return http::Response::Bytes(q.Serialize(), "application/octet-stream");
  }
  http::Response resp = http::Response::Bytes(segment::SerializeModel(a->model()),
                                              "application/octet-stream");
  resp.headers.emplace_back("X-Strata-Model-Version", std::to_string(a->model().version));
  return resp;
}

Result<http::Response> SegmentService::PutModel(const http::Request& r) {
  auto model = segment::DeserializeModel(r.body);
  if (!model.ok()) return InvalidArgumentError("model: " + model.status().message());
  if (model->dim() != static_cast<int>(segment::kNumFeatures))
    return InvalidArgumentError("model has " + std::to_string(model->dim()) + " features, expected " +
                                std::to_string(segment::kNumFeatures));
  std::lock_guard lock(mu_);
  Status installed = segmenter_->InstallModel(*model);
  if (!installed.ok()) return InvalidArgumentError("model: " + installed.message());
  PublishChangesLocked();
  SampleHistoryLocked(0, /*force=*/true);
  return http::Response::Json({{"installed", true}, {"model_version", model->version},
                               {"k", model->k()}});
}

void SegmentService::RegisterRoutes(http::HttpServer& server) {
  server.Route("POST", "/api/v1/events", [this](const http::Request& r) { return PostEvents(r); });
  server.Route("GET", "/api/v1/customers/{id}",
               [this](const http::Request& r) { return GetCustomer(r, false); });
  server.Route("GET", "/api/v1/customers/{id}/segment",
               [this](const http::Request& r) { return GetCustomer(r, true); });
  server.Route("GET", "/api/v1/segments", [this](const http::Request& r) { return GetSegments(r); });
  server.Route("GET", "/api/v1/segments/{id}/customers",
               [this](const http::Request& r) { return GetSegmentCustomers(r); });
  server.Route("GET", "/api/v1/model", [this](const http::Request& r) { return GetModel(r); });
  server.Route("PUT", "/api/v1/model", [this](const http::Request& r) { return PutModel(r); });
  server.Route("GET", "/api/v1/segments/history",
               [this](const http::Request& r) { return GetHistory(r); });
  server.Route("GET", "/api/v1/segments/projection",
               [this](const http::Request& r) { return GetProjection(r); });
}

}  // namespace strata::segment_service
