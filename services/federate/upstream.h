// UpstreamClient: a federated client's view of its aggregator over HTTP — used by an edge (talking
// to its fog or the cloud) and by a fog (talking to the cloud as ONE client forwarding its sum).
//
// It reads the round announcement and the global model, sends plain updates and k-FED reports,
// and runs the client side of secure aggregation as explicit steps (advertise, share keys, masked
// input, unmask). Each secure step returns true when done and false when the aggregator has not
// reached that stage yet, so callers poll without blocking a thread per node. Every request is
// metered in the LinkMeter as (node_id → link_dst); GETs carry no body.
// Thread-safety: not thread-safe; one instance per node, used by one thread at a time.
//
//   auto up = UpstreamClient::Create({.base_url = url, .node_id = "edge-1", .token = hex}).value();
//   RoundView r = up->FetchRound().value();
//   GlobalModel m = up->FetchModel(r).value();
//   STRATA_RETURN_IF_ERROR(up->SendUpdate({r.round_id, "edge-1", m.version, stats}, nullptr));
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "protocol.h"
#include "strata/federated/secagg.h"
#include "strata/transport/http_client.h"

namespace strata::federate {

class UpstreamClient {
 public:
  struct Config {
    std::string base_url;
    std::string node_id;
    std::string token;        // 64 hex digits
    bool int8_model = false;  // fetch the int8-compressed model
    std::string link_dst = "aggregator";
    std::chrono::milliseconds timeout{10000};
    uint64_t secure_seed = 0;  // 0 = OS randomness for SecAgg secrets; else deterministic (tests)
    http::ClientConfig auth;   // bearer token / token_file / ca_file (ParseHttpClientAuth)
  };
  // InvalidArgument on a bad URL or token.
  static Result<std::unique_ptr<UpstreamClient>> Create(const Config& config);

  Result<RoundView> FetchRound();
  // The announced model version (InvalidArgument if the aggregator already moved on).
  Result<federated::GlobalModel> FetchModel(const RoundView& round);
  // Plain update; `support` (fog only) goes in X-Strata-Segment-Support.
  Status SendUpdate(const federated::ModelUpdate& update, const std::vector<double>* support);
  // An already encoded update body (e.g. a CompressedUpdate from federated::UpdateEncoder).
  Status SendUpdateBody(uint64_t round_id, const std::vector<uint8_t>& body,
                        const std::vector<double>* support);
  Status SendCentroids(uint64_t round_id, const federated::CentroidReport& report);

  // Secure aggregation for `round` (this node must be in round.nodes): creates the per-round
  // SecAggClient and posts AdvertiseKeys.
  Status SecBegin(const RoundView& round);
  Result<bool> SecShare();                               // GET keys → POST ShareKeys
  Result<bool> SecMasked(const std::vector<double>& v);  // GET bundle → POST MaskedInput
  Result<bool> SecUnmask();                              // GET request → POST Unmask
  enum class SecState { kNone, kAdvertised, kShared, kMasked, kDone };
  SecState sec_state() const { return sec_state_; }
  uint64_t sec_round() const { return sec_round_; }
  const Config& config() const { return config_; }

 private:
  explicit UpstreamClient(Config c) : config_(std::move(c)) {}
  std::string RoundPath(uint64_t round, const std::string& tail) const;
  // GET a secure-stage resource: the body, or nullopt while the aggregator answers 425.
  Result<std::optional<std::string>> GetStage(const std::string& path);
  Status PostBytes(const std::string& path, const std::vector<uint8_t>& body,
                   const http::HeaderList& headers = {});

  Config config_;
  std::unique_ptr<http::HttpClient> http_;
  std::optional<federated::SecAggClient> sec_;
  SecState sec_state_ = SecState::kNone;
  uint64_t sec_round_ = 0;
  uint32_t sec_index_ = 0;
};

}  // namespace strata::federate
