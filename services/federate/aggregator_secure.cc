// AggregatorService, secure aggregation: the server side of the SecAgg stages over HTTP.
//
//   POST /api/v1/rounds/{round}/secagg/advertise   AdvertiseKeys           (stage advertise)
//   GET  /api/v1/rounds/{round}/secagg/keys        KeyList                 (from share_keys)
//   POST /api/v1/rounds/{round}/secagg/shares      ShareKeys               (stage share_keys)
//   GET  /api/v1/rounds/{round}/secagg/shares/{i}  ShareBundle for node i  (from masked_input)
//   POST /api/v1/rounds/{round}/secagg/masked      MaskedInput             (stage masked_input)
//   GET  /api/v1/rounds/{round}/secagg/unmask      UnmaskRequest           (from unmask)
//   POST /api/v1/rounds/{round}/secagg/unmask      UnmaskResponse          (stage unmask)
// A GET for a stage not reached yet answers 425 Too Early (clients poll). A stage closes when
// every expected node has posted, or at its deadline: advertise and share_keys after
// phase_timeout, masked_input at the round's collection deadline, unmask phase_timeout later.
// The unmasked sum [sums | counts | support] goes to RoundAggregator::SubmitAggregate.
#include <spdlog/spdlog.h>

#include "aggregator_service.h"
#include "strata/federated/fixed_point.h"

