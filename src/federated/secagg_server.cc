#include <algorithm>
#include <set>

#include "secagg_crypto.h"
#include "strata/federated/fixed_point.h"
#include "strata/federated/secagg.h"
#include "strata/federated/shamir.h"

namespace strata::federated {

Result<SecAggServer> SecAggServer::Create(const SecAggConfig& config, std::vector<AuthKey> tokens) {
  STRATA_RETURN_IF_ERROR(EnsureSodium());
  STRATA_RETURN_IF_ERROR(config.Validate());
  if (tokens.size() != config.nodes.size()) {
    return InvalidArgumentError("secagg server: " + std::to_string(tokens.size()) + " tokens for " +
                                std::to_string(config.nodes.size()) + " nodes");
  }
  SecAggServer s;
  s.config_ = config;
  s.tokens_ = std::move(tokens);
  return s;
}

Status SecAggServer::Fail(Status s) {
  stage_ = Stage::kFailed;
  return s;
}

Status SecAggServer::CheckMessage(Stage want, uint64_t round_id) const {
  if (round_id < config_.round_id) {
    return FailedPreconditionError("message for old round " + std::to_string(round_id) +
                                   " (replay?); current round is " +
                                   std::to_string(config_.round_id));
  }
  if (round_id != config_.round_id) {
    return InvalidArgumentError("message for unknown round " + std::to_string(round_id));
  }
  if (stage_ != want) {
    return FailedPreconditionError("secagg round " + std::to_string(config_.round_id) +
                                   " is in stage " + std::to_string(static_cast<int>(stage_)) +
                                   ", message is for stage " +
                                   std::to_string(static_cast<int>(want)));
  }
  return Status::Ok();
}

Status SecAggServer::HandleAdvertise(std::span<const uint8_t> bytes) {
  STRATA_ASSIGN_OR_RETURN(AdvertiseKeysMsg m, AdvertiseKeysMsg::Decode(bytes, tokens_));
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kAdvertise, m.round_id));
  if (u1_.contains(m.sender))
    return AlreadyExistsError("node " + std::to_string(m.sender) + " already advertised");
  u1_[m.sender] = m;
  return Status::Ok();
}

Result<std::vector<uint8_t>> SecAggServer::CloseAdvertise() {
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kAdvertise, config_.round_id));
  if (u1_.size() < static_cast<size_t>(config_.threshold)) {
    return Fail(FailedPreconditionError("only " + std::to_string(u1_.size()) +
                                        " nodes advertised keys, threshold is " +
                                        std::to_string(config_.threshold)));
  }
  KeyListMsg list;
  list.round_id = config_.round_id;
  for (const auto& [idx, m] : u1_) list.keys.push_back(m);
  stage_ = Stage::kShareKeys;
  return list.Encode();
}

Status SecAggServer::HandleShareKeys(std::span<const uint8_t> bytes) {
  STRATA_ASSIGN_OR_RETURN(ShareKeysMsg m, ShareKeysMsg::Decode(bytes, tokens_));
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kShareKeys, m.round_id));
  if (!u1_.contains(m.sender))
    return FailedPreconditionError("node " + std::to_string(m.sender) + " did not advertise keys");
  if (u2_.contains(m.sender))
    return AlreadyExistsError("node " + std::to_string(m.sender) + " already shared keys");
  std::set<uint32_t> to;
  for (const EncryptedShare& s : m.shares) {
    if (s.from != m.sender || !u1_.contains(s.to) || !to.insert(s.to).second) {
      return InvalidArgumentError("share keys from node " + std::to_string(m.sender) +
                                  " has a misaddressed or duplicate share");
    }
  }
  if (to.size() != u1_.size()) {
    return InvalidArgumentError("share keys from node " + std::to_string(m.sender) + " covers " +
                                std::to_string(to.size()) + " of " + std::to_string(u1_.size()) +
                                " nodes");
  }
  for (EncryptedShare& share : m.shares) inbox_[share.to].push_back(std::move(share));
  m.shares.clear();
  u2_[m.sender] = std::move(m);
  return Status::Ok();
}

