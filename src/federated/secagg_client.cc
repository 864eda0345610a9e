#include <sodium.h>

#include <set>

#include "secagg_crypto.h"
#include "strata/federated/secagg.h"
#include "strata/federated/shamir.h"

namespace strata::federated {

using internal::AgreeKey;

Status SecAggConfig::Validate() const {
  const size_t n = nodes.size();
  if (n < 2 || n > kMaxSecAggNodes)
    return InvalidArgumentError("secagg.nodes: need 2.." + std::to_string(kMaxSecAggNodes) +
                                " nodes");
  if (std::set<std::string>(nodes.begin(), nodes.end()).size() != n) {
    return InvalidArgumentError("secagg.nodes: duplicate node names");
  }
  if (threshold <= static_cast<int>(n / 2) || threshold > static_cast<int>(n)) {
    return InvalidArgumentError("secagg.threshold " + std::to_string(threshold) +
                                " must satisfy n/2 < t <= n (n=" + std::to_string(n) + ")");
  }
  if (vector_length == 0 || vector_length > kMaxSecAggVector) {
    return InvalidArgumentError("secagg.vector_length must be in [1, " +
                                std::to_string(kMaxSecAggVector) + "]");
  }
  return Status::Ok();
}

Result<SecAggClient> SecAggClient::Create(const SecAggConfig& config, uint32_t index,
                                          const AuthKey& token, SecureRandom rng) {
  STRATA_RETURN_IF_ERROR(EnsureSodium());
  STRATA_RETURN_IF_ERROR(config.Validate());
  if (index >= config.nodes.size())
    return InvalidArgumentError("secagg client: index out of range");
  SecAggClient c;
  c.config_ = config;
  c.index_ = index;
  c.token_ = token;
  c.rng_ = std::move(rng);
  return c;
}

SecAggClient::~SecAggClient() {
  for (Key32* k : {&token_, &c_sk_, &s_sk_, &self_b_}) sodium_memzero(k->data(), k->size());
  for (auto* shares : {&s_shares_, &b_shares_}) {
    for (auto& [owner, y] : *shares) sodium_memzero(y.data(), y.size() * sizeof(uint64_t));
  }
  for (auto& [idx, k] : enc_keys_) sodium_memzero(k.data(), k.size());
}

Status SecAggClient::CheckStage(Stage want) const {
  if (stage_ != want) {
    return FailedPreconditionError("secagg client " + std::to_string(index_) + ": wrong stage " +
                                   std::to_string(static_cast<int>(stage_)) + ", expected " +
                                   std::to_string(static_cast<int>(want)));
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> SecAggClient::AdvertiseKeys() {
  STRATA_RETURN_IF_ERROR(CheckStage(Stage::kAdvertise));
  internal::NewKeyPair(rng_, c_sk_, c_pk_);
  internal::NewKeyPair(rng_, s_sk_, s_pk_);
  AdvertiseKeysMsg m{config_.round_id, index_, c_pk_, s_pk_};
  stage_ = Stage::kShareKeys;
  return m.Encode(token_);
}

Result<std::vector<uint8_t>> SecAggClient::ShareKeys(std::span<const uint8_t> key_list) {
  STRATA_RETURN_IF_ERROR(CheckStage(Stage::kShareKeys));
  STRATA_ASSIGN_OR_RETURN(KeyListMsg list, KeyListMsg::Decode(key_list));
  if (list.round_id != config_.round_id) {
    return InvalidArgumentError("key list is for round " + std::to_string(list.round_id));
  }
  peers_.clear();
  for (const AdvertiseKeysMsg& k : list.keys) {
    if (k.sender >= config_.nodes.size() || peers_.contains(k.sender)) {
      return InvalidArgumentError("key list has a bad or duplicate node index " +
                                  std::to_string(k.sender));
    }
    peers_[k.sender] = {k.c_pk, k.s_pk};
  }
  auto self = peers_.find(index_);
  if (self == peers_.end() || self->second.first != c_pk_ || self->second.second != s_pk_) {
    return FailedPreconditionError("key list does not carry this node's keys");
  }
  if (peers_.size() < static_cast<size_t>(config_.threshold)) {
    return FailedPreconditionError("only " + std::to_string(peers_.size()) +
                                   " nodes advertised keys, threshold is " +
                                   std::to_string(config_.threshold));
  }
  Key32 b;
  rng_.Fill(b);
  std::vector<uint32_t> xs;
  for (const auto& [idx, keys] : peers_) xs.push_back(idx + 1);
  STRATA_ASSIGN_OR_RETURN(auto s_sh, ShamirSplit(s_sk_, config_.threshold, xs, rng_));
  STRATA_ASSIGN_OR_RETURN(auto b_sh, ShamirSplit(b, config_.threshold, xs, rng_));
  ShareKeysMsg m;
  m.round_id = config_.round_id;
  m.sender = index_;
  m.b_commit = internal::Commit(b);
  size_t i = 0;
  for (const auto& [idx, keys] : peers_) {
    STRATA_ASSIGN_OR_RETURN(Key32 k,
                            AgreeKey(c_sk_, keys.first, 'e', config_.round_id, index_, idx));
    enc_keys_[idx] = k;  // symmetric: reused to open the share idx sends back
    m.shares.push_back(
        {index_, idx, internal::SealShare(k, config_.round_id, index_, idx, s_sh[i].y, b_sh[i].y)});
    ++i;
  }
  // Keep b until MaskedInput; it is re-derived nowhere else.
  b_shares_.clear();
  s_shares_.clear();
  self_b_ = b;
  stage_ = Stage::kMaskedInput;
  return m.Encode(token_);
}

Result<std::vector<uint8_t>> SecAggClient::MaskedInput(std::span<const uint8_t> share_bundle,
                                                       std::span<const uint64_t> x) {
  STRATA_RETURN_IF_ERROR(CheckStage(Stage::kMaskedInput));
  if (x.size() != config_.vector_length) {
    return InvalidArgumentError("input has " + std::to_string(x.size()) +
                                " values, round expects " + std::to_string(config_.vector_length));
  }
  STRATA_ASSIGN_OR_RETURN(ShareBundleMsg bundle, ShareBundleMsg::Decode(share_bundle));
  if (bundle.round_id != config_.round_id || bundle.recipient != index_) {
    return InvalidArgumentError("share bundle is for another round or node");
  }
  for (const EncryptedShare& s : bundle.shares) {
    auto peer = peers_.find(s.from);
    if (s.to != index_ || peer == peers_.end() || s_shares_.contains(s.from)) {
      return InvalidArgumentError("share bundle has a bad or duplicate share from " +
                                  std::to_string(s.from));
    }
    std::vector<uint64_t> ss, bs;
    STRATA_RETURN_IF_ERROR(internal::OpenShare(enc_keys_.at(s.from), config_.round_id, s.from,
                                               index_, s.ciphertext, ss, bs));
    s_shares_[s.from] = std::move(ss);
    b_shares_[s.from] = std::move(bs);
  }
  if (!s_shares_.contains(index_) || s_shares_.size() < static_cast<size_t>(config_.threshold)) {
    return FailedPreconditionError("only " + std::to_string(s_shares_.size()) +
                                   " nodes shared keys (or own share missing), threshold is " +
                                   std::to_string(config_.threshold));
  }
  MaskedInputMsg m;
  m.round_id = config_.round_id;
  m.sender = index_;
  m.y.assign(x.begin(), x.end());
  internal::AddPrg(m.y, self_b_, config_.round_id, /*subtract=*/false);
  for (const auto& [v, share] : s_shares_) {
    if (v == index_) continue;
    STRATA_ASSIGN_OR_RETURN(Key32 seed,
                            AgreeKey(s_sk_, peers_[v].second, 'm', config_.round_id, index_, v));
    internal::AddPrg(m.y, seed, config_.round_id, /*subtract=*/index_ > v);
  }
  sodium_memzero(self_b_.data(), self_b_.size());
  enc_keys_.clear();
  stage_ = Stage::kUnmask;
  return m.Encode(token_);
}

Result<std::vector<uint8_t>> SecAggClient::Unmask(std::span<const uint8_t> unmask_request) {
  STRATA_RETURN_IF_ERROR(CheckStage(Stage::kUnmask));
  STRATA_ASSIGN_OR_RETURN(UnmaskRequestMsg req, UnmaskRequestMsg::Decode(unmask_request));
  if (req.round_id != config_.round_id)
    return InvalidArgumentError("unmask request for another round");
  std::set<uint32_t> survivors(req.survivors.begin(), req.survivors.end());
  std::set<uint32_t> dropped(req.dropped.begin(), req.dropped.end());
  if (survivors.size() != req.survivors.size() || dropped.size() != req.dropped.size()) {
    return InvalidArgumentError("unmask request lists a node twice");
  }
  for (uint32_t u : survivors) {
    if (dropped.contains(u)) {
      return FailedPreconditionError("unmask request names node " + std::to_string(u) +
                                     " as both survivor and dropped");
    }
  }
  for (uint32_t u : req.survivors) {
    if (!s_shares_.contains(u))
      return InvalidArgumentError("unmask request names unknown survivor");
  }
  for (uint32_t u : req.dropped) {
    if (!s_shares_.contains(u))
      return InvalidArgumentError("unmask request names unknown dropped node");
  }
  if (survivors.size() < static_cast<size_t>(config_.threshold)) {
    return FailedPreconditionError("only " + std::to_string(survivors.size()) +
                                   " survivors, threshold is " + std::to_string(config_.threshold));
  }
  // Answer once: a second request with other sets could reveal both secrets of one node.
  stage_ = Stage::kDone;
  UnmaskResponseMsg m;
  m.round_id = config_.round_id;
  m.sender = index_;
  for (uint32_t u : req.survivors) m.shares.push_back({u, ShareKind::kSelfMaskSeed, b_shares_[u]});
  for (uint32_t u : req.dropped) m.shares.push_back({u, ShareKind::kMaskSecretKey, s_shares_[u]});
  return m.Encode(token_);
}

}  // namespace strata::federated
