// The strata-federate wire protocol shared by aggregators (cloud, fog) and clients (edge, fog as a
// client of its parent): the round announcement (JSON at GET /api/v1/round), node tokens, the int8
// model broadcast format and the secure-aggregation vector layout.
//
// Secure vector layout (ring elements, fixed point): [sums k·d | counts k | support k], where
// support_j = 1 when the sender's count for segment j is positive (an edge) or the number of edges
// behind it (a fog). Only the sum is revealed, so the aggregator learns per-segment support — the
// number of nodes backing each segment — which the minimum-support rule needs.
// Thread-safety: plain values and pure functions.
//
//   RoundView r = RoundView::FromJson(resp.Json().value()).value();
//   if (r.open && r.kind == RoundKind::kLloyd) { ... }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/core/status.h"
#include "strata/federated/secagg_messages.h"
#include "strata/federated/update.h"
#include "strata/transport/http.h"

namespace strata::federate {

enum class RoundKind { kKFed, kLloyd };
// Secure-aggregation stage of an open round (kNone for plain rounds).
enum class SecStage { kNone, kAdvertise, kShareKeys, kMaskedInput, kUnmask };

const char* RoundKindName(RoundKind k);
const char* SecStageName(SecStage s);

struct RoundView {
  uint64_t round_id = 0;
  RoundKind kind = RoundKind::kLloyd;
  // idle (between rounds) | open (accepting) | done (configured rounds ran, or the DP budget
  // stopped the run) | failed (retries exhausted)
  std::string state = "idle";
  uint64_t model_version = 0;
  int64_t deadline_in_ms = 0;
  int attempt = 0;
  int k = 0, d = 0;
  int kfed_local_k = 0;
  double clip_norm = 0;  // > 0: clip each customer's features to this L2 norm (DP)
  bool secure = false;
  SecStage stage = SecStage::kNone;
  int threshold = 0;
  std::vector<std::string> nodes;  // secure: index i ↔ node; Shamir x = i + 1
  uint64_t completed_rounds = 0;
  // Plain FedLloyd rounds: the encoding every child uses for its update (f64 | fp16 | int8,
  // update_codec.h). Secure rounds announce f64 and use fixed point. Absent in JSON = f64.
  std::string update_encoding = "f64";

  bool open() const { return state == "open"; }
  nlohmann::json ToJson() const;
  static Result<RoundView> FromJson(const nlohmann::json& j);
};

// Secure-aggregation vector length for a k×d model: sums, counts and the support indicator.
inline size_t SecureVectorLength(int k, int d) { return static_cast<size_t>(k) * (d + 2); }
// [Flatten(stats) | support] and back. InvalidArgument on a size mismatch.
std::vector<double> SecureVector(const federated::SufficientStats& s,
                                 const std::vector<double>& support);
Result<std::pair<federated::SufficientStats, std::vector<double>>> SplitSecureVector(
    const std::vector<double>& v, int k, int d);
// Per-segment support of one node's own stats (1 where count > 0).
std::vector<double> NodeSupport(const federated::SufficientStats& s);

// Node tokens are 64 hex digits (32 bytes): the same key authenticates plain updates
// (X-Strata-Node-Token header, constant-time compare) and SecAgg messages (HMAC).
Result<federated::AuthKey> ParseToken(const std::string& hex);
std::string TokenHex(const federated::AuthKey& key);
bool TokenEquals(const std::string& a, const std::string& b);

inline constexpr const char* kNodeTokenHeader = "X-Strata-Node-Token";
inline constexpr const char* kSupportHeader = "X-Strata-Segment-Support";

// GET /api/v1/model?format=int8: CompressedVector(int8) of [centroids | weights] with the version,
// k and d in X-Strata-Model-Version / -K / -D headers.
http::Response ModelResponse(const federated::GlobalModel& m, bool int8);
Result<federated::GlobalModel> ModelFromResponse(const std::string& body, bool int8,
                                                 uint64_t version, int k, int d);

std::string SupportHeaderValue(const std::vector<double>& support);
Result<std::vector<double>> ParseSupportHeader(const std::string& v, int k);

}  // namespace strata::federate
