// Secure aggregation with dropout recovery (Bonawitz et al., CCS 2017; semi-honest server,
// authenticated clients). The server learns Σ_{u∈U3} x_u over Z_{2^64} and nothing else about
// any single x_u, provided fewer than `threshold` parties collude with it.
//
// Per round (message flow; every arrow is one message from secagg_messages.h):
//   0 AdvertiseKeys  node → server: X25519 public keys c_pk (share encryption), s_pk (masks).
//                    server → nodes: KeyList (U1 = nodes that advertised; needs ≥ t).
//   1 ShareKeys      node u: fresh self-mask seed b_u; Shamir t-of-|U1| shares of s_sk_u and b_u,
//                    one per v ∈ U1, each AEAD-encrypted under KDF(X25519(c_sk_u, c_pk_v), round);
//                    commitment BLAKE2b(b_u). server → each v: ShareBundle (U2 = nodes that
//                    shared).
//   2 MaskedInput    y_u = x_u + PRG(b_u) + Σ_{v∈U2\u} σ_uv·PRG(s_uv)  (mod 2^64), with
//                    s_uv = KDF(X25519(s_sk_u, s_pk_v), round), σ_uv = +1 if u < v else −1,
//                    PRG = ChaCha20 keystream. server → survivors: UnmaskRequest(U3, U2\U3).
//   3 Unmask         each survivor returns b-shares for U3 and s_sk-shares for U2\U3, never both
//                    for one node (a client answers only one UnmaskRequest per round).
//   Finish           server reconstructs b_u (checked against the commitment) and dropped s_sk_u
//                    (checked against s_pk_u), removes the self-masks and the dropped nodes'
//                    pairwise masks: Σ y_u − Σ PRG(b_u) − Σ_{u dropped, v∈U3} σ_vu·PRG(s_vu).
// The sum is recovered when up to |U1| − t nodes drop after sharing; with fewer than t survivors
// or t unmask responses the round fails with FailedPrecondition and no partial sum is released.
// Thread-safety: SecAggClient and SecAggServer are not thread-safe; one instance per node/round.
//
//   SecAggServer server = SecAggServer::Create(cfg, tokens).value();
//   SecAggClient c = SecAggClient::Create(cfg, /*index=*/0, tokens[0], SecureRandom()).value();
//   server.HandleAdvertise(c.AdvertiseKeys().value());              // ... for every node
//   auto keys = server.CloseAdvertise().value();
//   server.HandleShareKeys(c.ShareKeys(keys).value());              // ... for every node
//   server.CloseShareKeys();
//   server.HandleMaskedInput(c.MaskedInput(server.ShareBundleFor(0).value(), x).value());
//   auto req = server.CloseMaskedInput().value();
//   server.HandleUnmask(c.Unmask(req).value());
//   SecAggResult sum = server.Finish().value();
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/federated/secagg_messages.h"
#include "strata/federated/secure_random.h"

namespace strata::federated {

struct SecAggConfig {
  uint64_t round_id = 0;
  std::vector<std::string> nodes;  // index i ↔ node name; Shamir x = i + 1
  int threshold = 0;               // t: must satisfy n/2 < t <= n
  size_t vector_length = 0;        // m: ring elements per update
  // InvalidArgument naming the field on bad values.
  Status Validate() const;
};

class SecAggClient {
 public:
  enum class Stage { kAdvertise, kShareKeys, kMaskedInput, kUnmask, kDone };
  // InvalidArgument on bad config or index; Internal if libsodium fails.
  static Result<SecAggClient> Create(const SecAggConfig& config, uint32_t index,
                                     const AuthKey& token, SecureRandom rng);
  SecAggClient(SecAggClient&&) = default;
  SecAggClient& operator=(SecAggClient&&) = default;
  ~SecAggClient();  // zeroes secret keys, seeds and held shares

