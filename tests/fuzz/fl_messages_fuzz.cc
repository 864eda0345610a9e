// Fuzz target: federated-learning wire messages (model updates, global models, k-FED centroid
// reports, secure-aggregation messages). The first byte picks the decoder. Invariant: whatever
// decodes re-encodes to bytes that decode again to the same shape (no decoder accepts an
// inconsistent message).
#include "fuzz.h"
#include "strata/federated/secagg_messages.h"
#include "strata/federated/update.h"
#include "strata/federated/update_codec.h"

namespace fl = strata::federated;

namespace {
const std::vector<fl::AuthKey>& Tokens() {
  static const std::vector<fl::AuthKey> tokens = [] {
    std::vector<fl::AuthKey> t(3);
    for (size_t i = 0; i < t.size(); ++i) t[i].fill(static_cast<uint8_t>(i + 1));
    return t;
  }();
  return tokens;
}
std::string Tagged(char tag, const std::vector<uint8_t>& b) {
  return std::string(1, tag) + std::string(b.begin(), b.end());
}
}  // namespace

std::vector<std::string> strata::fuzz::Seeds() {
  fl::ModelUpdate u;
  u.round_id = 3;
  u.node_id = "edge-1";
  u.model_version = 2;
  u.stats = fl::SufficientStats::Zero(2, 3, true);
  const double x[3] = {1, 2, 3};
  u.stats.Add(1, x, 2.0);
  fl::GlobalModel g{.version = 4, .k = 2, .d = 2, .centroids = {0, 1, 2, 3}, .weights = {5, 6}};
  fl::CentroidReport c{.node_id = "n", .k = 1, .d = 2, .centroids = {1, 2}, .weights = {3}};
  fl::MaskedInputMsg m{.round_id = 7, .sender = 1, .y = {1, 2, 3}};
  fl::UnmaskRequestMsg r{.round_id = 7, .survivors = {0, 1}, .dropped = {2}};
  fl::AdvertiseKeysMsg a{.round_id = 7, .sender = 2};
  fl::GlobalModel ref{.version = 2, .k = 2, .d = 3, .centroids = {0, 0, 0, 1, 1, 1}, .weights = {1, 1}};
  auto c8 = fl::CompressUpdate(u, ref, fl::UpdateEncoding::kInt8);
  auto c16 = fl::CompressUpdate(u, ref, fl::UpdateEncoding::kFp16);
  return {Tagged(9, c8.ok() ? c8->Encode() : std::vector<uint8_t>{}),
          Tagged(9, c16.ok() ? c16->Encode() : std::vector<uint8_t>{}),Tagged(0, u.Encode()), Tagged(1, g.Encode()), Tagged(2, c.Encode()),
          Tagged(3, m.Encode(Tokens()[1])), Tagged(4, r.Encode()), Tagged(5, a.Encode(Tokens()[2]))};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::span<const uint8_t> b(data + 1, size - 1);
  switch (data[0] % 10) {
    case 0:
      if (auto u = fl::ModelUpdate::Decode(b); u.ok()) {
        auto again = fl::ModelUpdate::Decode(u->Encode());
        STRATA_FUZZ_CHECK(again.ok() && again->stats.k == u->stats.k && again->stats.d == u->stats.d);
        STRATA_FUZZ_CHECK(u->Encode().size() ==
                          fl::ModelUpdate::EncodedSize(u->stats.k, u->stats.d,
                                                       u->stats.has_second_moments(),
                                                       u->node_id.size()));
      }
      break;
    case 1:
      if (auto g = fl::GlobalModel::Decode(b); g.ok()) {
        STRATA_FUZZ_CHECK(g->Validate().ok());
        STRATA_FUZZ_CHECK(fl::GlobalModel::Decode(g->Encode()).ok());
      }
      break;
    case 2:
      if (auto c = fl::CentroidReport::Decode(b); c.ok())
        STRATA_FUZZ_CHECK(c->centroids.size() == static_cast<size_t>(c->k) * c->d);
      break;
    case 3:
      (void)fl::MaskedInputMsg::Decode(b, Tokens());
      break;
    case 4:
      if (auto r = fl::UnmaskRequestMsg::Decode(b); r.ok())
        STRATA_FUZZ_CHECK(fl::UnmaskRequestMsg::Decode(r->Encode()).ok());
      break;
    case 5:
      (void)fl::AdvertiseKeysMsg::Decode(b, Tokens());
      break;
    case 6:
      if (auto k = fl::KeyListMsg::Decode(b); k.ok())
        STRATA_FUZZ_CHECK(fl::KeyListMsg::Decode(k->Encode()).ok());
      break;
    case 7:
      (void)fl::ShareKeysMsg::Decode(b, Tokens());
      (void)fl::ShareBundleMsg::Decode(b);
      break;
    case 8:
      (void)fl::UnmaskResponseMsg::Decode(b, Tokens());
      break;
    default:
      if (auto c = fl::CompressedUpdate::Decode(b); c.ok()) {
        auto again = fl::CompressedUpdate::Decode(c->Encode());
        STRATA_FUZZ_CHECK(again.ok() && again->k == c->k && again->d == c->d);
        fl::GlobalModel ref{.version = c->model_version, .k = c->k, .d = c->d,
                            .centroids = std::vector<double>(size_t(c->k) * c->d, 0.0),
                            .weights = std::vector<double>(c->k, 1.0)};
        (void)fl::DecompressUpdate(*c, ref);
      }
      break;
  }
  return 0;
}
