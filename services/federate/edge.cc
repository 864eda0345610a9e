// EdgeClient: local training and update sending for the edge role.
#include "edge.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "strata/federated/dp.h"
#include "strata/federated/kmeans.h"
#include "strata/transport/client_config.h"

namespace strata::federate {

namespace fed = strata::federated;

Result<std::unique_ptr<EdgeClient>> EdgeClient::Create(const EdgeOptions& o) {
  if (o.d < 1 || o.points.empty() || o.points.size() % o.d != 0)
    return InvalidArgumentError("edge '" + o.id + "': points must be a non-empty n×d matrix");
  std::unique_ptr<EdgeClient> e(new EdgeClient(o));
  STRATA_ASSIGN_OR_RETURN(e->up_, UpstreamClient::Create({.base_url = o.aggregator_url,
                                                          .node_id = o.id,
                                                          .token = o.token,
                                                          .int8_model = o.int8_model,
                                                          .secure_seed = o.secure_seed,
                                                          .auth = o.upstream_auth}));
  if (!o.segment_url.empty()) {
    http::ClientConfig seg{.base_url = o.segment_url, .link_src = o.id, .link_dst = "segment"};
    CopyHttpClientAuth(o.upstream_auth, &seg);
    STRATA_ASSIGN_OR_RETURN(e->segment_, http::HttpClient::Create(seg));
  }
  return e;
}

Result<fed::GlobalModel> EdgeClient::ModelFor(const RoundView& r) {
  if (!model_ || model_->version != r.model_version) {
    STRATA_ASSIGN_OR_RETURN(fed::GlobalModel m, up_->FetchModel(r));
    model_ = std::move(m);
  }
  return *model_;
}

Status EdgeClient::MaybeInstall(const RoundView& r) {
  if (!segment_ || r.model_version == 0 || r.model_version <= installed_) return Status::Ok();
  STRATA_ASSIGN_OR_RETURN(fed::GlobalModel m, ModelFor(r));
  STRATA_ASSIGN_OR_RETURN(std::string bytes, SegmentModelBytes(m));
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse resp,
                          segment_->Put("/api/v1/model", bytes, "application/octet-stream"));
  STRATA_RETURN_IF_ERROR(resp.ToStatus().WithContext("install model in strata-segment"));
  installed_ = m.version;
  return Status::Ok();
}

Result<bool> EdgeClient::Step(const RoundView& r) {
  Status inst = MaybeInstall(r);
  if (!inst.ok()) spdlog::warn("edge {}: {}", opt_.id, inst.message());
  if (!r.open()) return false;
  const std::pair<uint64_t, int> key{r.round_id, r.attempt};
  if (key != round_key_) {
    round_key_ = key;
    sent_ = false;
    dropped_ = opt_.drop && opt_.drop(r.round_id);
    secure_vec_.clear();
  }
  if (r.kind == RoundKind::kLloyd) return LloydStep(r);
  if (sent_) return false;
  sent_ = true;
  if (dropped_) return false;
  const int n = static_cast<int>(opt_.points.size() / opt_.d);
  if (r.d != opt_.d) return InvalidArgumentError("aggregator expects d = " + std::to_string(r.d));
  std::vector<double> pts = opt_.points;
  if (r.clip_norm > 0) fed::ClipRows(pts, opt_.d, r.clip_norm);
  STRATA_ASSIGN_OR_RETURN(fed::CentroidReport rep,
                          fed::KFedLocal(opt_.id, pts, opt_.d, std::min(r.kfed_local_k, n), 20, rng_));
  STRATA_RETURN_IF_ERROR(up_->SendCentroids(r.round_id, rep));
  return true;
}

Result<bool> EdgeClient::LloydStep(const RoundView& r) {
  if (!sent_) {
    STRATA_ASSIGN_OR_RETURN(fed::GlobalModel m, ModelFor(r));
    std::vector<double> pts = opt_.points;
    if (r.clip_norm > 0) fed::ClipRows(pts, opt_.d, r.clip_norm);
    STRATA_ASSIGN_OR_RETURN(fed::SufficientStats stats, fed::LocalStats(pts, m, false));
    sent_ = true;
    if (!r.secure) {
      if (dropped_) return false;
      STRATA_ASSIGN_OR_RETURN(fed::UpdateEncoding enc, fed::ParseUpdateEncoding(r.update_encoding));
      if (!encoder_ || encoder_->encoding() != enc) encoder_.emplace(enc, opt_.error_feedback);
      STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> body,
                              encoder_->Encode({r.round_id, opt_.id, m.version, stats}, m));
      STRATA_RETURN_IF_ERROR(up_->SendUpdateBody(r.round_id, body, nullptr));
      return true;
    }
    secure_vec_ = SecureVector(stats, NodeSupport(stats));
    STRATA_RETURN_IF_ERROR(up_->SecBegin(r));
    return true;
  }
  if (!r.secure || up_->sec_round() != r.round_id) return false;
  // Only ask for a stage's data once the announcement says the aggregator reached it.
  const int stage = static_cast<int>(r.stage);
  switch (up_->sec_state()) {
    case UpstreamClient::SecState::kAdvertised:
      if (stage >= static_cast<int>(SecStage::kShareKeys)) return up_->SecShare();
      break;
    case UpstreamClient::SecState::kShared:
      // A dropout in the simulation: keys shared, then gone (SecAgg recovers its masks).
      if (!dropped_ && stage >= static_cast<int>(SecStage::kMaskedInput)) return up_->SecMasked(secure_vec_);
      break;
    case UpstreamClient::SecState::kMasked:
      if (stage >= static_cast<int>(SecStage::kUnmask)) return up_->SecUnmask();
      break;
    default:
      break;
  }
  return false;
}

Status EdgeClient::Run(const std::atomic<bool>& stop, std::chrono::milliseconds max_time) {
  const auto end = std::chrono::steady_clock::now() + max_time;
  while (!stop.load()) {
    if (std::chrono::steady_clock::now() > end) return DeadlineExceededError("edge run time is over");
    auto r = up_->FetchRound();
    bool acted = false;
    if (r.ok()) {
      if (r->state == "done" || r->state == "failed") {
        (void)Step(*r);  // installs the final model
        return Status::Ok();
      }
      auto s = Step(*r);
      if (!s.ok()) spdlog::warn("edge {}: round {}: {}", opt_.id, r->round_id, s.status().message());
      acted = s.ok() && *s;
    }
    if (!acted) std::this_thread::sleep_for(opt_.poll_interval);
  }
  return Status::Ok();
}

}  // namespace strata::federate
