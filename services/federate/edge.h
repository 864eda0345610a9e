// EdgeClient: the edge role of strata-federate. Trains locally on this node's customers' feature
// vectors and sends only the update: a k-FED report of local centres in the cold-start round,
// then per FedLloyd round the per-segment sufficient statistics against the current global model
// (plainly — f64, or fp16/int8 as the round announces, with optional error feedback — or as a
// SecAgg masked input). Customers are clipped to the announced L2 norm first
// (DP). With segment_url set, every new global model is installed in the local strata-segment via
// PUT /api/v1/model (requires d = 16, the segment feature dimension).
// Step() does whatever is due for one announcement, so a simulator can drive many edges from a
// few threads; Run() is the standalone polling loop.
// Thread-safety: not thread-safe; one thread at a time per EdgeClient.
//
//   auto edge = EdgeClient::Create(opts).value();
//   std::atomic<bool> stop{false};
//   STRATA_RETURN_IF_ERROR(edge->Run(stop, std::chrono::hours(24)));
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "federate_config.h"
#include "strata/core/rng.h"
#include "strata/federated/update.h"
#include "strata/federated/update_codec.h"
#include "strata/transport/http_client.h"
#include "upstream.h"

namespace strata::federate {

class EdgeClient {
 public:
  // InvalidArgument on empty points, a bad token or URL.
  static Result<std::unique_ptr<EdgeClient>> Create(const EdgeOptions& options);

  // This node's part of `round` that is due now; true when it sent something.
  Result<bool> Step(const RoundView& round);
  // Polls and steps until the aggregator is done/failed, `stop` is set or `max_time` passes
  // (DeadlineExceeded).
  Status Run(const std::atomic<bool>& stop, std::chrono::milliseconds max_time);

  const std::string& id() const { return opt_.id; }
  uint64_t installed_version() const { return installed_; }
  size_t raw_bytes() const { return opt_.points.size() * sizeof(double); }

 private:
  explicit EdgeClient(EdgeOptions o) : opt_(std::move(o)), rng_(opt_.seed) {}
  Result<bool> LloydStep(const RoundView& r);
  Status MaybeInstall(const RoundView& r);
  Result<federated::GlobalModel> ModelFor(const RoundView& r);

  EdgeOptions opt_;
  Rng rng_;
  std::unique_ptr<UpstreamClient> up_;
  std::unique_ptr<http::HttpClient> segment_;
  std::pair<uint64_t, int> round_key_{~uint64_t{0}, -1};
  bool sent_ = false, dropped_ = false;
  std::optional<federated::GlobalModel> model_;
  std::vector<double> secure_vec_;
  std::optional<federated::UpdateEncoder> encoder_;  // plain rounds: per-node error-feedback state
  uint64_t installed_ = 0;
};

// Global model → strata-segment model bytes (.stf4) for PUT /api/v1/model: ids 1..k, centroids
// in the federation's feature space (mean 0, scale 1). InvalidArgument unless d = 16.
Result<std::string> SegmentModelBytes(const federated::GlobalModel& g);

}  // namespace strata::federate
