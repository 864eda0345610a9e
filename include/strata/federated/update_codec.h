// Compressed plain FedLloyd updates: fp16 / int8 sufficient statistics, optional error feedback.
//
// A CompressedUpdate carries the same content as a ModelUpdate, smaller. Sums are sent as the
// per-segment residual against the global model the node trained from (the reference, which the
// aggregator holds too): R_j = S_j − N̂_j·c_j, i.e. Σ w·(x − c_j). Residuals are small and centred,
// so one float32 scale per segment (max |R_j,i|) and 1 (int8, symmetric, q ∈ [−127, 127]) or 2
// (fp16 of R/scale) bytes per value suffice. Counts N_j are never quantised (the aggregator's
// minimum-support rule reads count > 0): when all are integers in [0, 2^53) they travel as exact
// LEB128 varints (1–2 bytes for typical edges), otherwise as float32. Second moments (rare) stay
// float64. Decoding needs the reference: S_j = R̂_j + N̂_j·c_j. UpdateEncoder keeps per-node
// error-feedback state: the residual of round r is added to round r+1's sums before quantising.
// Secure aggregation never uses this (it needs ring elements, see fixed_point.h).
// Thread-safety: functions are pure; UpdateEncoder is not thread-safe (one per node).
//
//   UpdateEncoder enc(UpdateEncoding::kInt8, /*error_feedback=*/true);
//   std::vector<uint8_t> body = enc.Encode(update, model).value();   // POST …/update
//   ModelUpdate back =                                                // aggregator side
//       DecompressUpdate(CompressedUpdate::Decode(body).value(), model).value();
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"
#include "strata/federated/update.h"

namespace strata::federated {

enum class UpdateEncoding : uint8_t { kF64 = 0, kFp16 = 1, kInt8 = 2 };

const char* UpdateEncodingName(UpdateEncoding e);  // "f64" | "fp16" | "int8"
// InvalidArgument unless s is f64, fp16 or int8.
Result<UpdateEncoding> ParseUpdateEncoding(std::string_view s);

struct CompressedUpdate {
  uint64_t round_id = 0;
  std::string node_id;
  uint64_t model_version = 0;  // also the reference model's version
  int k = 0, d = 0;
  uint64_t contributors = 0;
  UpdateEncoding encoding = UpdateEncoding::kInt8;  // kFp16 or kInt8
  bool varint_counts = false;    // counts are exact integers (LEB128), else float32
  std::vector<double> counts;    // k (float32-representable unless varint_counts)
  std::vector<float> scales;     // k, >= 0
  std::vector<uint8_t> payload;  // k·d values: int8 (1 byte) or fp16 (2 bytes, little-endian)
  std::vector<double> second;    // k or empty

  std::vector<uint8_t> Encode() const;
  // DataLoss when truncated; InvalidArgument when malformed, oversized or non-finite.
  static Result<CompressedUpdate> Decode(std::span<const uint8_t> bytes);
  // Bytes of Encode() without the counts (42 + id + scales + values + second moments).
  static size_t FixedSize(int k, int d, UpdateEncoding e, bool second, size_t node_id_bytes);
};

// InvalidArgument when the encoding is kF64, the shapes or versions disagree, or values are not
// finite. `reference` is the model the update was computed against.
Result<CompressedUpdate> CompressUpdate(const ModelUpdate& u, const GlobalModel& reference,
                                        UpdateEncoding e);
// InvalidArgument (→ 4xx) when the shapes or model versions disagree or the result is not finite.
Result<ModelUpdate> DecompressUpdate(const CompressedUpdate& c, const GlobalModel& reference);

// The message type of an encoded federated message (byte 2 of the header), if it has the magic.
std::optional<uint8_t> PeekMessageType(std::span<const uint8_t> bytes);

class UpdateEncoder {
 public:
  UpdateEncoder(UpdateEncoding e, bool error_feedback) : enc_(e), ef_(error_feedback) {}
  // The wire body for `u`: ModelUpdate::Encode() for kF64, else a CompressedUpdate. With error
  // feedback the residual of the previous call is added to u's sums first (reset when k or d
  // change) and the new residual kept.
  Result<std::vector<uint8_t>> Encode(const ModelUpdate& u, const GlobalModel& reference);
  UpdateEncoding encoding() const { return enc_; }
  bool error_feedback() const { return ef_; }
  const std::vector<double>& residual() const { return residual_; }

 private:
  UpdateEncoding enc_;
  bool ef_;
  std::vector<double> residual_;  // k·d sums
};

}  // namespace strata::federated
