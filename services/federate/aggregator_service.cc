// AggregatorService core: lifecycle, the cloud's round driver (k-FED cold start, FedLloyd rounds,
// minimum support, central DP) and the plain update routes. Secure aggregation lives in
// aggregator_secure.cc, the fog's parent link in aggregator_fog.cc.
#include "aggregator_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace strata::federate {

using nlohmann::json;
namespace fed = strata::federated;

json RoundRecord::ToJson() const {
  return {{"round", round_id},          {"kind", kind},
          {"outcome", outcome},         {"participants", participants},
          {"missing", missing},         {"model_version", model_version},
          {"epsilon_round", epsilon_round}, {"epsilon_total", epsilon_total},
          {"suppressed_segments", suppressed_segments}, {"duration_ms", duration_ms},
          {"bytes_received", bytes_received},
          {"dropouts", missing.size()},
          {"centroid_shift", centroid_shift ? json(*centroid_shift) : json(nullptr)}};
}

namespace {
// Largest Euclidean distance between matching centroids of two models of the same shape.
double MaxShift(const fed::GlobalModel& a, const fed::GlobalModel& b) {
  double worst = 0;
  if (a.centroids.size() != b.centroids.size() || a.d <= 0) return 0;
  for (size_t j = 0; j + a.d <= a.centroids.size(); j += a.d) {
    double sq = 0;
    for (int i = 0; i < a.d; ++i) {
      const double t = a.centroids[j + i] - b.centroids[j + i];
      sq += t * t;
    }
    worst = std::max(worst, std::sqrt(sq));
  }
  return worst;
}
}  // namespace

AggregatorService::AggregatorService(AggregatorOptions o)
    : opt_(std::move(o)), clock_(Clock::Real()), rng_(opt_.seed) {}

AggregatorService::~AggregatorService() { Stop(); }

Result<std::unique_ptr<AggregatorService>> AggregatorService::Create(const AggregatorOptions& o) {
  STRATA_RETURN_IF_ERROR(ValidateAggregator(o));
  std::unique_ptr<AggregatorService> s(new AggregatorService(o));
  for (const NodeEntry& n : o.nodes) {
    STRATA_ASSIGN_OR_RETURN(fed::AuthKey key, ParseToken(n.token));
    s->tokens_.push_back(key);
  }
  s->support_.assign(o.k, 0.0);
  fed::AggregatorConfig cfg;
  cfg.role = o.role == "fog" ? fed::AggregatorConfig::Role::kFog : fed::AggregatorConfig::Role::kCloud;
  cfg.aggregator_id = o.id;
  for (const NodeEntry& n : o.nodes) cfg.nodes.push_back(n.id);
  cfg.k = o.k;
  cfg.d = o.d;
  cfg.min_participants = o.min_participants;
  cfg.max_retries = o.max_retries;
  // Secure rounds finish (unmask) after the collection deadline: give the state machine slack.
  cfg.round_timeout = o.round_timeout + (o.secure ? 3 * o.phase_timeout : std::chrono::milliseconds(0));
  cfg.apply.decay = o.decay;
  if (o.role == "cloud" && o.dp) {
    STRATA_ASSIGN_OR_RETURN(fed::GaussianMechanism m,
                            fed::GaussianMechanism::Create({.clip_norm = o.clip_norm,
                                                            .epsilon = o.dp_epsilon,
                                                            .delta = o.dp_delta,
                                                            .rounds = o.rounds},
                                                           o.d));
    s->mech_.emplace(m);
    s->acct_.emplace(fed::BudgetConfig{
        .epsilon_budget = (o.dp_budget > 0 ? o.dp_budget : o.dp_epsilon) * (1 + 1e-9),
        .delta = o.dp_delta,
        .action = o.budget_action == "warn" ? fed::BudgetConfig::Action::kWarn
                                            : fed::BudgetConfig::Action::kStop});
    // A noised count of a few σ can be ~0: such segments keep their centroid.
    cfg.apply.min_weight = 3 * m.sigma_count();
  }
  fed::GlobalModel zero{0, o.k, o.d, std::vector<double>(static_cast<size_t>(o.k) * o.d, 0.0),
                        std::vector<double>(o.k, 0.0)};
  if (o.role == "cloud" && o.init == "random") {
    zero.version = 1;
    for (double& c : zero.centroids) c = s->rng_.Uniform(-o.init_range, o.init_range);
    s->model_ = zero;
  }
  s->agg_cfg_ = cfg;
  STRATA_ASSIGN_OR_RETURN(fed::RoundAggregator agg, fed::RoundAggregator::Create(cfg, zero, s->clock_));
  s->agg_.emplace(std::move(agg));
  if (o.role == "cloud" && !o.data_dir.empty()) STRATA_RETURN_IF_ERROR(s->LoadState());
  if (o.role == "fog") {
    STRATA_ASSIGN_OR_RETURN(s->parent_, UpstreamClient::Create({.base_url = o.parent_url,
                                                                .node_id = o.id,
                                                                .token = o.parent_token,
                                                                .int8_model = o.int8_model,
                                                                .link_dst = "parent",
                                                                .auth = o.parent_auth}));
  }
  return s;
}

