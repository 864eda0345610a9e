#include "strata/federated/hungarian.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace strata::federated {
namespace {

// Hungarian algorithm for n <= m (rows <= cols), 1-based potentials formulation.
std::vector<int> SolveTall(std::span<const double> cost, int n, int m, bool transposed) {
  auto a = [&](int i, int j) {  // 1-based
    return transposed ? cost[static_cast<size_t>(j - 1) * n + (i - 1)]
                      : cost[static_cast<size_t>(i - 1) * m + (j - 1)];
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(m + 1, 0);
  std::vector<int> p(m + 1, 0), way(m + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(m + 1, inf);
    std::vector<char> used(m + 1, 0);
    do {
      used[j0] = 1;
      int i0 = p[j0], j1 = 0;
      double delta = inf;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        double cur = a(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> row_to_col(n, -1);
  for (int j = 1; j <= m; ++j) {
    if (p[j] != 0) row_to_col[p[j] - 1] = j - 1;
  }
  return row_to_col;
}

}  // namespace

std::vector<int> SolveAssignment(std::span<const double> cost, int rows, int cols) {
  if (rows == 0) return {};
  if (cols == 0) return std::vector<int>(rows, -1);
  if (rows <= cols) return SolveTall(cost, rows, cols, /*transposed=*/false);
  // More rows than columns: solve the transpose (cols as rows) and invert.
  std::vector<int> col_to_row = SolveTall(cost, cols, rows, /*transposed=*/true);
  std::vector<int> row_to_col(rows, -1);
  for (int c = 0; c < cols; ++c) {
    if (col_to_row[c] >= 0) row_to_col[col_to_row[c]] = c;
  }
  return row_to_col;
}

Alignment AlignSegments(std::span<const double> local, int k_local, std::span<const double> global,
                        int k_global, int d, double max_distance) {
  // Columns: the k_global segments, then (with a finite threshold) one "new segment" column per
  // local segment costing max_distance², so a far outlier cannot distort the other matches.
  const double max_sq = max_distance * max_distance;
  const bool dummies = std::isfinite(max_sq);
  const int cols = k_global + (dummies ? k_local : 0);
  std::vector<double> cost(static_cast<size_t>(k_local) * cols, dummies ? max_sq : 0.0);
  for (int i = 0; i < k_local; ++i) {
    for (int j = 0; j < k_global; ++j) {
      double s = 0;
      for (int t = 0; t < d; ++t) {
        double diff =
            local[static_cast<size_t>(i) * d + t] - global[static_cast<size_t>(j) * d + t];
        s += diff * diff;
      }
      cost[static_cast<size_t>(i) * cols + j] = s;
    }
  }
  Alignment a;
  a.local_to_global = SolveAssignment(cost, k_local, cols);
  for (int i = 0; i < k_local; ++i) {
    int j = a.local_to_global[i];
    if (j >= k_global || (j >= 0 && cost[static_cast<size_t>(i) * cols + j] > max_sq)) {
      a.local_to_global[i] = -1;
    }
    if (a.local_to_global[i] < 0) a.unmatched.push_back(i);
  }
  return a;
}

Result<RemappedStats> RemapToGlobal(const SufficientStats& local, const Alignment& alignment,
                                    int k_global) {
  STRATA_RETURN_IF_ERROR(local.Validate());
  if (alignment.local_to_global.size() != static_cast<size_t>(local.k)) {
    return InvalidArgumentError("alignment covers " +
                                std::to_string(alignment.local_to_global.size()) +
                                " local segments, stats have " + std::to_string(local.k));
  }
  const int d = local.d;
  RemappedStats out;
  out.stats = SufficientStats::Zero(k_global, d, local.has_second_moments());
  out.stats.contributors = local.contributors;
  for (int i = 0; i < local.k; ++i) {
    int j = alignment.local_to_global[i];
    if (j >= k_global) return InvalidArgumentError("alignment targets global segment out of range");
    if (j < 0) {
      if (local.counts[i] <= 0) continue;
      SegmentProposal p;
      p.weight = local.counts[i];
      for (int t = 0; t < d; ++t)
        p.centroid.push_back(local.sums[static_cast<size_t>(i) * d + t] / p.weight);
      out.proposals.push_back(std::move(p));
      continue;
    }
    for (int t = 0; t < d; ++t) {
      out.stats.sums[static_cast<size_t>(j) * d + t] += local.sums[static_cast<size_t>(i) * d + t];
    }
    out.stats.counts[j] += local.counts[i];
    if (local.has_second_moments()) out.stats.second[j] += local.second[i];
  }
  return out;
}

Result<GlobalModel> AddProposedSegments(const GlobalModel& model,
                                        std::span<const SegmentProposal> proposals,
                                        const ProposalConfig& config) {
  STRATA_RETURN_IF_ERROR(model.Validate());
  const int d = model.d;
  std::vector<const SegmentProposal*> order;
  for (const SegmentProposal& p : proposals) {
    if (p.centroid.size() != static_cast<size_t>(d)) {
      return InvalidArgumentError("proposal has d=" + std::to_string(p.centroid.size()) +
                                  ", model d=" + std::to_string(d));
    }
    if (p.weight > 0) order.push_back(&p);
  }
  std::stable_sort(
      order.begin(), order.end(),
      [](const SegmentProposal* a, const SegmentProposal* b) { return a->weight > b->weight; });
  struct Candidate {
    std::vector<double> sum;  // Σ w·c
    double weight = 0;
    int count = 0;
  };
  std::vector<Candidate> cands;
  const double merge_sq = config.merge_distance * config.merge_distance;
  for (const SegmentProposal* p : order) {
    Candidate* target = nullptr;
    for (Candidate& c : cands) {
      double dist = 0;
      for (int t = 0; t < d; ++t) {
        double diff = c.sum[t] / c.weight - p->centroid[t];
        dist += diff * diff;
      }
      if (dist <= merge_sq) {
        target = &c;
        break;
      }
    }
    if (target == nullptr) {
      cands.push_back({std::vector<double>(d, 0.0), 0.0, 0});
      target = &cands.back();
    }
    for (int t = 0; t < d; ++t) target->sum[t] += p->weight * p->centroid[t];
    target->weight += p->weight;
    ++target->count;
  }
  GlobalModel out = model;
  int added = 0;
  for (const Candidate& c : cands) {
    if (added >= config.max_new) break;
    if (c.weight < config.min_weight || c.count < config.min_proposals) continue;
    for (int t = 0; t < d; ++t) out.centroids.push_back(c.sum[t] / c.weight);
    out.weights.push_back(c.weight);
    ++out.k;
    ++added;
  }
  if (added > 0) ++out.version;
  STRATA_RETURN_IF_ERROR(out.Validate());
  return out;
}

}  // namespace strata::federated
