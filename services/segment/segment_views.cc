// Segment history and PCA projection (segment_views.h), and SegmentService's routes for them:
// GET /api/v1/segments/history and GET /api/v1/segments/projection.
#include "segment_views.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "segment_service.h"

namespace strata::segment_service {

using nlohmann::json;

namespace {

int64_t UnixMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

constexpr int kMaxProjection = 5000;

}  // namespace

bool SegmentHistory::Observe(int64_t accepted, const segment::Segmenter& seg, WallTime features_at,
                             WallTime wall) {
  events_ += accepted;
  bool due =
      !any_ || events_ - events_at_last_ >= config_.every_events || wall - last_ >= config_.every;
  if (!due || accepted <= 0) return false;
  Force(seg, features_at, wall);
  return true;
}

void SegmentHistory::Force(const segment::Segmenter& seg, WallTime features_at, WallTime wall) {
  Sample s{.t_ms = UnixMs(wall), .events = events_};
  if (const segment::Assigner* a = seg.assigner()) {
    s.model_version = a->model().version;
    std::vector<int64_t> counts(a->k(), 0);
    const auto& table = seg.profiles();
    for (uint32_t i = 0; i < table.size(); ++i) {
      segment::FeatureVector x = table.Features(i, features_at);
      int index = a->Assign(x.data()).index;
      if (index >= 0 && index < a->k()) ++counts[index];
    }
    for (int i = 0; i < a->k(); ++i) s.sizes.emplace_back(a->model().ids[i], counts[i]);
  }
  samples_.push_back(std::move(s));
  while (samples_.size() > config_.capacity) samples_.pop_front();
  events_at_last_ = events_;
  last_ = wall;
  any_ = true;
}

json SegmentHistory::ToJson() const {
  json samples = json::array();
  for (const Sample& s : samples_) {
    json sizes = json::object();
    for (const auto& [id, n] : s.sizes) sizes[std::to_string(id)] = n;
    samples.push_back({{"t_ms", s.t_ms},
                       {"events", s.events},
                       {"model_version", s.model_version},
                       {"sizes", sizes}});
  }
  return {{"samples", samples}};
}

Status ValidateHistoryConfig(const HistoryConfig& h) {
  if (h.every_events < 1) return InvalidArgumentError("segment.history.every_events must be >= 1");
  if (h.every.count() <= 0) return InvalidArgumentError("segment.history.every must be > 0");
  if (h.capacity < 1 || h.capacity > 100000)
    return InvalidArgumentError("segment.history.capacity must be in 1..100000");
  return Status::Ok();
}

Result<int> ProjectionLimit(const std::optional<std::string>& query) {
  if (!query) return 1000;
  int v = 0;
  auto [end, ec] = std::from_chars(query->data(), query->data() + query->size(), v);
  if (query->empty() || ec != std::errc() || end != query->data() + query->size() || v < 1 ||
      v > kMaxProjection)
    return InvalidArgumentError("query limit must be an integer in 1.." +
                                std::to_string(kMaxProjection) + ", got '" + query->substr(0, 32) +
                                "'");
  return v;
}

Result<json> Projection(const segment::Segmenter& seg, WallTime now, int limit) {
  const segment::Assigner* a = seg.assigner();
  if (!a) return FailedPreconditionError("no segment model yet: the node is still warming up");
  const segment::SegmentModel& model = a->model();
  const auto& table = seg.profiles();
  const int64_t n = static_cast<int64_t>(table.size());
  const int m = static_cast<int>(std::min<int64_t>(limit, n));
  const int d = model.dim();
  segment::Matrix x(m, d);
  std::vector<uint32_t> rows(m);
  for (int i = 0; i < m; ++i) {  // spread evenly over the table
    rows[i] = static_cast<uint32_t>(static_cast<int64_t>(i) * n / m);
    segment::FeatureVector f = table.Features(rows[i], now);
    for (int c = 0; c < d; ++c) x(i, c) = f[c];
  }
  segment::Matrix z = model.Standardize(x);
  Eigen::MatrixXd zd = z.cast<double>();
  Eigen::RowVectorXd mean =
      m > 0 ? Eigen::RowVectorXd(zd.colwise().mean()) : Eigen::RowVectorXd::Zero(d);
  Eigen::MatrixXd centered = zd.rowwise() - mean;
  Eigen::MatrixXd cov = centered.transpose() * centered / std::max(1.0, m - 1.0);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  if (eig.info() != Eigen::Success) return InternalError("PCA: the eigen solver did not converge");
  Eigen::MatrixXd axes(d, 2);
  json explained = json::array();
  double total = cov.trace();
  for (int j = 0; j < 2; ++j) {  // eigenvalues ascend: the last two are the principal ones
    int col = std::max(0, d - 1 - j);
    Eigen::VectorXd v = eig.eigenvectors().col(col);
    Eigen::Index big = 0;
    v.cwiseAbs().maxCoeff(&big);
    if (v(big) < 0) v = -v;  // a deterministic sign
    axes.col(j) = v;
    double lambda = std::max(0.0, eig.eigenvalues()(col));
    explained.push_back(total > 0 ? lambda / total : 0.0);
  }
  Eigen::MatrixXd xy = centered * axes;
  json points = json::array();
  for (int i = 0; i < m; ++i) {
    int index = a->Assign(x.row(i).data()).index;
    points.push_back({{"customer", std::string(table.customer_id(rows[i]))},
                      {"x", xy(i, 0)},
                      {"y", xy(i, 1)},
                      {"segment", index >= 0 ? json(model.ids[index]) : json(nullptr)}});
  }
  Eigen::MatrixXd cxy = (model.StandardizedCentroids().cast<double>().rowwise() - mean) * axes;
  json centroids = json::array();
  for (int k = 0; k < model.k(); ++k)
    centroids.push_back(
        {{"segment", model.ids[k]}, {"label", a->Label(k)}, {"x", cxy(k, 0)}, {"y", cxy(k, 1)}});
  return json{{"axes", {"pc1", "pc2"}},         {"explained", explained}, {"customers", n},
              {"model_version", model.version}, {"points", points},       {"centroids", centroids}};
}

// --- SegmentService routes ---------------------------------------------------------------

void SegmentService::SampleHistoryLocked(int64_t accepted, bool force) {
  WallTime wall = Clock::Real()->Now();
  if (force)
    history_.Force(*segmenter_, NowLocked(), wall);
  else
    history_.Observe(accepted, *segmenter_, NowLocked(), wall);
}

Result<http::Response> SegmentService::GetHistory(const http::Request&) {
  std::lock_guard lock(mu_);
  return http::Response::Json(history_.ToJson());
}

Result<http::Response> SegmentService::GetProjection(const http::Request& r) {
  STRATA_ASSIGN_OR_RETURN(int limit, ProjectionLimit(r.Query("limit")));
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(json body, Projection(*segmenter_, NowLocked(), limit));
  return http::Response::Json(body);
}

}  // namespace strata::segment_service
