#include "strata/federated/aggregator.h"

namespace strata::federated {

RoundAggregator::RoundAggregator(AggregatorConfig config, GlobalModel initial, Clock* clock)
    : config_(std::move(config)),
      model_(std::move(initial)),
      clock_(clock),
      registered_(config_.nodes.begin(), config_.nodes.end()) {}

Result<RoundAggregator> RoundAggregator::Create(const AggregatorConfig& config, GlobalModel initial,
                                                Clock* clock) {
  if (clock == nullptr) return InvalidArgumentError("aggregator: clock is null");
  if (config.nodes.empty()) return InvalidArgumentError("aggregator: nodes is empty");
  if (config.k <= 0 || config.d <= 0)
    return InvalidArgumentError("aggregator: k and d must be > 0");
  if (config.min_participants < 1 ||
      config.min_participants > static_cast<int>(config.nodes.size())) {
    return InvalidArgumentError("aggregator: min_participants must be in [1, #nodes]");
  }
  if (config.round_timeout <= Duration::zero()) {
    return InvalidArgumentError("aggregator: round_timeout must be positive");
  }
  if (config.max_retries < 0) return InvalidArgumentError("aggregator: max_retries must be >= 0");
  if (std::set<std::string>(config.nodes.begin(), config.nodes.end()).size() !=
      config.nodes.size()) {
    return InvalidArgumentError("aggregator: duplicate node ids");
  }
  STRATA_RETURN_IF_ERROR(initial.Validate());
  if (initial.k != config.k || initial.d != config.d) {
    return InvalidArgumentError("aggregator: initial model shape does not match config k/d");
  }
  return RoundAggregator(config, std::move(initial), clock);
}

Result<RoundInfo> RoundAggregator::Open(uint64_t round_id) {
  current_.round_id = round_id;
  current_.model_version = model_.version;
  current_.deadline = clock_->Now() + config_.round_timeout;
  current_.attempt = consecutive_retries_;
  sum_ = SufficientStats::Zero(config_.k, config_.d, config_.with_second_moments);
  submitted_.clear();
  open_ = true;
  return current_;
}

Result<RoundInfo> RoundAggregator::StartRound() {
  if (config_.role != AggregatorConfig::Role::kCloud) {
    return FailedPreconditionError("a fog aggregator joins its parent's rounds (JoinParentRound)");
  }
  if (open_)
    return FailedPreconditionError("round " + std::to_string(current_.round_id) + " is still open");
  return Open(next_round_id_++);
}

Result<RoundInfo> RoundAggregator::JoinParentRound(const RoundInfo& parent,
                                                   const GlobalModel& model) {
  if (config_.role != AggregatorConfig::Role::kFog) {
    return FailedPreconditionError("a cloud aggregator starts its own rounds (StartRound)");
  }
  if (open_)
    return FailedPreconditionError("round " + std::to_string(current_.round_id) + " is still open");
  if (parent.round_id < next_round_id_) {
    return FailedPreconditionError("parent round " + std::to_string(parent.round_id) +
                                   " is not newer than the last joined round");
  }
  STRATA_RETURN_IF_ERROR(model.Validate());
  if (model.k != config_.k || model.d != config_.d || model.version != parent.model_version) {
    return InvalidArgumentError("parent model does not match config k/d or the round's version");
  }
  model_ = model;
  next_round_id_ = parent.round_id + 1;
  STRATA_ASSIGN_OR_RETURN(RoundInfo info, Open(parent.round_id));
  // The fog must finish before its parent: keep the parent's deadline when it is earlier.
  if (parent.deadline != WallTime{} && parent.deadline < current_.deadline) {
    current_.deadline = info.deadline = parent.deadline;
  }
  return info;
}

Status RoundAggregator::CheckRound(uint64_t round_id, const std::string& who) const {
  if (!open_) return FailedPreconditionError("no round is open (update from '" + who + "')");
  if (round_id < current_.round_id) {
    return FailedPreconditionError("update from '" + who + "' is for closed round " +
                                   std::to_string(round_id) + " (replay?); current round is " +
                                   std::to_string(current_.round_id));
  }
  if (round_id > current_.round_id) {
    return InvalidArgumentError("update from '" + who + "' is for unknown future round " +
                                std::to_string(round_id));
  }
  if (clock_->Now() > current_.deadline) {
    return DeadlineExceededError("update from '" + who + "' arrived after the deadline of round " +
                                 std::to_string(round_id));
  }
  return Status::Ok();
}

Status RoundAggregator::Submit(const ModelUpdate& u) {
  if (!registered_.contains(u.node_id)) {
    return PermissionDeniedError("node '" + u.node_id + "' is not registered with aggregator '" +
                                 config_.aggregator_id + "'");
  }
  STRATA_RETURN_IF_ERROR(CheckRound(u.round_id, u.node_id));
  if (u.model_version != current_.model_version) {
    return FailedPreconditionError("update from '" + u.node_id + "' trained from model version " +
                                   std::to_string(u.model_version) + ", round uses " +
                                   std::to_string(current_.model_version));
  }
  if (u.stats.k != config_.k || u.stats.d != config_.d ||
      u.stats.has_second_moments() != config_.with_second_moments) {
    return InvalidArgumentError(
        "update from '" + u.node_id + "' has k=" + std::to_string(u.stats.k) +
        " d=" + std::to_string(u.stats.d) + ", expected k=" + std::to_string(config_.k) +
        " d=" + std::to_string(config_.d));
  }
  STRATA_RETURN_IF_ERROR(u.stats.Validate().WithContext("update from '" + u.node_id + "'"));
  if (submitted_.contains(u.node_id)) {
    return AlreadyExistsError("node '" + u.node_id + "' already submitted to round " +
                              std::to_string(u.round_id));
  }
  SufficientStats s = u.stats;
  if (s.contributors == 0) s.contributors = 1;
  STRATA_RETURN_IF_ERROR(sum_.Accumulate(s));
  submitted_[u.node_id] = true;
  return Status::Ok();
}

Status RoundAggregator::SubmitEncoded(std::span<const uint8_t> bytes) {
  STRATA_ASSIGN_OR_RETURN(ModelUpdate u, ModelUpdate::Decode(bytes));
  return Submit(u);
}

Status RoundAggregator::SubmitAggregate(uint64_t round_id, const SufficientStats& sum,
                                        const std::vector<std::string>& participants) {
  STRATA_RETURN_IF_ERROR(CheckRound(round_id, "secure aggregate"));
  for (const std::string& p : participants) {
    if (!registered_.contains(p))
      return PermissionDeniedError("node '" + p + "' is not registered");
    if (submitted_.contains(p)) return AlreadyExistsError("node '" + p + "' already counted");
  }
  if (sum.k != config_.k || sum.d != config_.d) {
    return InvalidArgumentError("secure aggregate shape does not match config k/d");
  }
  STRATA_RETURN_IF_ERROR(sum.Validate());
  SufficientStats s = sum;
  s.contributors = participants.size();
  STRATA_RETURN_IF_ERROR(sum_.Accumulate(s));
  for (const std::string& p : participants) submitted_[p] = true;
  return Status::Ok();
}

bool RoundAggregator::Due() const {
  return open_ && (clock_->Now() > current_.deadline || submitted_.size() == registered_.size());
}

Result<RoundOutcome> RoundAggregator::Close(
    const std::function<Status(SufficientStats&)>& transform) {
  if (!open_) return FailedPreconditionError("no round is open");
  open_ = false;
  RoundOutcome out;
  out.round_id = current_.round_id;
  for (const std::string& n : config_.nodes) {
    (submitted_.contains(n) ? out.participants : out.missing).push_back(n);
  }
  if (static_cast<int>(out.participants.size()) < config_.min_participants) {
    ++consecutive_retries_;
    out.state = consecutive_retries_ > config_.max_retries ? RoundOutcome::State::kFailed
                                                           : RoundOutcome::State::kRetry;
    if (out.state == RoundOutcome::State::kFailed) consecutive_retries_ = 0;
    return out;
  }
  consecutive_retries_ = 0;
  out.sum = std::move(sum_);
  if (transform) STRATA_RETURN_IF_ERROR(transform(out.sum).WithContext("round transform"));
  out.state = RoundOutcome::State::kCompleted;
  if (config_.role == AggregatorConfig::Role::kCloud) {
    STRATA_ASSIGN_OR_RETURN(model_, ApplyAggregate(model_, out.sum, config_.apply));
    out.model = model_;
  } else {
    ModelUpdate fwd;
    fwd.round_id = current_.round_id;
    fwd.node_id = config_.aggregator_id;
    fwd.model_version = current_.model_version;
    fwd.stats = out.sum;
    out.forward = std::move(fwd);
  }
  return out;
}

}  // namespace strata::federated
