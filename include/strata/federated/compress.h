// Lossy compression of update / model vectors: blockwise int8 and fp16, optional error feedback.
//
// Values are cut into blocks of `block` values. kInt8: per block an affine map (lo, scale, both
// float32) with q = round((x − lo)/scale) ∈ [0, 255]; max error scale/2. kFp16: per block a
// power-of-two float32 scale so |x/scale| ≤ 2, then IEEE half (round to nearest even); relative
// error ≤ 2^-11 of the block's largest magnitude. kFloat64 is the lossless reference.
// ErrorFeedbackCompressor adds the previous round's quantisation residual before compressing
// (error feedback), so the error does not accumulate across rounds.
// Compressed vectors are not ring elements: compression applies to plaintext or hierarchical
// updates and to the model broadcast, not to secure aggregation inputs.
// Thread-safety: functions are pure; ErrorFeedbackCompressor is not thread-safe.
//
//   CompressedVector c = Compress(update.stats.Flatten(), Codec::kInt8).value();
//   std::vector<uint8_t> wire = c.Encode();   // c.Encode().size() = bytes per update
//   std::vector<double> back = Decompress(CompressedVector::Decode(wire).value());
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "strata/core/status.h"

namespace strata::federated {

enum class Codec : uint8_t { kFloat64 = 0, kFp16 = 1, kInt8 = 2 };

uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);

struct CompressedVector {
  Codec codec = Codec::kFloat64;
  uint32_t size = 0;               // number of values
  uint32_t block = 64;             // values per block
  std::vector<float> block_lo;     // int8 only
  std::vector<float> block_scale;  // int8 and fp16
  std::vector<uint8_t> payload;    // 8, 2 or 1 byte(s) per value

  std::vector<uint8_t> Encode() const;
  // DataLoss when truncated; InvalidArgument when malformed or oversized.
  static Result<CompressedVector> Decode(std::span<const uint8_t> bytes);
};

// InvalidArgument on non-finite values or block == 0.
Result<CompressedVector> Compress(std::span<const double> values, Codec codec, uint32_t block = 64);
std::vector<double> Decompress(const CompressedVector& c);

class ErrorFeedbackCompressor {
 public:
  explicit ErrorFeedbackCompressor(Codec codec, uint32_t block = 64)
      : codec_(codec), block_(block) {}
  // Compresses values + residual and keeps the new residual. InvalidArgument if the length changes.
  Result<CompressedVector> Compress(std::span<const double> values);
  const std::vector<double>& residual() const { return residual_; }

 private:
  Codec codec_;
  uint32_t block_;
  std::vector<double> residual_;
};

}  // namespace strata::federated
