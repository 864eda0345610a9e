// AggregatorService, fog role: mirror the parent's rounds for the edges below, aggregate them, and
// forward the sum to the parent as ONE client (plain update + support header, or SecAgg input
// [sums | counts | support]). For the k-FED cold start the fog forwards the union of its edges'
// local centres as one report. HTTP calls to the parent are made without holding the mutex.
#include <spdlog/spdlog.h>

#include "aggregator_service.h"

namespace strata::federate {

namespace fed = strata::federated;

void AggregatorService::FogTick() {
  Result<RoundView> pr = parent_->FetchRound();
  if (!pr.ok()) {
    spdlog::debug("federate {}: parent unreachable: {}", opt_.id, pr.status().message());
    return;
  }
  std::pair<uint64_t, int> key{pr->round_id, pr->attempt};
  std::optional<fed::GlobalModel> model;
  bool fresh = false;
  {
    std::lock_guard l(mu_);
    fresh = pr->open() && key != joined_;
  }
  if (fresh && pr->kind == RoundKind::kLloyd) {
    auto m = parent_->FetchModel(*pr);
    if (!m.ok()) return;  // the parent moved on meanwhile; next tick
    model = *m;
  }
  bool begin_secure = false;
  std::optional<fed::CentroidReport> kfed_report;
  {
    std::lock_guard l(mu_);
    parent_round_ = *pr;
    if (fresh) {
      FogJoin(*pr);
      if (pr->kind == RoundKind::kLloyd && model) {
        model_ = *model;
        auto info = agg_->JoinParentRound({pr->round_id, pr->model_version, collect_deadline_ +
                                           (opt_.secure ? 3 * opt_.phase_timeout : std::chrono::milliseconds(0)),
                                           pr->attempt}, *model_);
        if (!info.ok()) {
          spdlog::error("federate {}: cannot join round {}: {}", opt_.id, pr->round_id, info.status().message());
          open_ = false;
        } else if (opt_.secure) {
          Status s = OpenSecure();
          if (!s.ok()) spdlog::error("federate {}: secure round: {}", opt_.id, s.message());
        }
        begin_secure = pr->secure;
      }
    }
    if (!open_ && (pr->state == "done" || pr->state == "failed")) state_ = pr->state;
    if (open_ && kind_ == RoundKind::kKFed) {
      if (reports_.size() == opt_.nodes.size() || clock_->Now() > collect_deadline_) {
        open_ = false;
        state_ = "idle";
        RoundRecord rec{.round_id = 0, .kind = "kfed", .outcome = "forwarded"};
        fed::CentroidReport u{.node_id = opt_.id, .k = 0, .d = opt_.d, .centroids = {}, .weights = {}};
        for (const NodeEntry& n : opt_.nodes) {
          auto it = reports_.find(n.id);
          if (it == reports_.end()) { rec.missing.push_back(n.id); continue; }
          rec.participants.push_back(n.id);
          u.k += it->second.k;
          u.centroids.insert(u.centroids.end(), it->second.centroids.begin(), it->second.centroids.end());
          u.weights.insert(u.weights.end(), it->second.weights.begin(), it->second.weights.end());
        }
        if (static_cast<int>(rec.participants.size()) >= opt_.min_participants) kfed_report = u;
        else rec.outcome = "retry";
        Emit(rec);
      }
    } else if (open_ && kind_ == RoundKind::kLloyd) {
      if (opt_.secure) SecureTick();
      else if (agg_->Due()) CloseLloyd();
    }
  }
  if (kfed_report) {
    Status s = parent_->SendCentroids(0, *kfed_report);
    if (!s.ok()) spdlog::warn("federate {}: k-FED report not accepted: {}", opt_.id, s.message());
  }
  if (begin_secure) {
    Status s = parent_->SecBegin(*pr);
    if (!s.ok()) spdlog::warn("federate {}: SecAgg advertise: {}", opt_.id, s.message());
  }
  FogForward();
}

void AggregatorService::FogJoin(const RoundView& parent) {
  // A parent round that moved on abandons whatever the fog still had open.
  if (open_ && kind_ == RoundKind::kLloyd) CloseLloyd();
  pending_forward_.reset();
  joined_ = {parent.round_id, parent.attempt};
  kind_ = parent.kind;
  round_id_ = parent.round_id;
  attempt_ = parent.attempt;
  open_ = true;
  state_ = "open";
  opened_at_ = clock_->Now();
  // Finish well before the parent's deadline so the forwarded sum arrives in time.
  auto remaining = std::chrono::milliseconds(parent.deadline_in_ms * 6 / 10);
  collect_deadline_ = opened_at_ + std::min(remaining, opt_.round_timeout);
  support_.assign(opt_.k, 0.0);
  reports_.clear();
  round_bytes_ = 0;
}

void AggregatorService::FogForward() {
  std::optional<std::pair<fed::ModelUpdate, std::vector<double>>> fwd;
  std::optional<RoundView> pr;
  std::optional<fed::GlobalModel> parent_model;
  {
    std::lock_guard l(mu_);
    fwd = pending_forward_;
    pr = parent_round_;
    parent_model = model_;
  }
  if (!pr) return;
  auto clear = [&] {
    std::lock_guard l(mu_);
    pending_forward_.reset();
  };
  if (fwd && fwd->first.round_id != pr->round_id) return clear();  // the parent moved on
  if (fwd && !pr->secure) {
    // Encode the sum as the parent announced (f64 unless it asked for fp16/int8).
    Status s = Status::Ok();
    auto enc = fed::ParseUpdateEncoding(pr->update_encoding);
    if (!enc.ok() || *enc == fed::UpdateEncoding::kF64 || !parent_model) {
      s = parent_->SendUpdate(fwd->first, &fwd->second);
    } else {
      if (!forward_encoder_ || forward_encoder_->encoding() != *enc)
        forward_encoder_.emplace(*enc, opt_.error_feedback);
      auto body = forward_encoder_->Encode(fwd->first, *parent_model);
      s = body.ok() ? parent_->SendUpdateBody(fwd->first.round_id, *body, &fwd->second) : body.status();
    }
    if (!s.ok()) spdlog::warn("federate {}: forward to parent: {}", opt_.id, s.message());
    return clear();
  }
  if (!pr->secure || parent_->sec_round() != pr->round_id) return;
  Result<bool> step = false;
  switch (parent_->sec_state()) {
    case UpstreamClient::SecState::kAdvertised: step = parent_->SecShare(); break;
    case UpstreamClient::SecState::kShared:
      if (fwd) {
        step = parent_->SecMasked(SecureVector(fwd->first.stats, fwd->second));
        if (step.ok() && *step) clear();
      }
      break;
    case UpstreamClient::SecState::kMasked: step = parent_->SecUnmask(); break;
    default: break;
  }
  if (!step.ok()) spdlog::warn("federate {}: SecAgg with parent: {}", opt_.id, step.status().message());
}

}  // namespace strata::federate
