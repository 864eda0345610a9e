// Compressed plain updates (update_codec.h): residuals against the reference model, per-segment
// scale, int8 or fp16 values, float32 counts, and the per-node error-feedback encoder.
#include "strata/federated/update_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "strata/federated/compress.h"
#include "strata/federated/wire.h"

namespace strata::federated {
namespace {

size_t Width(UpdateEncoding e) { return e == UpdateEncoding::kFp16 ? 2 : 1; }

void F32(ByteWriter& w, float f) { w.U32(std::bit_cast<uint32_t>(f)); }

Result<float> ReadF32(ByteReader& r, const char* what) {
  STRATA_ASSIGN_OR_RETURN(uint32_t bits, r.U32());
  float f = std::bit_cast<float>(bits);
  if (!std::isfinite(f))
    return InvalidArgumentError(std::string("compressed update: non-finite ") + what);
  return f;
}

Status CheckReference(int k, int d, uint64_t version, const GlobalModel& ref) {
  if (ref.k != k || ref.d != d)
    return InvalidArgumentError("compressed update: shape k=" + std::to_string(k) +
                                " d=" + std::to_string(d) + " does not match the model (k=" +
                                std::to_string(ref.k) + " d=" + std::to_string(ref.d) + ")");
  if (ref.version != version)
    return InvalidArgumentError("compressed update: trained from model v" +
                                std::to_string(version) + ", the reference is v" +
                                std::to_string(ref.version));
  return ref.Validate();
}

}  // namespace

const char* UpdateEncodingName(UpdateEncoding e) {
  switch (e) {
    case UpdateEncoding::kFp16:
      return "fp16";
    case UpdateEncoding::kInt8:
      return "int8";
    case UpdateEncoding::kF64:
      break;
  }
  return "f64";
}

Result<UpdateEncoding> ParseUpdateEncoding(std::string_view s) {
  for (UpdateEncoding e : {UpdateEncoding::kF64, UpdateEncoding::kFp16, UpdateEncoding::kInt8})
    if (s == UpdateEncodingName(e)) return e;
  return InvalidArgumentError("update_encoding must be f64, fp16 or int8, got '" + std::string(s) +
                              "'");
}

size_t CompressedUpdate::FixedSize(int k, int d, UpdateEncoding e, bool second, size_t id_bytes) {
  const size_t kk = static_cast<size_t>(k);
  return 42 + id_bytes + 4 * kk + Width(e) * kk * static_cast<size_t>(d) + (second ? 8 * kk : 0);
}

std::vector<uint8_t> CompressedUpdate::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kCompressedUpdate);
  w.U64(round_id);
  w.String(node_id);
  w.U64(model_version);
  w.U32(static_cast<uint32_t>(k));
  w.U32(static_cast<uint32_t>(d));
  w.U8(static_cast<uint8_t>(encoding));
  w.U8(static_cast<uint8_t>((second.empty() ? 0 : 1) | (varint_counts ? 2 : 0)));
  w.U64(contributors);
  for (double n : counts) {
    if (!varint_counts) {
      F32(w, static_cast<float>(n));
      continue;
    }
    uint64_t v = static_cast<uint64_t>(n);
    for (; v >= 0x80; v >>= 7) w.U8(static_cast<uint8_t>(v | 0x80));
    w.U8(static_cast<uint8_t>(v));
  }
  for (float f : scales) F32(w, f);
  w.Raw(payload);
  for (double v : second) w.F64(v);
  return w.Take();
}