namespace strata::federate {

namespace fed = strata::federated;

namespace {
std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
}  // namespace

Status AggregatorService::OpenSecure() {
  sec_ = Sec{};
  std::vector<std::string> names;
  for (const NodeEntry& n : opt_.nodes) names.push_back(n.id);
  fed::SecAggConfig cfg{round_id_, names, RoundLocked().threshold,
                        SecureVectorLength(opt_.k, opt_.d)};
  STRATA_ASSIGN_OR_RETURN(fed::SecAggServer server, fed::SecAggServer::Create(cfg, tokens_));
  sec_.server.emplace(std::move(server));
  sec_.stage = SecStage::kAdvertise;
  sec_.phase_deadline = clock_->Now() + opt_.phase_timeout;
  return Status::Ok();
}

void AggregatorService::SecureTick() {
  const WallTime now = clock_->Now();
  Status failed = Status::Ok();
  if (!sec_.server) {
    failed = FailedPreconditionError("no SecAgg server for this round");
  } else if (sec_.stage == SecStage::kAdvertise) {
    if (sec_.advertised == opt_.nodes.size() || now > sec_.phase_deadline) {
      auto kl = sec_.server->CloseAdvertise();
      if (kl.ok()) {
        sec_.key_list = *kl;
        auto decoded = fed::KeyListMsg::Decode(*kl);
        sec_.u1 = decoded.ok() ? decoded->keys.size() : 0;
        sec_.stage = SecStage::kShareKeys;
        sec_.phase_deadline = now + opt_.phase_timeout;
      } else {
        failed = kl.status();
      }
    }
  } else if (sec_.stage == SecStage::kShareKeys) {
    if (sec_.shared == sec_.u1 || now > sec_.phase_deadline) {
      failed = sec_.server->CloseShareKeys();
      sec_.u2 = sec_.shared;
      sec_.stage = SecStage::kMaskedInput;
    }
  } else if (sec_.stage == SecStage::kMaskedInput) {
    if (sec_.masked == sec_.u2 || now > collect_deadline_) {
      auto req = sec_.server->CloseMaskedInput();
      if (req.ok()) {
        sec_.unmask_request = *req;
        sec_.u3 = sec_.masked;
        sec_.stage = SecStage::kUnmask;
        sec_.phase_deadline = now + opt_.phase_timeout;
      } else {
        failed = req.status();
      }
    }
  } else if (sec_.stage == SecStage::kUnmask) {
    if (sec_.unmasked == sec_.u3 || now > sec_.phase_deadline) {
      auto result = sec_.server->Finish();
      if (!result.ok()) {
        failed = result.status();
      } else {
        auto split = SplitSecureVector(fed::DecodeFixed(result->sum, fed::FixedPointConfig{}),
                                       opt_.k, opt_.d);
        std::vector<std::string> participants;
        for (uint32_t u : result->survivors) participants.push_back(opt_.nodes[u].id);
        if (!split.ok()) {
          failed = split.status();
        } else {
          support_ = split->second;
          failed = agg_->SubmitAggregate(round_id_, split->first, participants);
        }
        if (failed.ok()) return CloseLloyd();
      }
    }
  }
  if (!failed.ok()) {
    spdlog::warn("federate {}: secure round {} failed in stage {}: {} (no sum released)", opt_.id,
                 round_id_, SecStageName(sec_.stage), failed.message());
    CloseLloyd();  // nothing was submitted: the round is retried (or fails after max_retries)
  }
}

Result<http::Response> AggregatorService::SecPost(const http::Request& r, SecStage stage) {
  uint64_t round = 0;
  STRATA_RETURN_IF_ERROR(CheckPathRound(r, &round));
  std::lock_guard l(mu_);
  if (round < round_id_ || (round == round_id_ && !open_))
    return FailedPreconditionError("round " + std::to_string(round) + " is closed (replay?)");
  if (round > round_id_) return InvalidArgumentError("round " + std::to_string(round) + " is unknown");
  if (!open_ || !sec_.server) return FailedPreconditionError("round " + std::to_string(round) + " is not a secure round");
  if (sec_.stage != stage)
    return FailedPreconditionError(std::string("round is in stage ") + SecStageName(sec_.stage) +
                                   ", not " + SecStageName(stage));
  Status s;
  size_t* counter = nullptr;
  switch (stage) {
    case SecStage::kAdvertise: s = sec_.server->HandleAdvertise(Bytes(r.body)); counter = &sec_.advertised; break;
    case SecStage::kShareKeys: s = sec_.server->HandleShareKeys(Bytes(r.body)); counter = &sec_.shared; break;
    case SecStage::kMaskedInput: s = sec_.server->HandleMaskedInput(Bytes(r.body)); counter = &sec_.masked; break;
    case SecStage::kUnmask: s = sec_.server->HandleUnmask(Bytes(r.body)); counter = &sec_.unmasked; break;
    case SecStage::kNone: return InvalidArgumentError("no such stage");
  }
  if (s.code() == StatusCode::kDataLoss) return InvalidArgumentError("truncated message: " + s.message());
  STRATA_RETURN_IF_ERROR(s);
  ++*counter;
  round_bytes_ += r.body.size();
  wake_ = true;
  cv_.notify_all();
  return http::Response::Json({{"accepted", true}, {"round", round}, {"stage", SecStageName(stage)}}, 202);
}

Result<http::Response> AggregatorService::SecGet(const http::Request& r, SecStage stage) {
  uint64_t round = 0;
  STRATA_RETURN_IF_ERROR(CheckPathRound(r, &round));
  std::lock_guard l(mu_);
  if (round != round_id_ || !open_ || !sec_.server)
    return FailedPreconditionError("round " + std::to_string(round) + " is not an open secure round");
  if (static_cast<int>(sec_.stage) < static_cast<int>(stage))
    return http::Problem(425, std::string("round is still in stage ") + SecStageName(sec_.stage), r.path);
  std::vector<uint8_t> body;
  if (stage == SecStage::kShareKeys) {
    body = sec_.key_list;
  } else if (stage == SecStage::kUnmask) {
    body = sec_.unmask_request;
  } else {
    const std::string idx = r.PathParam("index");
    char* end = nullptr;
    unsigned long i = std::strtoul(idx.c_str(), &end, 10);
    if (idx.empty() || *end != '\0' || i >= opt_.nodes.size())
      return InvalidArgumentError("node index must be in [0, " + std::to_string(opt_.nodes.size()) + ")");
    STRATA_ASSIGN_OR_RETURN(body, sec_.server->ShareBundleFor(static_cast<uint32_t>(i)));
  }
  return http::Response::Bytes(std::string(body.begin(), body.end()), "application/octet-stream");
}

}  // namespace strata::federate