Status SecAggServer::CloseShareKeys() {
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kShareKeys, config_.round_id));
  if (u2_.size() < static_cast<size_t>(config_.threshold)) {
    return Fail(FailedPreconditionError("only " + std::to_string(u2_.size()) +
                                        " nodes shared keys, threshold is " +
                                        std::to_string(config_.threshold)));
  }
  stage_ = Stage::kMaskedInput;
  return Status::Ok();
}

Result<std::vector<uint8_t>> SecAggServer::ShareBundleFor(uint32_t index) const {
  if (stage_ != Stage::kMaskedInput)
    return FailedPreconditionError("share bundles exist only in stage MaskedInput");
  if (!u2_.contains(index)) return NotFoundError("node " + std::to_string(index) + " is not in U2");
  ShareBundleMsg b;
  b.round_id = config_.round_id;
  b.recipient = index;
  auto it = inbox_.find(index);
  if (it != inbox_.end()) b.shares = it->second;
  return b.Encode();
}

Status SecAggServer::HandleMaskedInput(std::span<const uint8_t> bytes) {
  STRATA_ASSIGN_OR_RETURN(MaskedInputMsg m, MaskedInputMsg::Decode(bytes, tokens_));
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kMaskedInput, m.round_id));
  if (!u2_.contains(m.sender))
    return FailedPreconditionError("node " + std::to_string(m.sender) + " did not share keys");
  if (masked_.contains(m.sender))
    return AlreadyExistsError("node " + std::to_string(m.sender) + " already sent its input");
  if (m.y.size() != config_.vector_length) {
    return InvalidArgumentError("masked input from node " + std::to_string(m.sender) + " has " +
                                std::to_string(m.y.size()) + " values, expected " +
                                std::to_string(config_.vector_length));
  }
  masked_[m.sender] = std::move(m.y);
  return Status::Ok();
}

Result<std::vector<uint8_t>> SecAggServer::CloseMaskedInput() {
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kMaskedInput, config_.round_id));
  if (masked_.size() < static_cast<size_t>(config_.threshold)) {
    return Fail(FailedPreconditionError(
        "only " + std::to_string(masked_.size()) + " of " + std::to_string(u2_.size()) +
        " nodes sent masked input; threshold is " + std::to_string(config_.threshold) +
        ": round failed, no sum released"));
  }
  UnmaskRequestMsg req;
  req.round_id = config_.round_id;
  for (const auto& [idx, m] : u2_) (masked_.contains(idx) ? survivors_ : dropped_).push_back(idx);
  req.survivors = survivors_;
  req.dropped = dropped_;
  stage_ = Stage::kUnmask;
  return req.Encode();
}

Status SecAggServer::HandleUnmask(std::span<const uint8_t> bytes) {
  STRATA_ASSIGN_OR_RETURN(UnmaskResponseMsg m, UnmaskResponseMsg::Decode(bytes, tokens_));
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kUnmask, m.round_id));
  if (!masked_.contains(m.sender))
    return FailedPreconditionError("node " + std::to_string(m.sender) + " is not a survivor");
  if (responses_.contains(m.sender))
    return AlreadyExistsError("node " + std::to_string(m.sender) + " already answered");
  std::set<uint32_t> seen;
  for (const UnmaskedShare& s : m.shares) {
    bool survivor = masked_.contains(s.owner);
    bool ok = s.kind == ShareKind::kSelfMaskSeed ? survivor : (u2_.contains(s.owner) && !survivor);
    if (!ok || !seen.insert(s.owner).second) {
      return InvalidArgumentError("unmask response from node " + std::to_string(m.sender) +
                                  " has a share of the wrong kind or a duplicate for node " +
                                  std::to_string(s.owner));
    }
  }
  responses_[m.sender] = std::move(m);
  return Status::Ok();
}