  Result<std::vector<uint8_t>> AdvertiseKeys();
  // FailedPrecondition if |U1| < t or this node is missing; InvalidArgument on a malformed list.
  Result<std::vector<uint8_t>> ShareKeys(std::span<const uint8_t> key_list);
  // x: fixed-point ring elements (EncodeFixed). DataLoss when a share fails AEAD authentication.
  Result<std::vector<uint8_t>> MaskedInput(std::span<const uint8_t> share_bundle,
                                           std::span<const uint64_t> x);
  // FailedPrecondition on < t survivors, overlapping sets or a second request.
  Result<std::vector<uint8_t>> Unmask(std::span<const uint8_t> unmask_request);

  Stage stage() const { return stage_; }
  uint32_t index() const { return index_; }

 private:
  SecAggClient() = default;
  Status CheckStage(Stage want) const;

  SecAggConfig config_;
  uint32_t index_ = 0;
  AuthKey token_{};
  SecureRandom rng_;
  Stage stage_ = Stage::kAdvertise;
  Key32 c_sk_{}, c_pk_{}, s_sk_{}, s_pk_{};
  Key32 self_b_{};                                      // self-mask seed, zeroed after MaskedInput
  std::map<uint32_t, std::pair<Key32, Key32>> peers_;   // U1: index → (c_pk, s_pk)
  std::map<uint32_t, Key32> enc_keys_;                  // U1: index → share-encryption key
  std::map<uint32_t, std::vector<uint64_t>> s_shares_;  // owner → my share of s_sk_owner
  std::map<uint32_t, std::vector<uint64_t>> b_shares_;  // owner → my share of b_owner
};

struct SecAggResult {
  std::vector<uint64_t> sum;        // Σ_{u∈survivors} x_u (mod 2^64)
  std::vector<uint32_t> survivors;  // U3
  std::vector<uint32_t> dropped;    // U2 \ U3 (their masks were removed)
};

class SecAggServer {
 public:
  enum class Stage { kAdvertise, kShareKeys, kMaskedInput, kUnmask, kDone, kFailed };
  // tokens[i] authenticates node i. InvalidArgument on bad config or token count.
  static Result<SecAggServer> Create(const SecAggConfig& config, std::vector<AuthKey> tokens);

  // Each Handle* rejects a bad message with a precise Status (Unauthenticated, InvalidArgument for
  // a wrong round/length, FailedPrecondition for a replayed old round or wrong stage, AlreadyExists
  // for a duplicate) and leaves the round running.
  Status HandleAdvertise(std::span<const uint8_t> bytes);
  Result<std::vector<uint8_t>> CloseAdvertise();
  Status HandleShareKeys(std::span<const uint8_t> bytes);
  Status CloseShareKeys();
  Result<std::vector<uint8_t>> ShareBundleFor(uint32_t index) const;
  Status HandleMaskedInput(std::span<const uint8_t> bytes);
  Result<std::vector<uint8_t>> CloseMaskedInput();
  Status HandleUnmask(std::span<const uint8_t> bytes);
  // The unmasked sum. FailedPrecondition with < t responses; DataLoss when a reconstructed secret
  // fails its check (tampered share). Any failure leaves the server in kFailed, with no sum.
  Result<SecAggResult> Finish();

  Stage stage() const { return stage_; }

 private:
  SecAggServer() = default;
  Status CheckMessage(Stage want, uint64_t round_id) const;
  Status Fail(Status s);

  SecAggConfig config_;
  std::vector<AuthKey> tokens_;
  Stage stage_ = Stage::kAdvertise;
  std::map<uint32_t, AdvertiseKeysMsg> u1_;
  std::map<uint32_t, ShareKeysMsg> u2_;                    // shares moved to inbox_
  std::map<uint32_t, std::vector<EncryptedShare>> inbox_;  // recipient → shares for it
  std::map<uint32_t, std::vector<uint64_t>> masked_;       // U3 inputs
  std::vector<uint32_t> survivors_, dropped_;
  std::map<uint32_t, UnmaskResponseMsg> responses_;
};

}  // namespace strata::federated
