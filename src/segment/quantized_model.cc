#include "strata/segment/quantized_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace strata::segment {
namespace {

constexpr char kMagicQ8[4] = {'S', 'T', 'Q', '8'};
constexpr char kMagicF4[4] = {'S', 'T', 'F', '4'};
constexpr size_t kHeaderBytes = 4 + 2 + 2 + 2 + 2 + 8;

const std::array<uint32_t, 256>& CrcTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int b = 0; b < 8; ++b) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

class Writer {
 public:
  template <typename T>
  void Put(T v) {  // little-endian hosts only (x86-64, aarch64)
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string Finish() {
    Put<uint32_t>(Crc32(out_));
    return std::move(out_);
  }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  bool Get(T* v) {
    if (pos_ + sizeof(T) > b_.size()) return false;
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Raw(void* p, size_t n) {
    if (pos_ + n > b_.size()) return false;
    std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

struct Header {
  uint16_t format_version, dim, k, reserved;
  uint64_t model_version;
};

// Checks magic, checksum, version and that the file holds exactly `body(k, dim)` bytes.
template <typename BodyBytes>
Result<Header> CheckFile(std::string_view bytes, const char (&magic)[4], BodyBytes body) {
  if (bytes.size() < 4)
    return DataLossError("model file: truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), magic, 4) != 0) {
    return InvalidArgumentError("model file: bad magic (expected '" + std::string(magic, 4) + "')");
  }
  if (bytes.size() < kHeaderBytes + 4) return DataLossError("model file: truncated header");
  Reader r(bytes.substr(4));
  Header h{};
  (void)r.Get(&h.format_version), (void)r.Get(&h.dim), (void)r.Get(&h.k), (void)r.Get(&h.reserved),
      (void)r.Get(&h.model_version);
  if (h.format_version != kModelFileVersion) {
    return InvalidArgumentError("model file: unsupported format version " +
                                std::to_string(h.format_version) + " (this build reads " +
                                std::to_string(kModelFileVersion) + ")");
  }
  if (h.dim < 1 || h.dim > kMaxDims || h.k < 1) {
    return InvalidArgumentError("model file: bad dimensions k=" + std::to_string(h.k) +
                                " dim=" + std::to_string(h.dim));
  }
  const size_t expected = kHeaderBytes + body(h.k, h.dim) + 4;
  if (bytes.size() < expected) {
    return DataLossError("model file: truncated (" + std::to_string(bytes.size()) +
                         " bytes, expected " + std::to_string(expected) + ")");
  }
  if (bytes.size() > expected) {
    return InvalidArgumentError("model file: " + std::to_string(bytes.size() - expected) +
                                " trailing bytes");
  }
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + expected - 4, 4);
  if (stored != Crc32(bytes.substr(0, expected - 4))) {
    return DataLossError("model file: checksum mismatch");
  }
  return h;
}

void PutHeader(Writer& w, const char (&magic)[4], int dim, int k, uint64_t version) {
  w.Raw(magic, 4);
  w.Put<uint16_t>(kModelFileVersion);
  w.Put<uint16_t>(static_cast<uint16_t>(dim));
  w.Put<uint16_t>(static_cast<uint16_t>(k));
  w.Put<uint16_t>(0);
  w.Put<uint64_t>(version);
}

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  const auto& t = CrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = t[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<QuantizedModel> QuantizedModel::Create(const SegmentModel& m) {
  STRATA_RETURN_IF_ERROR(m.Validate());
  if (m.k() < 1) return InvalidArgumentError("model: no segments (k = 0)");
  if (m.k() > 65535) return InvalidArgumentError("model: k > 65535");
  if (m.dim() > kMaxDims) return InvalidArgumentError("model: dim > 256");
  const Matrix cz = m.StandardizedCentroids();
  QuantizedModel q;
  q.k_ = m.k();
  q.dim_ = m.dim();
  q.version_ = m.version;
  q.ids_ = m.ids;
  for (int f = 0; f < q.dim_; ++f) {
    // Codes span this feature's centroid range: mid +- 127 steps.
    const float lo = cz.col(f).minCoeff(), hi = cz.col(f).maxCoeff();
    const float mid = 0.5f * (lo + hi);
    const float step = std::max((hi - lo) / 254.0f, 1e-6f);
    q.std_.push_back(m.scale[f]);
    q.offset_.push_back(m.mean[f] + m.scale[f] * mid);
    q.step_.push_back(step);
  }
  q.codes_.resize(static_cast<size_t>(q.k_) * q.dim_);
  for (int j = 0; j < q.k_; ++j) {
    for (int f = 0; f < q.dim_; ++f) {
      const float t = (m.centroids(j, f) - q.offset_[f]) / q.std_[f];
      q.codes_[static_cast<size_t>(j) * q.dim_ + f] =
          static_cast<int8_t>(std::clamp(std::round(t / q.step_[f]), -127.0f, 127.0f));
    }
  }
  q.Prepare();
  return q;
}

void QuantizedModel::Prepare() {
  inv_std_.resize(dim_);
  for (int f = 0; f < dim_; ++f) inv_std_[f] = 1.0f / std_[f];
  code_norm_.assign(k_, 0.0f);
  for (int j = 0; j < k_; ++j) {
    for (int f = 0; f < dim_; ++f) {
      const float c = step_[f] * codes_[static_cast<size_t>(j) * dim_ + f];
      code_norm_[j] += c * c;
    }
  }
}

Assignment QuantizedModel::Assign(const float* x) const {
  // t = standardised offset from the feature's mid-range; u = t * step, so that
  // ||t - step*c||^2 = ||t||^2 - 2 u.c + ||step*c||^2 with c the int8 codes. u is carried as
  // int16 with a per-query scale (relative error ~2^-15), so u.c is an exact integer dot product.
  alignas(32) float u[kMaxDims];
  alignas(32) int16_t uq[kMaxDims];
  float tn = 0, umax = 0;
  for (int f = 0; f < dim_; ++f) {
    const float t = (x[f] - offset_[f]) * inv_std_[f];
    tn += t * t;
    u[f] = t * step_[f];
    umax = std::max(umax, std::abs(u[f]));
  }
  const float qscale = umax > 0 ? 32767.0f / umax : 1.0f;
  for (int f = 0; f < dim_; ++f) uq[f] = static_cast<int16_t>(std::lrint(u[f] * qscale));
  const float inv_q2 = 2.0f / qscale;
  float b1 = std::numeric_limits<float>::infinity(), b2 = b1;
  int i1 = 0;
  const int8_t* c = codes_.data();
  for (int j = 0; j < k_; ++j, c += dim_) {
    int32_t dot = 0;
    for (int f = 0; f < dim_; ++f) dot += int32_t{uq[f]} * int32_t{c[f]};
    const float v = code_norm_[j] - inv_q2 * static_cast<float>(dot);
    if (v < b1) {
      b2 = b1;
      b1 = v;
      i1 = j;
    } else if (v < b2) {
      b2 = v;
    }
  }
  Assignment a;
  a.index = i1;
  a.segment_id = ids_[i1];
  a.distance = std::sqrt(std::max(0.0f, b1 + tn));
  a.second_distance = k_ > 1 ? std::sqrt(std::max(0.0f, b2 + tn)) : a.distance;
  a.confidence = (k_ > 1 && a.second_distance > 0)
                     ? std::clamp(1.0f - a.distance / a.second_distance, 0.0f, 1.0f)
                     : 1.0f;
  return a;
}

size_t QuantizedModel::PayloadBytes() const {
  return ids_.size() * 4 + (std_.size() + offset_.size() + step_.size()) * 4 + codes_.size();
}

std::string QuantizedModel::Serialize() const {
  Writer w;
  PutHeader(w, kMagicQ8, dim_, k_, version_);
  w.Raw(ids_.data(), ids_.size() * 4);
  w.Raw(std_.data(), std_.size() * 4);
  w.Raw(offset_.data(), offset_.size() * 4);
  w.Raw(step_.data(), step_.size() * 4);
  w.Raw(codes_.data(), codes_.size());
  return w.Finish();
}

Result<QuantizedModel> QuantizedModel::Deserialize(std::string_view bytes) {
  STRATA_ASSIGN_OR_RETURN(Header h, CheckFile(bytes, kMagicQ8, [](size_t k, size_t d) {
                            return k * 4 + d * 12 + k * d;
                          }));
  QuantizedModel q;
  q.k_ = h.k;
  q.dim_ = h.dim;
  q.version_ = h.model_version;
  q.ids_.resize(h.k);
  q.std_.resize(h.dim);
  q.offset_.resize(h.dim);
  q.step_.resize(h.dim);
  q.codes_.resize(static_cast<size_t>(h.k) * h.dim);
  Reader r(bytes.substr(kHeaderBytes));
  (void)r.Raw(q.ids_.data(), q.ids_.size() * 4);
  (void)r.Raw(q.std_.data(), q.std_.size() * 4);
  (void)r.Raw(q.offset_.data(), q.offset_.size() * 4);
  (void)r.Raw(q.step_.data(), q.step_.size() * 4);
  (void)r.Raw(q.codes_.data(), q.codes_.size());
  for (int f = 0; f < q.dim_; ++f) {
    if (!(q.std_[f] > 0) || !std::isfinite(q.std_[f]) || !std::isfinite(q.offset_[f]) ||
        !(q.step_[f] > 0) || !std::isfinite(q.step_[f])) {
      return InvalidArgumentError("model file: feature " + std::to_string(f) +
                                  " has a non-positive or non-finite scale/offset/step");
    }
  }
  q.Prepare();
  return q;
}

std::string SerializeModel(const SegmentModel& m) {
  Writer w;
  PutHeader(w, kMagicF4, m.dim(), m.k(), m.version);
  w.Raw(m.ids.data(), m.ids.size() * 4);
  std::vector<float> weights = m.weights;
  weights.resize(m.k(), 0.0f);
  w.Raw(weights.data(), weights.size() * 4);
  w.Raw(m.mean.data(), m.mean.size() * 4);
  w.Raw(m.scale.data(), m.scale.size() * 4);
  w.Raw(m.centroids.data(), m.centroids.size() * 4);
  return w.Finish();
}

Result<SegmentModel> DeserializeModel(std::string_view bytes) {
  STRATA_ASSIGN_OR_RETURN(Header h, CheckFile(bytes, kMagicF4, [](size_t k, size_t d) {
                            return k * 8 + d * 8 + k * d * 4;
                          }));
  SegmentModel m;
  m.version = h.model_version;
  m.ids.resize(h.k);
  m.weights.resize(h.k);
  m.mean.resize(h.dim);
  m.scale.resize(h.dim);
  m.centroids.resize(h.k, h.dim);
  Reader r(bytes.substr(kHeaderBytes));
  (void)r.Raw(m.ids.data(), m.ids.size() * 4);
  (void)r.Raw(m.weights.data(), m.weights.size() * 4);
  (void)r.Raw(m.mean.data(), m.mean.size() * 4);
  (void)r.Raw(m.scale.data(), m.scale.size() * 4);
  (void)r.Raw(m.centroids.data(), m.centroids.size() * 4);
  STRATA_RETURN_IF_ERROR(m.Validate().WithContext("model file"));
  return m;
}

Result<std::string> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return DataLossError("read error on '" + path + "'");
  return ss.str();
}

Status WriteFileBytes(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return InternalError("cannot create '" + tmp + "'");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return InternalError("write failed on '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return InternalError("rename '" + tmp + "' -> '" + path + "' failed");
  }
  return Status::Ok();
}

}  // namespace strata::segment
