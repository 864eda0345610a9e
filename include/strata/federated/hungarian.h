// Hungarian assignment and segment alignment.
//
// Segment ids differ between nodes, so before local statistics can be summed each local segment
// is matched to a global one. SolveAssignment is the O(n²m) Hungarian algorithm (Kuhn–Munkres with
// potentials) on a rectangular cost matrix. AlignSegments uses it on squared centroid distances,
// with one extra "new segment" column per local segment costing max_distance²: a local segment
// that is farther than max_distance from every free global one (or has no partner because
// k_local > k_global) stays unmatched and proposes a new global segment, and such outliers never
// pull the other segments into worse matches. On the server, AddProposedSegments merges the
// proposals of several nodes and appends those with enough weight and support as new segments.
// Thread-safety: pure functions.
//
//   Alignment a = AlignSegments(local_centroids, k_local, global.centroids, global.k, d, 2.0);
//   STRATA_ASSIGN_OR_RETURN(RemappedStats r, RemapToGlobal(local_stats, local_centroids, a,
//   global.k));
#pragma once

#include <span>
#include <vector>

#include "strata/core/status.h"
#include "strata/federated/update.h"

namespace strata::federated {

// Minimum-cost assignment on a rows×cols row-major cost matrix. Returns, for each row, the column
// assigned to it, or -1 when rows > cols and the row is left out. Every column is used at most
// once and min(rows, cols) rows are assigned. Costs must be finite.
std::vector<int> SolveAssignment(std::span<const double> cost, int rows, int cols);

struct Alignment {
  std::vector<int> local_to_global;  // per local segment: global id, or -1 (unmatched → new)
  std::vector<int> unmatched;        // local ids that propose new global segments
};

// Matches local centroids (k_local×d) to global ones (k_global×d) minimising the total squared
// distance; matches with Euclidean distance > max_distance become unmatched.
Alignment AlignSegments(std::span<const double> local, int k_local, std::span<const double> global,
                        int k_global, int d, double max_distance);

// A proposal for a new global segment: a local centroid and its weight.
struct SegmentProposal {
  std::vector<double> centroid;
  double weight = 0;
};

struct RemappedStats {
  SufficientStats stats;                   // indexed by global segment id (k_global rows)
  std::vector<SegmentProposal> proposals;  // from unmatched local segments
};

// Sums each matched local segment's statistics into its global row and turns unmatched local
// segments into proposals (centroid = S/N). InvalidArgument on inconsistent shapes.
Result<RemappedStats> RemapToGlobal(const SufficientStats& local, const Alignment& alignment,
                                    int k_global);

struct ProposalConfig {
  double merge_distance = 1.0;  // proposals closer than this (Euclidean) are merged (weighted)
  double min_weight = 10.0;     // a merged proposal needs at least this total weight
  int min_proposals = 2;        // ... and must come from at least this many proposals (nodes)
  int max_new = 8;              // at most this many segments are added per call
};

// Server side of "new local segments propose new global ones": greedily merges proposals (heaviest
// first) and appends the merged ones that pass the thresholds to the model as new segments
// (version + 1 when any is added; the model is returned unchanged otherwise). InvalidArgument when
// a proposal's dimension differs from model.d.
Result<GlobalModel> AddProposedSegments(const GlobalModel& model,
                                        std::span<const SegmentProposal> proposals,
                                        const ProposalConfig& config);

}  // namespace strata::federated
