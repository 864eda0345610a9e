#include "strata/federated/update.h"

#include <cmath>

#include "strata/federated/wire.h"

namespace strata::federated {
namespace {

Status CheckShape(int k, int d) {
  if (k < 0 || d <= 0 || static_cast<uint32_t>(k) > kMaxSegments ||
      static_cast<uint32_t>(d) > kMaxDims ||
      static_cast<uint64_t>(k) * static_cast<uint64_t>(d) > kMaxMatrixValues) {
    return InvalidArgumentError("bad shape k=" + std::to_string(k) + " d=" + std::to_string(d) +
                                " (limits k<=" + std::to_string(kMaxSegments) +
                                ", d<=" + std::to_string(kMaxDims) + ")");
  }
  return Status::Ok();
}

Status AllFinite(const std::vector<double>& v, const char* what) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgumentError(std::string(what) + "[" + std::to_string(i) + "] is not finite");
    }
  }
  return Status::Ok();
}

void WriteDoubles(ByteWriter& w, const std::vector<double>& v) {
  for (double x : v) w.F64(x);
}

Result<std::vector<double>> ReadDoubles(ByteReader& r, size_t n) {
  if (r.remaining() < n * 8) {
    return DataLossError("truncated message: " + std::to_string(n) + " values need " +
                         std::to_string(n * 8) + " bytes, have " + std::to_string(r.remaining()));
  }
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    STRATA_ASSIGN_OR_RETURN(v[i], r.F64());
  }
  return v;
}

Result<std::pair<int, int>> ReadShape(ByteReader& r) {
  STRATA_ASSIGN_OR_RETURN(uint32_t k, r.U32());
  STRATA_ASSIGN_OR_RETURN(uint32_t d, r.U32());
  if (k > kMaxSegments || d > kMaxDims) {
    return InvalidArgumentError("oversized shape k=" + std::to_string(k) +
                                " d=" + std::to_string(d));
  }
  STRATA_RETURN_IF_ERROR(CheckShape(static_cast<int>(k), static_cast<int>(d)));
  return std::make_pair(static_cast<int>(k), static_cast<int>(d));
}

}  // namespace

SufficientStats SufficientStats::Zero(int k, int d, bool with_second_moments) {
  SufficientStats s;
  s.k = k;
  s.d = d;
  s.sums.assign(static_cast<size_t>(k) * d, 0.0);
  s.counts.assign(k, 0.0);
  if (with_second_moments) s.second.assign(k, 0.0);
  return s;
}

void SufficientStats::Add(int j, std::span<const double> x, double weight) {
  double sq = 0;
  for (int i = 0; i < d; ++i) {
    sums[static_cast<size_t>(j) * d + i] += weight * x[i];
    sq += x[i] * x[i];
  }
  counts[j] += weight;
  if (!second.empty()) second[j] += weight * sq;
}

Status SufficientStats::Accumulate(const SufficientStats& o) {
  if (o.k != k || o.d != d || o.has_second_moments() != has_second_moments()) {
    return InvalidArgumentError("stats shape mismatch: have k=" + std::to_string(k) +
                                " d=" + std::to_string(d) + ", got k=" + std::to_string(o.k) +
                                " d=" + std::to_string(o.d));
  }
  for (size_t i = 0; i < sums.size(); ++i) sums[i] += o.sums[i];
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
  for (size_t i = 0; i < second.size(); ++i) second[i] += o.second[i];
  contributors += o.contributors;
  return Status::Ok();
}

Status SufficientStats::Validate() const {
  STRATA_RETURN_IF_ERROR(CheckShape(k, d));
  if (sums.size() != static_cast<size_t>(k) * d || counts.size() != static_cast<size_t>(k) ||
      (!second.empty() && second.size() != static_cast<size_t>(k))) {
    return InvalidArgumentError("stats vectors do not match k=" + std::to_string(k) +
                                " d=" + std::to_string(d));
  }
  STRATA_RETURN_IF_ERROR(AllFinite(sums, "sums"));
  STRATA_RETURN_IF_ERROR(AllFinite(counts, "counts"));
  return AllFinite(second, "second");
}

std::vector<double> SufficientStats::Flatten() const {
  std::vector<double> flat;
  flat.reserve(FlatSize());
  flat.insert(flat.end(), sums.begin(), sums.end());
  flat.insert(flat.end(), counts.begin(), counts.end());
  flat.insert(flat.end(), second.begin(), second.end());
  return flat;
}

Result<SufficientStats> SufficientStats::Unflatten(std::span<const double> flat, int k, int d,
                                                   bool with_second_moments) {
  STRATA_RETURN_IF_ERROR(CheckShape(k, d));
  SufficientStats s = Zero(k, d, with_second_moments);
  if (flat.size() != s.FlatSize()) {
    return InvalidArgumentError("flat stats have " + std::to_string(flat.size()) +
                                " values, expected " + std::to_string(s.FlatSize()));
  }
  size_t p = 0;
  for (double& v : s.sums) v = flat[p++];
  for (double& v : s.counts) v = flat[p++];
  for (double& v : s.second) v = flat[p++];
  return s;
}