void AggregatorService::SetPublisher(Publisher p) {
  std::lock_guard l(mu_);
  publisher_ = std::move(p);
}

Status AggregatorService::Start() {
  std::lock_guard l(mu_);
  if (thread_.joinable()) return FailedPreconditionError("already started");
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void AggregatorService::Stop() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AggregatorService::Loop() {
  for (;;) {
    {
      std::lock_guard l(mu_);
      if (stop_) return;
    }
    if (opt_.role == "fog") {
      FogTick();
    } else {
      std::lock_guard l(mu_);
      CloudTick();
    }
    Flush();
    std::unique_lock l(mu_);
    cv_.wait_for(l, opt_.poll_interval, [this] { return stop_ || wake_; });
    wake_ = false;
  }
}

void AggregatorService::Flush() {
  std::vector<std::pair<std::string, std::string>> out;
  Publisher p;
  {
    std::lock_guard l(mu_);
    out.swap(outbox_);
    p = publisher_;
  }
  if (p)
    for (auto& [topic, payload] : out) p(topic, payload);
}

void AggregatorService::Emit(const RoundRecord& rec) {
  // Bounded: an aggregator with `rounds: 0` runs for ever (the soak found fl-fog growing ~0.7 MB/h).
  if (history_.size() >= kMaxHistory) history_.erase(history_.begin());
  history_.push_back(rec);
  json j = {{"round", rec.round_id}, {"kind", rec.kind}, {"state", rec.outcome},
            {"clients", {{"ok", rec.participants.size()}, {"dropped", rec.missing.size()}}},
            {"epsilon_spent", rec.epsilon_total}, {"model_version", rec.model_version}};
  if (publisher_) {
    if (model_ && opt_.role == "cloud" && rec.outcome == "completed") {
      std::vector<uint8_t> b = model_->Encode();
      outbox_.emplace_back("model", std::string(b.begin(), b.end()));
    }
    outbox_.emplace_back("round", j.dump());
  }
  spdlog::info("federate {}: round {} ({}) {}: {} participants, {} missing, model v{}", opt_.id,
               rec.round_id, rec.kind, rec.outcome, rec.participants.size(), rec.missing.size(),
               rec.model_version);
}

void AggregatorService::CloudTick() {
  if (state_ == "done" || state_ == "failed") return;
  const WallTime now = clock_->Now();
  if (!open_) {
    if (!model_) return OpenKFed();
    if (opt_.rounds > 0 && completed_ >= static_cast<uint64_t>(opt_.rounds)) {
      state_ = "done";
      return;
    }
    if (acct_ && opt_.budget_action == "stop" && !acct_->CanSpend(mech_->rho_per_round()).ok()) {
      spdlog::warn("federate {}: DP budget reached (epsilon {:.3f}); stopping", opt_.id,
                   acct_->TotalEpsilon());
      state_ = "done";
      return;
    }
    return OpenLloyd();
  }
  if (kind_ == RoundKind::kKFed) {
    if (reports_.size() == opt_.nodes.size() || now > collect_deadline_) CloseKFed();
  } else if (opt_.secure) {
    SecureTick();
  } else if (agg_->Due()) {
    CloseLloyd();
  }
}

void AggregatorService::OpenKFed() {
  kind_ = RoundKind::kKFed;
  round_id_ = 0;
  open_ = true;
  state_ = "open";
  opened_at_ = clock_->Now();
  collect_deadline_ = opened_at_ + opt_.round_timeout;
  reports_.clear();
  round_bytes_ = 0;
}

void AggregatorService::CloseKFed() {
  open_ = false;
  RoundRecord rec{.round_id = 0, .kind = "kfed"};
  rec.bytes_received = round_bytes_;
  for (const NodeEntry& n : opt_.nodes)
    (reports_.contains(n.id) ? rec.participants : rec.missing).push_back(n.id);
  rec.duration_ms = std::chrono::duration<double, std::milli>(clock_->Now() - opened_at_).count();
  std::vector<fed::CentroidReport> reports;
  for (auto& [id, r] : reports_) reports.push_back(r);
  Result<fed::GlobalModel> m = InvalidArgumentError("too few k-FED reports");
  if (static_cast<int>(reports.size()) >= opt_.min_participants)
    m = fed::KFedAggregate(reports, opt_.k, rng_);
  if (m.ok()) {
    model_ = *m;
    // Lloyd rounds start at id 1 from the k-FED model (round 0 was the cold start).
    auto fresh = fed::RoundAggregator::Create(agg_cfg_, *model_, clock_);
    if (fresh.ok()) {
      agg_.emplace(std::move(fresh).value());
    } else {
      m = fresh.status();
      model_.reset();
    }
  }
  if (m.ok()) {
    rec.outcome = "completed";
    rec.model_version = model_->version;
    rec.model = model_;
    state_ = "idle";
  } else {
    rec.outcome = ++attempt_ > opt_.max_retries ? "failed" : "retry";
    state_ = rec.outcome == "failed" ? "failed" : "idle";
    spdlog::warn("federate {}: k-FED round: {}", opt_.id, m.status().message());
  }
  if (rec.outcome == "completed") SaveOrFail();
  Emit(rec);
}

void AggregatorService::OpenLloyd() {
  auto info = agg_->StartRound();
  if (!info.ok()) {
    spdlog::error("federate {}: cannot start a round: {}", opt_.id, info.status().message());
    state_ = "failed";
    return;
  }
  kind_ = RoundKind::kLloyd;
  round_id_ = info->round_id;
  attempt_ = info->attempt;
  open_ = true;
  state_ = "open";
  opened_at_ = clock_->Now();
  collect_deadline_ = opened_at_ + opt_.round_timeout;
  support_.assign(opt_.k, 0.0);
  round_bytes_ = 0;
  if (opt_.secure) {
    Status s = OpenSecure();
    if (!s.ok()) spdlog::error("federate {}: secure round: {}", opt_.id, s.message());
  }
}

Status AggregatorService::Transform(fed::SufficientStats& s, RoundRecord& rec) {
  if (opt_.role != "cloud") return Status::Ok();
  // Minimum support: a segment backed by fewer than min_support nodes is not moved by this
  // round's data (its sums and counts are dropped before the update and before publication).
  std::vector<int> suppressed;
  for (int j = 0; j < s.k; ++j) {
    if (support_[j] >= opt_.min_support) continue;
    if (s.counts[j] != 0) ++rec.suppressed_segments;
    suppressed.push_back(j);
  }
  if (mech_) {
    STRATA_RETURN_IF_ERROR(acct_->Spend(mech_->rho_per_round()));
    STRATA_RETURN_IF_ERROR(mech_->Apply(s, rng_));
    rec.epsilon_round = acct_->EpsilonForRound(acct_->rounds() - 1);
    rec.epsilon_total = acct_->TotalEpsilon();
    if (acct_->over_budget()) spdlog::warn("federate {}: over the DP budget (epsilon {:.3f})", opt_.id, rec.epsilon_total);
  }
  for (int j : suppressed) {
    s.counts[j] = 0;
    std::fill_n(s.sums.begin() + static_cast<std::ptrdiff_t>(j) * s.d, s.d, 0.0);
  }
  return Status::Ok();
}

void AggregatorService::CloseLloyd() {
  RoundRecord rec{.round_id = round_id_, .kind = "lloyd"};
  rec.bytes_received = round_bytes_;
  auto out = agg_->Close([&](fed::SufficientStats& s) { return Transform(s, rec); });
  open_ = false;
  sec_ = Sec{};
  rec.duration_ms = std::chrono::duration<double, std::milli>(clock_->Now() - opened_at_).count();
  state_ = "idle";
  if (!out.ok()) {
    // Only the transform can fail here (the accountant refused the spend): end the run.
    spdlog::warn("federate {}: round {} not applied: {}", opt_.id, round_id_, out.status().message());
    rec.outcome = "failed";
    state_ = "done";
  } else {
    rec.participants = out->participants;
    rec.missing = out->missing;
    switch (out->state) {
      case fed::RoundOutcome::State::kCompleted:
        rec.outcome = "completed";
        if (out->model) {
          if (model_) rec.centroid_shift = MaxShift(*model_, *out->model);
          model_ = *out->model;
          ++completed_;
        }
        if (out->forward) {
          rec.outcome = "forwarded";
          pending_forward_ = std::make_pair(*out->forward, support_);
        }
        break;
      case fed::RoundOutcome::State::kRetry:
        rec.outcome = "retry";
        break;
      case fed::RoundOutcome::State::kFailed:
        rec.outcome = "failed";
        if (opt_.role == "cloud") state_ = "failed";
        break;
    }
  }
  if (acct_) rec.epsilon_total = acct_->TotalEpsilon();
  rec.model_version = model_ ? model_->version : 0;
  if (rec.outcome == "completed") rec.model = model_;
  if (opt_.role == "cloud") SaveOrFail();
  Emit(rec);
}

}  // namespace strata::federate