Result<CompressedUpdate> CompressedUpdate::Decode(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kCompressedUpdate));
  CompressedUpdate c;
  STRATA_ASSIGN_OR_RETURN(c.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(c.node_id, r.String(kMaxNodeIdBytes));
  STRATA_ASSIGN_OR_RETURN(c.model_version, r.U64());
  STRATA_ASSIGN_OR_RETURN(uint32_t k, r.U32());
  STRATA_ASSIGN_OR_RETURN(uint32_t d, r.U32());
  if (k > kMaxSegments || d == 0 || d > kMaxDims || static_cast<uint64_t>(k) * d > kMaxMatrixValues)
    return InvalidArgumentError("compressed update: bad shape k=" + std::to_string(k) +
                                " d=" + std::to_string(d));
  c.k = static_cast<int>(k);
  c.d = static_cast<int>(d);
  STRATA_ASSIGN_OR_RETURN(uint8_t enc, r.U8());
  if (enc != static_cast<uint8_t>(UpdateEncoding::kFp16) &&
      enc != static_cast<uint8_t>(UpdateEncoding::kInt8))
    return InvalidArgumentError("compressed update: unknown encoding " + std::to_string(enc));
  c.encoding = static_cast<UpdateEncoding>(enc);
  STRATA_ASSIGN_OR_RETURN(uint8_t flags, r.U8());
  if (flags > 3) return InvalidArgumentError("compressed update: bad flags");
  const bool has_q = flags & 1;
  c.varint_counts = flags & 2;
  STRATA_ASSIGN_OR_RETURN(c.contributors, r.U64());
  if (r.remaining() < static_cast<size_t>(k))
    return DataLossError("compressed update: truncated counts");
  c.counts.resize(k);
  for (double& n : c.counts) {
    if (!c.varint_counts) {
      STRATA_ASSIGN_OR_RETURN(n, ReadF32(r, "count"));
      continue;
    }
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      STRATA_ASSIGN_OR_RETURN(uint8_t b, r.U8());
      if (shift > 49 || (shift == 49 && (b & 0x7f) > 15))
        return InvalidArgumentError("compressed update: count above 2^53");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    n = static_cast<double>(v);
  }
  // What follows the counts: scales, values, second moments.
  const size_t need =
      FixedSize(c.k, c.d, c.encoding, has_q, c.node_id.size()) - 42 - c.node_id.size();
  if (r.remaining() < need) return DataLossError("compressed update: truncated payload");
  if (r.remaining() > need) return InvalidArgumentError("compressed update: trailing bytes");
  c.scales.resize(k);
  for (float& f : c.scales) {
    STRATA_ASSIGN_OR_RETURN(f, ReadF32(r, "scale"));
    if (f < 0) return InvalidArgumentError("compressed update: negative scale");
  }
  c.payload.resize(Width(c.encoding) * k * d);
  STRATA_RETURN_IF_ERROR(r.Raw(c.payload));
  if (c.encoding == UpdateEncoding::kFp16) {
    for (size_t i = 0; i + 1 < c.payload.size(); i += 2)
      if ((c.payload[i + 1] & 0x7c) == 0x7c)
        return InvalidArgumentError("compressed update: non-finite fp16 value");
  }
  if (has_q) {
    c.second.resize(k);
    for (double& v : c.second) {
      STRATA_ASSIGN_OR_RETURN(v, r.F64());
      if (!std::isfinite(v))
        return InvalidArgumentError("compressed update: non-finite second moment");
    }
  }
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  return c;
}

Result<CompressedUpdate> CompressUpdate(const ModelUpdate& u, const GlobalModel& ref,
                                        UpdateEncoding e) {
  if (e == UpdateEncoding::kF64)
    return InvalidArgumentError("compress update: f64 is not compressed");
  STRATA_RETURN_IF_ERROR(u.stats.Validate());
  const int k = u.stats.k, d = u.stats.d;
  STRATA_RETURN_IF_ERROR(CheckReference(k, d, u.model_version, ref));
  CompressedUpdate c{.round_id = u.round_id,
                     .node_id = u.node_id,
                     .model_version = u.model_version,
                     .k = k,
                     .d = d,
                     .contributors = u.stats.contributors,
                     .encoding = e,
                     .counts = {},
                     .scales = {},
                     .payload = {},
                     .second = u.stats.second};
  c.payload.reserve(Width(e) * k * d);
  c.varint_counts = std::all_of(u.stats.counts.begin(), u.stats.counts.end(), [](double n) {
    return n >= 0 && n < 9007199254740992.0 && n == std::floor(n);
  });
  std::vector<double> res(d);
  for (int j = 0; j < k; ++j) {
    const double n = c.varint_counts ? u.stats.counts[j]
                                     : static_cast<double>(static_cast<float>(u.stats.counts[j]));
    if (!std::isfinite(n)) return InvalidArgumentError("compress update: count overflows float32");
    c.counts.push_back(n);
    double mx = 0;
    for (int i = 0; i < d; ++i) {
      const size_t at = static_cast<size_t>(j) * d + i;
      res[i] = u.stats.sums[at] - n * ref.centroids[at];
      mx = std::max(mx, std::fabs(res[i]));
    }
    const float scale = static_cast<float>(e == UpdateEncoding::kInt8 ? mx / 127.0 : mx);
    if (!std::isfinite(scale))
      return InvalidArgumentError("compress update: sums overflow float32");
    c.scales.push_back(scale);
    for (int i = 0; i < d; ++i) {
      const double x = scale > 0 ? res[i] / scale : 0.0;
      if (e == UpdateEncoding::kInt8) {
        const double q = std::clamp(std::nearbyint(x), -127.0, 127.0);
        c.payload.push_back(static_cast<uint8_t>(static_cast<int8_t>(q)));
      } else {
        const uint16_t h = FloatToHalf(static_cast<float>(std::clamp(x, -1.0, 1.0)));
        c.payload.push_back(static_cast<uint8_t>(h));
        c.payload.push_back(static_cast<uint8_t>(h >> 8));
      }
    }
  }
  return c;
}