namespace {

// Lagrange coefficients per set of share holders; in a normal round every secret is held by the
// same first t responders, so this is computed once instead of once per secret.
using LambdaCache = std::map<std::vector<uint32_t>, std::vector<uint64_t>>;
using ShareIndex = std::map<std::pair<uint32_t, ShareKind>, std::vector<ShamirShare>>;

// The first t shares of every (owner, kind), in one pass over the responses: O(n²) overall.
ShareIndex IndexShares(const std::map<uint32_t, UnmaskResponseMsg>& responses, int threshold) {
  ShareIndex index;
  for (const auto& [holder, m] : responses) {
    for (const UnmaskedShare& s : m.shares) {
      auto& v = index[{s.owner, s.kind}];
      if (v.size() < static_cast<size_t>(threshold)) v.push_back({holder + 1, s.y});
    }
  }
  return index;
}

Result<Key32> Reconstruct(ShareIndex& index, uint32_t owner, ShareKind kind, int threshold,
                          LambdaCache& cache) {
  const std::vector<ShamirShare>& shares = index[{owner, kind}];
  if (shares.size() < static_cast<size_t>(threshold)) {
    return FailedPreconditionError("only " + std::to_string(shares.size()) +
                                   " shares, threshold is " + std::to_string(threshold));
  }
  std::vector<uint32_t> xs;
  for (const ShamirShare& sh : shares) xs.push_back(sh.x);
  auto it = cache.find(xs);
  if (it == cache.end()) it = cache.emplace(xs, LagrangeAtZero(xs)).first;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ShamirCombine(shares, it->second, 32));
  Key32 k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

}  // namespace

Result<SecAggResult> SecAggServer::Finish() {
  STRATA_RETURN_IF_ERROR(CheckMessage(Stage::kUnmask, config_.round_id));
  if (responses_.size() < static_cast<size_t>(config_.threshold)) {
    return Fail(FailedPreconditionError("only " + std::to_string(responses_.size()) +
                                        " unmask responses, threshold is " +
                                        std::to_string(config_.threshold) + ": no sum released"));
  }
  const uint64_t round = config_.round_id;
  SecAggResult out;
  LambdaCache cache;
  ShareIndex index = IndexShares(responses_, config_.threshold);
  out.sum.assign(config_.vector_length, 0);
  for (const auto& [u, y] : masked_) AddRing(out.sum, y);
  for (uint32_t u : survivors_) {
    auto b = Reconstruct(index, u, ShareKind::kSelfMaskSeed, config_.threshold, cache);
    if (!b.ok()) return Fail(b.status().WithContext("self-mask seed of node " + std::to_string(u)));
    if (internal::Commit(*b) != u2_[u].b_commit) {
      return Fail(
          DataLossError("reconstructed self-mask seed of node " + std::to_string(u) +
                        " does not match its commitment (tampered share): no sum released"));
    }
    internal::AddPrg(out.sum, *b, round, /*subtract=*/true);
  }
  for (uint32_t u : dropped_) {
    auto sk = Reconstruct(index, u, ShareKind::kMaskSecretKey, config_.threshold, cache);
    if (!sk.ok())
      return Fail(sk.status().WithContext("mask key of dropped node " + std::to_string(u)));
    if (internal::PublicKey(*sk) != u1_[u].s_pk) {
      return Fail(
          DataLossError("reconstructed mask key of dropped node " + std::to_string(u) +
                        " does not match its public key (tampered share): no sum released"));
    }
    for (uint32_t v : survivors_) {
      auto seed = internal::AgreeKey(*sk, u1_[v].s_pk, 'm', round, u, v);
      if (!seed.ok()) return Fail(seed.status());
      // v added +PRG when v < u and −PRG otherwise; undo it.
      internal::AddPrg(out.sum, *seed, round, /*subtract=*/v < u);
    }
  }
  out.survivors = survivors_;
  out.dropped = dropped_;
  stage_ = Stage::kDone;
  return out;
}

}  // namespace strata::federated
