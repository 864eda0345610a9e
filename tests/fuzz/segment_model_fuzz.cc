// Fuzz target: serialised segment models (PUT /api/v1/model on strata-segment, model files).
// Invariant: a model that deserialises serialises to bytes that deserialise to the same shape.
#include "fuzz.h"
#include "strata/segment/quantized_model.h"

std::vector<std::string> strata::fuzz::Seeds() {
  strata::segment::SegmentModel m;
  m.version = 3;
  m.ids = {1, 2};
  m.weights = {10, 20};
  m.centroids = strata::segment::Matrix::Zero(2, 3);
  m.centroids(1, 2) = 4;
  m.mean = Eigen::RowVectorXf::Zero(3);
  m.scale = Eigen::RowVectorXf::Ones(3);
  return {strata::segment::SerializeModel(m)};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = strata::segment::DeserializeModel(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (m.ok()) {
    auto again = strata::segment::DeserializeModel(strata::segment::SerializeModel(*m));
    STRATA_FUZZ_CHECK(again.ok());
    STRATA_FUZZ_CHECK(again->k() == m->k() && again->dim() == m->dim());
    STRATA_FUZZ_CHECK(again->ids == m->ids);
  }
  return 0;
}