std::vector<uint8_t> ModelUpdate::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kModelUpdate);
  w.U64(round_id);
  w.String(node_id);
  w.U64(model_version);
  w.U32(static_cast<uint32_t>(stats.k));
  w.U32(static_cast<uint32_t>(stats.d));
  w.U8(stats.has_second_moments() ? 1 : 0);
  w.U64(stats.contributors);
  WriteDoubles(w, stats.sums);
  WriteDoubles(w, stats.counts);
  WriteDoubles(w, stats.second);
  return w.Take();
}

Result<ModelUpdate> ModelUpdate::Decode(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kModelUpdate));
  ModelUpdate u;
  STRATA_ASSIGN_OR_RETURN(u.round_id, r.U64());
  STRATA_ASSIGN_OR_RETURN(u.node_id, r.String(kMaxNodeIdBytes));
  STRATA_ASSIGN_OR_RETURN(u.model_version, r.U64());
  STRATA_ASSIGN_OR_RETURN(auto shape, ReadShape(r));
  STRATA_ASSIGN_OR_RETURN(uint8_t has_q, r.U8());
  if (has_q > 1) return InvalidArgumentError("bad second-moment flag " + std::to_string(has_q));
  STRATA_ASSIGN_OR_RETURN(uint64_t contributors, r.U64());
  auto [k, d] = shape;
  u.stats.k = k;
  u.stats.d = d;
  u.stats.contributors = contributors;
  STRATA_ASSIGN_OR_RETURN(u.stats.sums, ReadDoubles(r, static_cast<size_t>(k) * d));
  STRATA_ASSIGN_OR_RETURN(u.stats.counts, ReadDoubles(r, k));
  if (has_q) {
    STRATA_ASSIGN_OR_RETURN(u.stats.second, ReadDoubles(r, k));
  }
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  STRATA_RETURN_IF_ERROR(u.stats.Validate());
  return u;
}

Status GlobalModel::Validate() const {
  STRATA_RETURN_IF_ERROR(CheckShape(k, d));
  if (centroids.size() != static_cast<size_t>(k) * d || weights.size() != static_cast<size_t>(k)) {
    return InvalidArgumentError("model vectors do not match k=" + std::to_string(k) +
                                " d=" + std::to_string(d));
  }
  STRATA_RETURN_IF_ERROR(AllFinite(centroids, "centroids"));
  return AllFinite(weights, "weights");
}

std::vector<uint8_t> GlobalModel::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kGlobalModel);
  w.U64(version);
  w.U32(static_cast<uint32_t>(k));
  w.U32(static_cast<uint32_t>(d));
  WriteDoubles(w, centroids);
  WriteDoubles(w, weights);
  return w.Take();
}

Result<GlobalModel> GlobalModel::Decode(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kGlobalModel));
  GlobalModel m;
  STRATA_ASSIGN_OR_RETURN(m.version, r.U64());
  STRATA_ASSIGN_OR_RETURN(auto shape, ReadShape(r));
  m.k = shape.first;
  m.d = shape.second;
  STRATA_ASSIGN_OR_RETURN(m.centroids, ReadDoubles(r, static_cast<size_t>(m.k) * m.d));
  STRATA_ASSIGN_OR_RETURN(m.weights, ReadDoubles(r, m.k));
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  STRATA_RETURN_IF_ERROR(m.Validate());
  return m;
}

std::vector<uint8_t> CentroidReport::Encode() const {
  ByteWriter w;
  WriteHeader(w, MessageType::kCentroidReport);
  w.String(node_id);
  w.U32(static_cast<uint32_t>(k));
  w.U32(static_cast<uint32_t>(d));
  WriteDoubles(w, centroids);
  WriteDoubles(w, weights);
  return w.Take();
}

Result<CentroidReport> CentroidReport::Decode(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  STRATA_RETURN_IF_ERROR(ReadHeader(r, MessageType::kCentroidReport));
  CentroidReport c;
  STRATA_ASSIGN_OR_RETURN(c.node_id, r.String(kMaxNodeIdBytes));
  STRATA_ASSIGN_OR_RETURN(auto shape, ReadShape(r));
  c.k = shape.first;
  c.d = shape.second;
  STRATA_ASSIGN_OR_RETURN(c.centroids, ReadDoubles(r, static_cast<size_t>(c.k) * c.d));
  STRATA_ASSIGN_OR_RETURN(c.weights, ReadDoubles(r, c.k));
  STRATA_RETURN_IF_ERROR(r.ExpectEnd());
  STRATA_RETURN_IF_ERROR(AllFinite(c.centroids, "centroids"));
  STRATA_RETURN_IF_ERROR(AllFinite(c.weights, "weights"));
  return c;
}

}  // namespace strata::federated
