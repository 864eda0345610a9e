// The bridge to src/segment: global model → strata-segment model bytes, and an edge's events
// NDJSON file → its customers' profile feature vectors (see edge.h, federate_config.h).
#include <fstream>
#include <sstream>

#include "edge.h"
#include "federate_config.h"
#include "strata/codec/event_json.h"
#include "strata/segment/profile.h"
#include "strata/segment/quantized_model.h"

namespace strata::federate {

Result<std::string> SegmentModelBytes(const federated::GlobalModel& g) {
  if (g.d != segment::kNumFeatures)
    return InvalidArgumentError("the global model has d = " + std::to_string(g.d) +
                                "; strata-segment needs " + std::to_string(segment::kNumFeatures));
  segment::SegmentModel m;
  m.version = g.version;
  m.centroids.resize(g.k, g.d);
  for (int j = 0; j < g.k; ++j) {
    m.ids.push_back(static_cast<uint32_t>(j + 1));
    m.weights.push_back(static_cast<float>(g.weights[j]));
    for (int t = 0; t < g.d; ++t) m.centroids(j, t) = static_cast<float>(g.centroids[j * g.d + t]);
  }
  m.mean = Eigen::RowVectorXf::Zero(g.d);
  m.scale = Eigen::RowVectorXf::Ones(g.d);
  STRATA_RETURN_IF_ERROR(m.Validate());
  return segment::SerializeModel(m);
}

Status LoadEventsAsPoints(const std::string& path, std::vector<double>* points, int* d) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read events file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  codec::EventBatch batch = codec::DecodeEventsNdjson(ss.str(), 100'000'000);
  STRATA_ASSIGN_OR_RETURN(segment::ProfileTable table, segment::ProfileTable::Create({}));
  WallTime now{};
  for (const segment::Event& e : batch.events) {
    if (!table.Update(e).ok()) continue;  // invalid events are skipped, as strata-segment does
    now = std::max(now, e.timestamp);
  }
  if (table.size() == 0)
    return InvalidArgumentError(path + ": no valid event (" + std::to_string(batch.errors.size()) +
                                " line errors)");
  *d = segment::kNumFeatures;
  points->clear();
  for (uint32_t i = 0; i < table.size(); ++i) {
    segment::FeatureVector f = table.Features(i, now);
    points->insert(points->end(), f.begin(), f.end());
  }
  return Status::Ok();
}

}  // namespace strata::federate
