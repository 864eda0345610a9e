// AggregatorService: the cloud or fog aggregator of strata-federate (docs/services/federate.md).
//
// A driver thread runs the rounds: an optional k-FED cold start (round 0: nodes post local
// centres), then FedLloyd rounds (RoundAggregator) — announce (GET /api/v1/round), accept updates
// until the deadline or until every node is in, combine, publish a new versioned GlobalModel
// (GET /api/v1/model, and via the publish hook on MQTT). Too few participants → the round is
// retried. With `secure`, updates arrive through the SecAgg routes and only their sum is seen.
// Plain rounds announce `update_encoding` (f64 | fp16 | int8): compressed updates are decoded
// against the round's model (update_codec.h) before they are summed; f64 is always accepted.
// Cloud only: the minimum-support rule (a segment backed by fewer than `min_support` nodes is not
// updated from this round's data), central Gaussian DP with a zCDP accountant and budget.
// Fog: mirrors the parent's rounds (same round id and model), aggregates its edges and forwards
// the sum to the parent as ONE client (plain update with support header — encoded as the parent
// announces — or SecAgg input).
// Thread-safety: handlers and accessors may be called from any thread (one mutex); Start/Stop from
// the owner.
//
//   auto agg = AggregatorService::Create(opts).value();
//   agg->RegisterRoutes(*server);  server->Start();  agg->Start();
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "federate_config.h"
#include "protocol.h"
#include "strata/core/clock.h"
#include "strata/core/rng.h"
#include "strata/federated/aggregator.h"
#include "strata/federated/dp.h"
#include "strata/federated/secagg.h"
#include "strata/federated/update_codec.h"
#include "strata/transport/http.h"
#include "upstream.h"

namespace strata::federate {

struct RoundRecord {
  uint64_t round_id = 0;
  std::string kind;     // kfed | lloyd
  std::string outcome;  // completed | retry | failed | forwarded
  std::vector<std::string> participants, missing;
  uint64_t model_version = 0;  // after the round
  double epsilon_round = 0, epsilon_total = 0;
  int suppressed_segments = 0;  // minimum-support rule
  double duration_ms = 0;
  // Payload bytes of the accepted update / centroid-report / SecAgg POSTs of this round.
  uint64_t bytes_received = 0;
  // Completed Lloyd rounds: the largest distance any centroid moved (convergence indicator).
  std::optional<double> centroid_shift;
  std::optional<federated::GlobalModel> model;  // cloud, completed: the model it produced
  nlohmann::json ToJson() const;
};

// MQTT (or any) publisher: topic suffix ("model" | "round"), payload.
using Publisher = std::function<void(const std::string& topic, const std::string& payload)>;

class AggregatorService {
 public:
  // InvalidArgument on bad options (names the field).
  static Result<std::unique_ptr<AggregatorService>> Create(const AggregatorOptions& options);
  ~AggregatorService();

  void RegisterRoutes(http::HttpServer& server);
  void SetPublisher(Publisher p);
  // Starts the driver thread (a fog needs its parent reachable from then on).
  Status Start();
  void Stop();

  RoundView Round() const;
  std::optional<federated::GlobalModel> Model() const;
  std::vector<RoundRecord> History() const;  // the newest kMaxHistory rounds
  double EpsilonSpent() const;
  // The DP budget (dp_budget, else dp_epsilon); nullopt when central DP is off.
  std::optional<double> EpsilonBudget() const;
  bool Finished() const;  // done or failed

 private:
  explicit AggregatorService(AggregatorOptions o);
  void Loop();
  void Tick();
  // Cloud.
  void CloudTick();
  void OpenKFed();
  void CloseKFed();
  void OpenLloyd();
  // Closes the open FedLloyd round (both roles) and records/publishes the outcome.
  void CloseLloyd();
  Status Transform(federated::SufficientStats& s, RoundRecord& rec);
  // Cloud durable state (aggregator_state.cc): written atomically + fsynced after every closed
  // round; loaded by Create (corrupt file → DataLoss, never a silent reset of the DP budget).
  std::string StatePath() const;
  Status SaveState();
  Status LoadState();
  void SaveOrFail();
  // Fog (aggregator_fog.cc).
  void FogTick();
  void FogJoin(const RoundView& parent);
  void FogForward();
  // Secure aggregation (aggregator_secure.cc).
  Status OpenSecure();
  void SecureTick();
  Result<http::Response> SecPost(const http::Request& r, SecStage stage);
  Result<http::Response> SecGet(const http::Request& r, SecStage stage);
  // Shared handlers.
  Result<http::Response> PostUpdate(const http::Request& r);
  Result<http::Response> PostCentroids(const http::Request& r);
  Status CheckPathRound(const http::Request& r, uint64_t* round) const;
  Status Authenticate(const http::Request& r, const std::string& node) const;
  RoundView RoundLocked() const;
  void Emit(const RoundRecord& rec);  // queue publications (sent outside the lock)
  void Flush();

  AggregatorOptions opt_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  bool wake_ = false;  // a submission may have completed the round: tick now
  Rng rng_;
  Publisher publisher_;
  std::vector<std::pair<std::string, std::string>> outbox_;

  // Round state.
  std::string state_ = "idle";
  federated::AggregatorConfig agg_cfg_;
  std::optional<federated::RoundAggregator> agg_;
  std::optional<federated::GlobalModel> model_;  // the published model (cloud) or parent's (fog)
  RoundKind kind_ = RoundKind::kLloyd;
  bool open_ = false;
  uint64_t round_id_ = 0;
  int attempt_ = 0;
  WallTime collect_deadline_{};
  WallTime opened_at_{};
  std::vector<double> support_;
  std::map<std::string, federated::CentroidReport> reports_;
  uint64_t completed_ = 0;
  uint64_t round_bytes_ = 0;  // accepted payload bytes of the open round
  static constexpr size_t kMaxHistory = 1000;  // newest rounds kept for /api/v1/rounds
  std::vector<RoundRecord> history_;
  std::optional<federated::GaussianMechanism> mech_;
  std::optional<federated::ZcdpAccountant> acct_;

  // Secure aggregation of the open round.
  struct Sec {
    std::optional<federated::SecAggServer> server;
    SecStage stage = SecStage::kNone;
    WallTime phase_deadline{};
    size_t advertised = 0, shared = 0, masked = 0, unmasked = 0;
    size_t u1 = 0, u2 = 0, u3 = 0;
    std::vector<uint8_t> key_list, unmask_request;
  } sec_;
  std::vector<federated::AuthKey> tokens_;

  // Fog: the parent link.
  std::unique_ptr<UpstreamClient> parent_;
  std::optional<RoundView> parent_round_;
  std::pair<uint64_t, int> joined_{~uint64_t{0}, -1};  // parent (round, attempt) mirrored
  // Fog: the combined update of its edges and their per-segment support, to send upward.
  std::optional<std::pair<federated::ModelUpdate, std::vector<double>>> pending_forward_;
  // Fog: encodes the forwarded sum as the parent announces (error-feedback state across rounds).
  std::optional<federated::UpdateEncoder> forward_encoder_;
};

}  // namespace strata::federate
