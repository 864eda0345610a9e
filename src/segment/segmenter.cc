#include "strata/segment/segmenter.h"

#include <algorithm>

namespace strata::segment {

Result<Segmenter> Segmenter::Create(const Config& c) {
  auto profiles = ProfileTable::Create(c.profiles);
  if (!profiles.ok()) return profiles.status().WithContext("profiles");
  if (c.clustering.dim != kNumFeatures) {
    return InvalidArgumentError("clustering.dim: must be " + std::to_string(kNumFeatures));
  }
  auto km = StreamKMeans::Create(c.clustering);
  if (!km.ok()) return km.status().WithContext("clustering");
  if (c.train_every_events < 1) return InvalidArgumentError("train_every_events: must be >= 1");
  if (c.train_batch < 1) return InvalidArgumentError("train_batch: must be >= 1");
  if (c.refresh_every_batches < 1) {
    return InvalidArgumentError("refresh_every_batches: must be >= 1");
  }
  return Segmenter(c, std::move(profiles).value(), std::move(km).value());
}

Segmenter::Segmenter(const Config& c, ProfileTable p, StreamKMeans k)
    : config_(c),
      profiles_(std::move(p)),
      kmeans_(std::make_unique<StreamKMeans>(std::move(k))),
      rng_(c.seed),
      batch_(c.train_batch, kNumFeatures) {}

Result<Assignment> Segmenter::Process(const Event& e) {
  STRATA_ASSIGN_OR_RETURN(uint32_t idx, profiles_.Update(e));
  return AfterUpdate(idx, e.timestamp);
}

Result<Assignment> Segmenter::AssignApplied(const Event& e) {
  const auto idx = profiles_.Find(e.customer_id);
  if (!idx) return NotFoundError("customer '" + e.customer_id + "' is not in the profile table");
  return AfterUpdate(*idx, e.timestamp);
}

Result<Assignment> Segmenter::AfterUpdate(uint32_t idx, WallTime t) {
  newest_ = std::max(newest_, t);
  if (++since_train_ >= config_.train_every_events) {
    since_train_ = 0;
    STRATA_RETURN_IF_ERROR(TrainBatch(newest_));
  }
  if (!assigner_) return Assignment{};
  alignas(32) float x[kNumFeatures];
  profiles_.FeaturesInto(idx, newest_, x);
  return assigner_->Assign(x);
}

Status Segmenter::TrainBatch(WallTime now) {
  const int64_t n = static_cast<int64_t>(profiles_.size());
  if (n == 0) return Status::Ok();
  for (int i = 0; i < config_.train_batch; ++i) {
    const auto idx = static_cast<uint32_t>(rng_.UniformInt(0, n - 1));
    profiles_.FeaturesInto(idx, now, batch_.row(i).data());
  }
  const bool was_seeded = kmeans_->seeded();
  STRATA_RETURN_IF_ERROR(kmeans_->Update(batch_));
  if ((!was_seeded && kmeans_->seeded()) ||
      ++batches_since_refresh_ >= config_.refresh_every_batches) {
    Refresh();
  }
  return Status::Ok();
}

void Segmenter::Refresh() {
  batches_since_refresh_ = 0;
  if (!kmeans_->seeded()) return;
  auto a = Assigner::Create(kmeans_->Model());
  if (a.ok()) assigner_ = std::make_unique<Assigner>(std::move(a).value());
}

Status Segmenter::Train(WallTime now, int batches) {
  for (int b = 0; b < batches; ++b) STRATA_RETURN_IF_ERROR(TrainBatch(now));
  Refresh();
  return Status::Ok();
}

Status Segmenter::InstallModel(const SegmentModel& model) {
  STRATA_RETURN_IF_ERROR(kmeans_->Install(model));
  Refresh();
  return Status::Ok();
}

Result<Assignment> Segmenter::Lookup(std::string_view id) const {
  const auto idx = profiles_.Find(id);
  if (!idx) return NotFoundError("customer '" + std::string(id) + "' is unknown");
  if (!assigner_) return FailedPreconditionError("segment model not trained yet");
  alignas(32) float x[kNumFeatures];
  profiles_.FeaturesInto(*idx, newest_, x);
  return assigner_->Assign(x);
}

Matrix Segmenter::FeatureMatrix(WallTime now) const {
  Matrix m(static_cast<Eigen::Index>(profiles_.size()), kNumFeatures);
  for (uint32_t i = 0; i < profiles_.size(); ++i) profiles_.FeaturesInto(i, now, m.row(i).data());
  return m;
}

}  // namespace strata::segment
