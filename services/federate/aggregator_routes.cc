// AggregatorService HTTP routes: the round announcement, the model, plain updates, k-FED reports
// and the round history. Secure-aggregation routes are in aggregator_secure.cc.
#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "aggregator_service.h"
#include "strata/federated/update_codec.h"
#include "strata/federated/wire.h"

namespace strata::federate {

using nlohmann::json;
namespace fed = strata::federated;

namespace {
std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
// Truncated bodies are the client's fault: 400, not the library's DataLoss (500).
Status AsClientError(const Status& s, const char* what) {
  if (s.ok()) return s;
  if (s.code() == StatusCode::kDataLoss || s.code() == StatusCode::kInvalidArgument)
    return InvalidArgumentError(std::string(what) + ": " + s.message());
  return s;
}
}  // namespace

void AggregatorService::RegisterRoutes(http::HttpServer& server) {
  server.Route("GET", "/api/v1/round", [this](const http::Request&) -> Result<http::Response> {
    return http::Response::Json(Round().ToJson());
  });
  server.Route("GET", "/api/v1/model", [this](const http::Request& r) -> Result<http::Response> {
    auto m = Model();
    if (!m) return FailedPreconditionError("no global model yet (the cold-start round is running)");
    std::string format = r.Query("format").value_or("float64");
    if (format != "float64" && format != "int8")
      return InvalidArgumentError("format must be float64 or int8");
    return ModelResponse(*m, format == "int8");
  });
  server.Route("GET", "/api/v1/rounds", [this](const http::Request&) -> Result<http::Response> {
    json items = json::array();
    for (const RoundRecord& r : History()) items.push_back(r.ToJson());
    std::optional<double> budget = EpsilonBudget();
    return http::Response::Json({{"items", items},
                                 {"epsilon_spent", EpsilonSpent()},
                                 {"epsilon_budget", budget ? json(*budget) : json(nullptr)}});
  });
  server.Route("POST", "/api/v1/rounds/{round}/update",
               [this](const http::Request& r) { return PostUpdate(r); });
  server.Route("POST", "/api/v1/rounds/{round}/centroids",
               [this](const http::Request& r) { return PostCentroids(r); });
  for (SecStage st : {SecStage::kAdvertise, SecStage::kShareKeys, SecStage::kMaskedInput,
                      SecStage::kUnmask}) {
    static const char* kPost[] = {"", "advertise", "shares", "masked", "unmask"};
    server.Route("POST", std::string("/api/v1/rounds/{round}/secagg/") + kPost[static_cast<int>(st)],
                 [this, st](const http::Request& r) { return SecPost(r, st); });
  }
  server.Route("GET", "/api/v1/rounds/{round}/secagg/keys",
               [this](const http::Request& r) { return SecGet(r, SecStage::kShareKeys); });
  server.Route("GET", "/api/v1/rounds/{round}/secagg/shares/{index}",
               [this](const http::Request& r) { return SecGet(r, SecStage::kMaskedInput); });
  server.Route("GET", "/api/v1/rounds/{round}/secagg/unmask",
               [this](const http::Request& r) { return SecGet(r, SecStage::kUnmask); });
}

Status AggregatorService::CheckPathRound(const http::Request& r, uint64_t* round) const {
  const std::string p = r.PathParam("round");
  if (p.empty() || p.size() > 19 || !std::all_of(p.begin(), p.end(), ::isdigit))
    return InvalidArgumentError("round must be a decimal integer, got '" + p + "'");
  *round = std::stoull(p);
  return Status::Ok();
}

Status AggregatorService::Authenticate(const http::Request& r, const std::string& node) const {
  for (const NodeEntry& n : opt_.nodes) {
    if (n.id != node) continue;
    std::string got = r.Header(kNodeTokenHeader);
    std::transform(got.begin(), got.end(), got.begin(), ::tolower);
    std::string want = n.token;
    std::transform(want.begin(), want.end(), want.begin(), ::tolower);
    if (!TokenEquals(got, want)) return UnauthenticatedError("bad or missing node token for '" + node + "'");
    return Status::Ok();
  }
  return PermissionDeniedError("node '" + node + "' is not registered with this aggregator");
}

Result<http::Response> AggregatorService::PostUpdate(const http::Request& r) {
  uint64_t round = 0;
  STRATA_RETURN_IF_ERROR(CheckPathRound(r, &round));
  // A plain ModelUpdate (f64, always accepted) or a CompressedUpdate (fp16/int8, update_codec.h),
  // told apart by the message type in the header; compressed ones decode against the model.
  Result<fed::ModelUpdate> u = InvalidArgumentError("update: no body");
  std::optional<fed::CompressedUpdate> packed;
  if (fed::PeekMessageType(Bytes(r.body)) == static_cast<uint8_t>(fed::MessageType::kCompressedUpdate)) {
    auto c = fed::CompressedUpdate::Decode(Bytes(r.body));
    if (!c.ok()) return AsClientError(c.status(), "compressed update");
    packed = std::move(c).value();
  } else {
    u = fed::ModelUpdate::Decode(Bytes(r.body));
    if (!u.ok()) return AsClientError(u.status(), "update");
  }
  const uint64_t body_round = packed ? packed->round_id : u->round_id;
  if (body_round != round)
    return InvalidArgumentError("update is for round " + std::to_string(body_round) +
                                " but was posted to round " + std::to_string(round));
  STRATA_RETURN_IF_ERROR(Authenticate(r, packed ? packed->node_id : u->node_id));
  std::lock_guard l(mu_);
  if (opt_.secure && open_ && round == round_id_)
    return FailedPreconditionError("round " + std::to_string(round) +
                                   " uses secure aggregation: send through /secagg");
  if (kind_ == RoundKind::kKFed && open_ && round == round_id_)
    return FailedPreconditionError("round 0 is the k-FED cold start: post /centroids");
  if (packed) {
    if (fed::UpdateEncodingName(packed->encoding) != opt_.update_encoding)
      return InvalidArgumentError(std::string("update is ") + fed::UpdateEncodingName(packed->encoding) +
                                  " but this aggregator announced update_encoding " + opt_.update_encoding);
    if (packed->k != opt_.k || packed->d != opt_.d)
      return InvalidArgumentError("update has k=" + std::to_string(packed->k) + " d=" +
                                  std::to_string(packed->d) + ", expected k=" + std::to_string(opt_.k) +
                                  " d=" + std::to_string(opt_.d));
    if (packed->model_version != agg_->model().version)
      return FailedPreconditionError("update was computed from model v" + std::to_string(packed->model_version) +
                                     ", the current model is v" + std::to_string(agg_->model().version));
    u = fed::DecompressUpdate(*packed, agg_->model());
    if (!u.ok()) return AsClientError(u.status(), "compressed update");
  }
  std::vector<double> support = NodeSupport(u->stats);
  if (u->stats.contributors > 1 && !r.Header(kSupportHeader).empty()) {
    STRATA_ASSIGN_OR_RETURN(support, ParseSupportHeader(r.Header(kSupportHeader), u->stats.k));
    for (double& s : support) s = std::min<double>(s, static_cast<double>(u->stats.contributors));
  }
  STRATA_RETURN_IF_ERROR(agg_->Submit(*u));
  round_bytes_ += r.body.size();
  for (size_t j = 0; j < support_.size() && j < support.size(); ++j) support_[j] += support[j];
  wake_ = true;
  cv_.notify_all();
  return http::Response::Json({{"accepted", true}, {"round", round}}, 202);
}

Result<http::Response> AggregatorService::PostCentroids(const http::Request& r) {
  uint64_t round = 0;
  STRATA_RETURN_IF_ERROR(CheckPathRound(r, &round));
  auto rep = fed::CentroidReport::Decode(Bytes(r.body));
  if (!rep.ok()) return AsClientError(rep.status(), "centroid report");
  STRATA_RETURN_IF_ERROR(Authenticate(r, rep->node_id));
  if (rep->d != opt_.d)
    return InvalidArgumentError("report has d = " + std::to_string(rep->d) + ", expected " +
                                std::to_string(opt_.d));
  std::lock_guard l(mu_);
  if (!open_ || kind_ != RoundKind::kKFed)
    return FailedPreconditionError("no k-FED round is open (the cold start is over)");
  if (round != round_id_) return InvalidArgumentError("the k-FED round is round 0");
  if (reports_.contains(rep->node_id))
    return AlreadyExistsError("node '" + rep->node_id + "' already reported");
  reports_[rep->node_id] = *rep;
  round_bytes_ += r.body.size();
  spdlog::debug("federate {}: k-FED report {}/{} from {}", opt_.id, reports_.size(), opt_.nodes.size(), rep->node_id);
  wake_ = true;
  cv_.notify_all();
  return http::Response::Json({{"accepted", true}, {"round", round}}, 202);
}

RoundView AggregatorService::RoundLocked() const {
  RoundView v;
  v.round_id = round_id_;
  v.kind = kind_;
  v.state = state_;
  v.model_version = model_ ? model_->version : 0;
  if (open_)
    v.deadline_in_ms = std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(collect_deadline_ - clock_->Now()).count());
  v.attempt = attempt_;
  v.k = opt_.k;
  v.d = opt_.d;
  v.kfed_local_k = opt_.kfed_local_k > 0 ? opt_.kfed_local_k : opt_.k;
  v.clip_norm = opt_.clip_norm;
  if (parent_round_) {
    v.kfed_local_k = parent_round_->kfed_local_k;
    v.clip_norm = parent_round_->clip_norm;
  }
  v.secure = opt_.secure;
  v.update_encoding = opt_.secure ? "f64" : opt_.update_encoding;
  v.stage = sec_.stage;
  const int n = static_cast<int>(opt_.nodes.size());
  v.threshold = std::clamp(static_cast<int>(opt_.threshold_fraction * n) + 1, n / 2 + 1, n);
  for (const NodeEntry& e : opt_.nodes) v.nodes.push_back(e.id);
  v.completed_rounds = completed_;
  return v;
}

RoundView AggregatorService::Round() const {
  std::lock_guard l(mu_);
  return RoundLocked();
}

std::optional<fed::GlobalModel> AggregatorService::Model() const {
  std::lock_guard l(mu_);
  return model_;
}

std::vector<RoundRecord> AggregatorService::History() const {
  std::lock_guard l(mu_);
  return history_;
}

double AggregatorService::EpsilonSpent() const {
  std::lock_guard l(mu_);
  return acct_ ? acct_->TotalEpsilon() : 0.0;
}

std::optional<double> AggregatorService::EpsilonBudget() const {
  if (!acct_) return std::nullopt;
  return opt_.dp_budget > 0 ? opt_.dp_budget : opt_.dp_epsilon;
}

bool AggregatorService::Finished() const {
  std::lock_guard l(mu_);
  return state_ == "done" || state_ == "failed";
}

}  // namespace strata::federate
