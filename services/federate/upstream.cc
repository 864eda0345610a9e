// UpstreamClient: HTTP client side of the federate protocol (plain, k-FED and SecAgg steps).
#include "upstream.h"

#include <algorithm>

#include "strata/federated/fixed_point.h"
#include "strata/transport/client_config.h"

namespace strata::federate {

namespace fed = strata::federated;

Result<std::unique_ptr<UpstreamClient>> UpstreamClient::Create(const Config& config) {
  STRATA_RETURN_IF_ERROR(ParseToken(config.token).status().WithContext("node " + config.node_id));
  std::unique_ptr<UpstreamClient> c(new UpstreamClient(config));
  http::ClientConfig cc{.base_url = config.base_url,
                        .read_timeout = config.timeout,
                        .write_timeout = config.timeout,
                        .max_retries = 2,
                        .backoff_initial = std::chrono::milliseconds(20),
                        .link_src = config.node_id,
                        .link_dst = config.link_dst};
  CopyHttpClientAuth(config.auth, &cc);
  STRATA_ASSIGN_OR_RETURN(c->http_, http::HttpClient::Create(cc));
  return c;
}

std::string UpstreamClient::RoundPath(uint64_t round, const std::string& tail) const {
  return "/api/v1/rounds/" + std::to_string(round) + tail;
}

Result<RoundView> UpstreamClient::FetchRound() {
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r, http_->Get("/api/v1/round"));
  STRATA_RETURN_IF_ERROR(r.ToStatus());
  STRATA_ASSIGN_OR_RETURN(nlohmann::json j, r.Json());
  return RoundView::FromJson(j);
}

Result<fed::GlobalModel> UpstreamClient::FetchModel(const RoundView& round) {
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r,
                          http_->Get(config_.int8_model ? "/api/v1/model?format=int8" : "/api/v1/model"));
  STRATA_RETURN_IF_ERROR(r.ToStatus());
  uint64_t version = std::strtoull(r.Header("x-strata-model-version").c_str(), nullptr, 10);
  int k = std::atoi(r.Header("x-strata-model-k").c_str());
  int d = std::atoi(r.Header("x-strata-model-d").c_str());
  STRATA_ASSIGN_OR_RETURN(fed::GlobalModel m,
                          ModelFromResponse(r.body, config_.int8_model, version, k, d));
  if (m.version != round.model_version)
    return InvalidArgumentError("aggregator serves model v" + std::to_string(m.version) +
                                ", round announced v" + std::to_string(round.model_version));
  return m;
}

Status UpstreamClient::PostBytes(const std::string& path, const std::vector<uint8_t>& body,
                                 const http::HeaderList& headers) {
  http::HeaderList h = headers;
  h.emplace_back(kNodeTokenHeader, config_.token);
  h.emplace_back("X-Strata-Node", config_.node_id);
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r,
                          http_->Post(path, std::string(body.begin(), body.end()),
                                      "application/octet-stream", h));
  return r.ToStatus().WithContext("POST " + path);
}

Status UpstreamClient::SendUpdate(const fed::ModelUpdate& update, const std::vector<double>* support) {
  http::HeaderList h;
  if (support) h.emplace_back(kSupportHeader, SupportHeaderValue(*support));
  return PostBytes(RoundPath(update.round_id, "/update"), update.Encode(), h);
}

Status UpstreamClient::SendUpdateBody(uint64_t round_id, const std::vector<uint8_t>& body,
                                      const std::vector<double>* support) {
  http::HeaderList h;
  if (support) h.emplace_back(kSupportHeader, SupportHeaderValue(*support));
  return PostBytes(RoundPath(round_id, "/update"), body, h);
}

Status UpstreamClient::SendCentroids(uint64_t round_id, const fed::CentroidReport& report) {
  return PostBytes(RoundPath(round_id, "/centroids"), report.Encode());
}

Status UpstreamClient::SecBegin(const RoundView& round) {
  auto it = std::find(round.nodes.begin(), round.nodes.end(), config_.node_id);
  if (it == round.nodes.end())
    return PermissionDeniedError("node '" + config_.node_id + "' is not in the secure round");
  sec_index_ = static_cast<uint32_t>(it - round.nodes.begin());
  fed::SecAggConfig cfg{round.round_id, round.nodes, round.threshold,
                        SecureVectorLength(round.k, round.d)};
  STRATA_ASSIGN_OR_RETURN(fed::AuthKey token, ParseToken(config_.token));
  fed::SecureRandom rng = config_.secure_seed == 0
                              ? fed::SecureRandom()
                              : fed::SecureRandom::Deterministic(
                                    fed::SeedFromU64(config_.secure_seed * 1000003 + round.round_id));
  sec_.reset();
  sec_state_ = SecState::kNone;
  STRATA_ASSIGN_OR_RETURN(fed::SecAggClient c, fed::SecAggClient::Create(cfg, sec_index_, token, rng));
  sec_.emplace(std::move(c));
  sec_round_ = round.round_id;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> adv, sec_->AdvertiseKeys());
  STRATA_RETURN_IF_ERROR(PostBytes(RoundPath(sec_round_, "/secagg/advertise"), adv));
  sec_state_ = SecState::kAdvertised;
  return Status::Ok();
}

Result<std::optional<std::string>> UpstreamClient::GetStage(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r, http_->Get(path));
  if (r.status == 425) return std::optional<std::string>();
  STRATA_RETURN_IF_ERROR(r.ToStatus().WithContext("GET " + path));
  return std::optional<std::string>(std::move(r.body));
}

namespace {
std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
}  // namespace

Result<bool> UpstreamClient::SecShare() {
  if (!sec_ || sec_state_ != SecState::kAdvertised) return FailedPreconditionError("not advertised");
  STRATA_ASSIGN_OR_RETURN(auto keys, GetStage(RoundPath(sec_round_, "/secagg/keys")));
  if (!keys) return false;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> msg, sec_->ShareKeys(AsBytes(*keys)));
  STRATA_RETURN_IF_ERROR(PostBytes(RoundPath(sec_round_, "/secagg/shares"), msg));
  sec_state_ = SecState::kShared;
  return true;
}

Result<bool> UpstreamClient::SecMasked(const std::vector<double>& v) {
  if (!sec_ || sec_state_ != SecState::kShared) return FailedPreconditionError("keys not shared");
  STRATA_ASSIGN_OR_RETURN(
      auto bundle,
      GetStage(RoundPath(sec_round_, "/secagg/shares/" + std::to_string(sec_index_))));
  if (!bundle) return false;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint64_t> x, fed::EncodeFixed(v, fed::FixedPointConfig{}));
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> msg, sec_->MaskedInput(AsBytes(*bundle), x));
  STRATA_RETURN_IF_ERROR(PostBytes(RoundPath(sec_round_, "/secagg/masked"), msg));
  sec_state_ = SecState::kMasked;
  return true;
}

Result<bool> UpstreamClient::SecUnmask() {
  if (!sec_ || sec_state_ != SecState::kMasked) return FailedPreconditionError("no masked input");
  STRATA_ASSIGN_OR_RETURN(auto req, GetStage(RoundPath(sec_round_, "/secagg/unmask")));
  if (!req) return false;
  STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> msg, sec_->Unmask(AsBytes(*req)));
  STRATA_RETURN_IF_ERROR(PostBytes(RoundPath(sec_round_, "/secagg/unmask"), msg));
  sec_state_ = SecState::kDone;
  sec_.reset();  // zeroes the round's secrets
  return true;
}

}  // namespace strata::federate