Result<ModelUpdate> DecompressUpdate(const CompressedUpdate& c, const GlobalModel& ref) {
  STRATA_RETURN_IF_ERROR(CheckReference(c.k, c.d, c.model_version, ref));
  const size_t kd = static_cast<size_t>(c.k) * c.d;
  if (c.counts.size() != static_cast<size_t>(c.k) || c.scales.size() != static_cast<size_t>(c.k) ||
      c.payload.size() != Width(c.encoding) * kd ||
      (!c.second.empty() && c.second.size() != static_cast<size_t>(c.k)))
    return InvalidArgumentError("compressed update: vectors do not match k and d");
  ModelUpdate u{.round_id = c.round_id,
                .node_id = c.node_id,
                .model_version = c.model_version,
                .stats = SufficientStats::Zero(c.k, c.d, !c.second.empty())};
  u.stats.contributors = c.contributors;
  for (int j = 0; j < c.k; ++j) {
    u.stats.counts[j] = c.counts[j];
    for (int i = 0; i < c.d; ++i) {
      const size_t at = static_cast<size_t>(j) * c.d + i;
      const double q = c.encoding == UpdateEncoding::kInt8
                           ? static_cast<double>(static_cast<int8_t>(c.payload[at]))
                           : static_cast<double>(HalfToFloat(static_cast<uint16_t>(
                                 c.payload[2 * at] | (c.payload[2 * at + 1] << 8))));
      u.stats.sums[at] = q * c.scales[j] + c.counts[j] * ref.centroids[at];
    }
  }
  if (!c.second.empty()) u.stats.second = c.second;
  STRATA_RETURN_IF_ERROR(u.stats.Validate());
  return u;
}

std::optional<uint8_t> PeekMessageType(std::span<const uint8_t> bytes) {
  if (bytes.size() < 4 || bytes[0] != 'S' || bytes[1] != 'F') return std::nullopt;
  return bytes[2];
}

Result<std::vector<uint8_t>> UpdateEncoder::Encode(const ModelUpdate& u, const GlobalModel& ref) {
  if (enc_ == UpdateEncoding::kF64) return u.Encode();
  ModelUpdate target = u;
  if (ef_) {
    if (residual_.size() != target.stats.sums.size())
      residual_.assign(target.stats.sums.size(), 0.0);
    for (size_t i = 0; i < residual_.size(); ++i) target.stats.sums[i] += residual_[i];
  }
  STRATA_ASSIGN_OR_RETURN(CompressedUpdate c, CompressUpdate(target, ref, enc_));
  if (ef_) {
    STRATA_ASSIGN_OR_RETURN(ModelUpdate back, DecompressUpdate(c, ref));
    for (size_t i = 0; i < residual_.size(); ++i)
      residual_[i] = target.stats.sums[i] - back.stats.sums[i];
  }
  return c.Encode();
}

}  // namespace strata::federated
