// RoundAggregator: the round state machine of a federated aggregator (cloud or fog).
//
// A round has an id, a deadline (from the injected Clock) and the global model version nodes
// train from. Submit() checks each update — unknown node (PermissionDenied), wrong or future round
// (InvalidArgument), replay of a closed round (FailedPrecondition), stale model version
// (FailedPrecondition), late (DeadlineExceeded), wrong k/d (InvalidArgument), duplicate
// (AlreadyExists) — and rejects it with a precise Status while the round continues. Close() ends
// the round: with fewer than min_participants updates the round is retried (kRetry, same model,
// new round id) up to max_retries times in a row, then kFailed; otherwise the updates' sum is
// combined. Role by config: a kCloud aggregator applies the sum to its GlobalModel (versioned);
// a kFog aggregator joins its parent's round and produces one combined ModelUpdate (sum of its
// edges) to forward upward. With secure aggregation the service submits the unmasked sum via
// SubmitAggregate instead of per-node updates.
// Thread-safety: not thread-safe; the owning service serialises calls (one mutex or one strand).
//
//   auto agg = RoundAggregator::Create(cfg, initial_model, Clock::Real()).value();
//   RoundInfo r = agg.StartRound().value();           // publish r + agg.model()
//   Status s = agg.SubmitEncoded(body);               // per HTTP/MQTT update; map s to 4xx
//   if (agg.Due()) RoundOutcome o = agg.Close().value();
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "strata/core/clock.h"
#include "strata/core/status.h"
#include "strata/federated/kmeans.h"
#include "strata/federated/update.h"

namespace strata::federated {

struct AggregatorConfig {
  enum class Role { kCloud, kFog };
  Role role = Role::kCloud;
  std::string aggregator_id = "cloud";  // node id used when a fog forwards its combined update
  std::vector<std::string> nodes;       // registered child node ids (required)
  int k = 0;
  int d = 0;
  bool with_second_moments = false;
  int min_participants = 2;
  Duration round_timeout = std::chrono::seconds(60);
  int max_retries = 3;  // consecutive under-participated rounds before kFailed
  ApplyConfig apply;    // cloud only: decay and min weight
};

struct RoundInfo {
  uint64_t round_id = 0;
  uint64_t model_version = 0;
  WallTime deadline;
  int attempt = 0;  // 0 for the first try of this model version
};

struct RoundOutcome {
  enum class State { kCompleted, kRetry, kFailed };
  State state = State::kFailed;
  uint64_t round_id = 0;
  std::vector<std::string> participants;
  std::vector<std::string> missing;
  SufficientStats sum;                 // valid when kCompleted (after the transform)
  std::optional<GlobalModel> model;    // cloud, kCompleted: the new global model
  std::optional<ModelUpdate> forward;  // fog, kCompleted: the combined update for the parent
};

class RoundAggregator {
 public:
  // `initial` must match k and d (for a fog it is replaced by the parent's model on each round).
  // InvalidArgument on bad config; `clock` must outlive the aggregator.
  static Result<RoundAggregator> Create(const AggregatorConfig& config, GlobalModel initial,
                                        Clock* clock);

  // Cloud: opens the next round. FailedPrecondition if a round is open or the role is kFog.
  Result<RoundInfo> StartRound();
  // Fog: opens a round mirroring the parent's (same round id and model). FailedPrecondition if a
  // round is open or the role is kCloud; InvalidArgument if the model shape is wrong.
  Result<RoundInfo> JoinParentRound(const RoundInfo& parent, const GlobalModel& model);

  Status Submit(const ModelUpdate& update);
  // Decodes then submits; decode errors are returned as they are (DataLoss / InvalidArgument).
  Status SubmitEncoded(std::span<const uint8_t> bytes);
  // Secure aggregation: the unmasked sum of `participants`' updates for this round.
  Status SubmitAggregate(uint64_t round_id, const SufficientStats& sum,
                         const std::vector<std::string>& participants);

  // True when the open round's deadline has passed or every registered node has submitted.
  bool Due() const;
  // Ends the open round. `transform` (e.g. central DP noise) is applied to the sum before it is
  // used; its error fails the round. FailedPrecondition when no round is open.
  Result<RoundOutcome> Close(const std::function<Status(SufficientStats&)>& transform = {});

  bool round_open() const { return open_; }
  const RoundInfo& current() const { return current_; }
  const GlobalModel& model() const { return model_; }
  // Cloud restart from durable state: the next StartRound opens round `last_round_id + 1`.
  void ResumeAfter(uint64_t last_round_id) { next_round_id_ = last_round_id + 1; }

 private:
  RoundAggregator(AggregatorConfig config, GlobalModel initial, Clock* clock);
  Status CheckRound(uint64_t round_id, const std::string& who) const;
  Result<RoundInfo> Open(uint64_t round_id);

  AggregatorConfig config_;
  GlobalModel model_;
  Clock* clock_;
  std::set<std::string> registered_;
  RoundInfo current_;
  bool open_ = false;
  uint64_t next_round_id_ = 1;
  int consecutive_retries_ = 0;
  SufficientStats sum_;
  std::map<std::string, bool> submitted_;
};

}  // namespace strata::federated
