// Test helpers for src/segment tests: Gaussian blobs with known labels and asset lookup.
// Thread-safety: pure functions.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "strata/core/rng.h"
#include "strata/segment/kmeans_reference.h"

namespace strata::segment::testing {

struct Blobs {
  Matrix points;
  Matrix centres;
  std::vector<int> labels;
};

// k centres uniform in [-sep, sep]^d, n points round-robin over them with N(0, spread) noise.
inline Blobs MakeBlobs(int k, int n, int d, float sep, float spread, uint64_t seed) {
  Rng rng(seed);
  Blobs b;
  b.centres.resize(k, d);
  for (int j = 0; j < k; ++j) {
    for (int f = 0; f < d; ++f) b.centres(j, f) = static_cast<float>(rng.Uniform(-sep, sep));
  }
  b.points.resize(n, d);
  b.labels.resize(n);
  for (int i = 0; i < n; ++i) {
    const int j = static_cast<int>(rng.UniformInt(0, k - 1));
    b.labels[i] = j;
    for (int f = 0; f < d; ++f) {
      b.points(i, f) = b.centres(j, f) + static_cast<float>(rng.Normal(0.0, spread));
    }
  }
  return b;
}

// Directory of the shared test assets: $STRATA_ASSETS, else <source>/../shared/assets.
inline std::string AssetsDir() {
  if (const char* env = std::getenv("STRATA_ASSETS"); env && *env) return env;
  return std::string(STRATA_SOURCE_DIR) + "/../shared/assets";
}

}  // namespace strata::segment::testing
