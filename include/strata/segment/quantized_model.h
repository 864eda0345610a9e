// QuantizedModel: an int8 segment model for assignment, and versioned binary model files.
//
// Per feature f the model keeps the standardisation scale s_f, an offset o_f (feature units, the
// middle of the centroids' range) and a code step q_f (standardised units): a centroid value c is
// stored as round(((c - o_f) / s_f) / q_f) in [-127, 127], so every feature uses its own full
// int8 range (4x smaller than float32 centroids). Queries are not rounded to the centroid grid:
// ||t - q*code||^2 with t = (x - o) / s is evaluated from the codes with an int16 x int8 dot
// product (query scaled per call to the full int16 range), so the error is the centroid rounding
// (<= q_f / 2 per feature) plus ~2^-15 relative on the query.
// File format (little-endian), kind "STQ8" (int8) or "STF4" (float32 SegmentModel):
//   magic[4] u16 format_version u16 dim u16 k u16 reserved u64 model_version
//   u32 ids[k] | int8: f32 scale[d] f32 offset[d] f32 step[d] i8 codes[k*d]
//              | float: f32 weights[k] f32 mean[d] f32 scale[d] f32 centroids[k*d]
//   u32 crc32 (IEEE) of every preceding byte.
// Decoding errors: wrong magic/version/dims -> InvalidArgument; truncated or checksum mismatch ->
// DataLoss; missing file -> NotFound.
// Thread-safety: immutable after creation; Assign may run concurrently.
//
//   STRATA_ASSIGN_OR_RETURN(auto q, QuantizedModel::Create(km.Model()));
//   STRATA_RETURN_IF_ERROR(WriteFileBytes("var/model.stq8", q.Serialize()));
//   Assignment a = q.Assign(features.data());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"
#include "strata/segment/assign.h"
#include "strata/segment/segment_model.h"

namespace strata::segment {

inline constexpr uint16_t kModelFileVersion = 1;

class QuantizedModel {
 public:
  // InvalidArgument when the model is invalid or empty, k > 65535 or dim > 256.
  static Result<QuantizedModel> Create(const SegmentModel& model);

  // x: dim floats in feature units; distance is the standardised distance to the decoded centroid.
  Assignment Assign(const float* x) const;

  int k() const { return k_; }
  int dim() const { return dim_; }
  uint64_t version() const { return version_; }
  const std::vector<uint32_t>& ids() const { return ids_; }
  // Bytes of the assignment payload: ids + per-feature scale/offset/step + int8 codes.
  size_t PayloadBytes() const;
  // Bytes of the int8 centroid matrix (k * dim).
  size_t CentroidBytes() const { return codes_.size(); }

  std::string Serialize() const;
  static Result<QuantizedModel> Deserialize(std::string_view bytes);

 private:
  QuantizedModel() = default;
  void Prepare();

  int k_ = 0, dim_ = 0;
  uint64_t version_ = 0;
  std::vector<uint32_t> ids_;
  std::vector<float> std_, offset_, step_, inv_std_;
  std::vector<int8_t> codes_;     // k x dim
  std::vector<float> code_norm_;  // ||step * c_j||^2
};

// Float32 SegmentModel file (kind "STF4"); same header, checksum and errors as above.
std::string SerializeModel(const SegmentModel& model);
Result<SegmentModel> DeserializeModel(std::string_view bytes);

// Whole-file helpers. ReadFileBytes: NotFound when missing. WriteFileBytes writes to
// "<path>.tmp" then renames (atomic replace); Internal on I/O failure.
Result<std::string> ReadFileBytes(const std::string& path);
Status WriteFileBytes(const std::string& path, std::string_view bytes);

// IEEE CRC-32 (the zlib one).
uint32_t Crc32(std::string_view bytes);

}  // namespace strata::segment
