#include "strata/federated/compress.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "strata/federated/wire.h"

namespace strata::federated {

uint16_t FloatToHalf(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow → inf
  if (exp <= 0) {                                               // subnormal or zero
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;  // may carry into exponent: correct
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

Result<CompressedVector> Compress(std::span<const double> values, Codec codec, uint32_t block) {
  if (block == 0) return InvalidArgumentError("compress: block must be > 0");
  CompressedVector c;
  c.codec = codec;
  c.size = static_cast<uint32_t>(values.size());
  c.block = block;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      return InvalidArgumentError("compress: value[" + std::to_string(i) + "] is not finite");
  }
  ByteWriter w;
  for (size_t start = 0; start < values.size(); start += block) {
    auto blk = values.subspan(start, std::min<size_t>(block, values.size() - start));
    if (codec == Codec::kFloat64) {
      for (double v : blk) w.F64(v);
    } else if (codec == Codec::kFp16) {
      double mx = 0;
      for (double v : blk) mx = std::max(mx, std::fabs(v));
      float scale = mx > 0 ? std::ldexp(1.0f, std::ilogb(mx)) : 1.0f;
      c.block_scale.push_back(scale);
      for (double v : blk) {
        uint16_t h = FloatToHalf(static_cast<float>(v / scale));
        w.U8(static_cast<uint8_t>(h));
        w.U8(static_cast<uint8_t>(h >> 8));
      }
    } else {
      double lo = blk[0], hi = blk[0];
      for (double v : blk) lo = std::min(lo, v), hi = std::max(hi, v);
      float flo = static_cast<float>(lo);
      float scale = hi > lo ? static_cast<float>((hi - lo) / 255.0) : 1.0f;
      c.block_lo.push_back(flo);
      c.block_scale.push_back(scale);
      for (double v : blk) {
        double q = std::nearbyint((v - flo) / scale);
        w.U8(static_cast<uint8_t>(std::clamp(q, 0.0, 255.0)));
      }
    }
  }
  c.payload = w.Take();
  return c;
}

std::vector<double> Decompress(const CompressedVector& c) {
  std::vector<double> out(c.size);
  for (size_t i = 0; i < c.size; ++i) {
    size_t b = i / c.block;
    switch (c.codec) {
      case Codec::kFloat64: {
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits |= static_cast<uint64_t>(c.payload[8 * i + k]) << (8 * k);
        out[i] = std::bit_cast<double>(bits);
        break;
      }
      case Codec::kFp16: {
        uint16_t h = static_cast<uint16_t>(c.payload[2 * i] | (c.payload[2 * i + 1] << 8));
        out[i] = static_cast<double>(HalfToFloat(h)) * c.block_scale[b];
        break;
      }
      case Codec::kInt8:
        out[i] = c.block_lo[b] + static_cast<double>(c.block_scale[b]) * c.payload[i];
        break;
    }
  }
  return out;
}

std::vector<uint8_t> CompressedVector::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kCompressed);
  w.U8(static_cast<uint8_t>(codec));
  w.U32(size);
  w.U32(block);
  for (float f : block_lo) w.U32(std::bit_cast<uint32_t>(f));
  for (float f : block_scale) w.U32(std::bit_cast<uint32_t>(f));
  w.Raw(payload);
  return w.Take();
}

Result<CompressedVector> CompressedVector::Decode(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kCompressed));
  CompressedVector c;
  STRATA_ASSIGN_OR_RETURN(uint8_t codec, r.U8());
  if (codec > 2) return InvalidArgumentError("compressed: unknown codec " + std::to_string(codec));
  c.codec = static_cast<Codec>(codec);
  STRATA_ASSIGN_OR_RETURN(c.size, r.U32());
  STRATA_ASSIGN_OR_RETURN(c.block, r.U32());
  if (c.size > (1u << 24))
    return InvalidArgumentError("compressed: oversized vector " + std::to_string(c.size));
  if (c.block == 0) return InvalidArgumentError("compressed: block is 0");
  const size_t blocks = (static_cast<size_t>(c.size) + c.block - 1) / c.block;
  const size_t width = c.codec == Codec::kFloat64 ? 8 : c.codec == Codec::kFp16 ? 2 : 1;
  const size_t n_lo = c.codec == Codec::kInt8 ? blocks : 0;
  const size_t n_scale = c.codec == Codec::kFloat64 ? 0 : blocks;
  const size_t need = 4 * (n_lo + n_scale) + width * c.size;
  if (r.remaining() < need) return DataLossError("compressed: truncated payload");
  if (r.remaining() > need) return InvalidArgumentError("compressed: trailing bytes");
  auto read_floats = [&](std::vector<float>& v, size_t n) -> Status {
    v.resize(n);
    for (float& f : v) {
      STRATA_ASSIGN_OR_RETURN(uint32_t bits, r.U32());
      f = std::bit_cast<float>(bits);
      if (!std::isfinite(f)) return InvalidArgumentError("compressed: non-finite block parameter");
    }
    return Status::Ok();
  };
  STRATA_RETURN_IF_ERROR(read_floats(c.block_lo, n_lo));
  STRATA_RETURN_IF_ERROR(read_floats(c.block_scale, n_scale));
  c.payload.resize(width * c.size);
  STRATA_RETURN_IF_ERROR(r.Raw(c.payload));
  return c;
}

Result<CompressedVector> ErrorFeedbackCompressor::Compress(std::span<const double> values) {
  if (residual_.empty()) residual_.assign(values.size(), 0.0);
  if (residual_.size() != values.size()) {
    return InvalidArgumentError("error feedback: vector length changed from " +
                                std::to_string(residual_.size()) + " to " +
                                std::to_string(values.size()));
  }
  std::vector<double> target(values.size());
  for (size_t i = 0; i < values.size(); ++i) target[i] = values[i] + residual_[i];
  STRATA_ASSIGN_OR_RETURN(CompressedVector c, federated::Compress(target, codec_, block_));
  std::vector<double> back = Decompress(c);
  for (size_t i = 0; i < values.size(); ++i) residual_[i] = target[i] - back[i];
  return c;
}

}  // namespace strata::federated
