// Secure-aggregation wire messages (Bonawitz et al. 2017, semi-honest variant with authentication).
//
// Node → server messages (AdvertiseKeys, ShareKeys, MaskedInput, UnmaskResponse) end with a
// 32-byte HMAC-SHA-512-256 tag (libsodium crypto_auth) under the sender's per-node token, computed
// over the whole message, which binds the round id and sender index into it; the server rejects a
// bad tag with Unauthenticated. Server → node messages (KeyList, ShareBundle, UnmaskRequest) carry
// no tag: they travel over the server's authenticated channel (TLS), and the encrypted shares
// inside a ShareBundle are AEAD-protected end to end between nodes. Nodes are named by their index
// in SecAggConfig::nodes (0-based; Shamir x = index + 1).
// Decode never trusts lengths: truncated → DataLoss, oversized/malformed → InvalidArgument.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "strata/core/status.h"
#include "strata/federated/secure_random.h"
#include "strata/federated/wire.h"

namespace strata::federated {

using AuthKey = Key32;
inline constexpr size_t kMacBytes = 32;
inline constexpr uint32_t kMaxSecAggNodes = 10000;
inline constexpr uint32_t kMaxSecAggVector = 1u << 22;
inline constexpr size_t kMaxCiphertextBytes = 4096;

// Exact encoded sizes of what one node sends in a round with |U1| = n1, |U2| = n2, m values.
inline size_t AdvertiseKeysBytes() { return 112; }
inline size_t ShareKeysBytes(size_t n1) { return 84 + 156 * n1; }
inline size_t MaskedInputBytes(size_t m) { return 52 + 8 * m; }
inline size_t UnmaskResponseBytes(size_t n2) { return 52 + 69 * n2; }

struct AdvertiseKeysMsg {
  uint64_t round_id = 0;
  uint32_t sender = 0;
  Key32 c_pk{};  // X25519 public key for share encryption
  Key32 s_pk{};  // X25519 public key for pairwise masks
  std::vector<uint8_t> Encode(const AuthKey& token) const;
  // `tokens[i]` is node i's token. Unauthenticated on a bad tag or unknown sender.
  static Result<AdvertiseKeysMsg> Decode(std::span<const uint8_t> b,
                                         std::span<const AuthKey> tokens);
};

struct KeyListMsg {
  uint64_t round_id = 0;
  std::vector<AdvertiseKeysMsg> keys;  // U1, sorted by sender
  std::vector<uint8_t> Encode() const;
  static Result<KeyListMsg> Decode(std::span<const uint8_t> b);
};

struct EncryptedShare {
  uint32_t from = 0;
  uint32_t to = 0;
  std::vector<uint8_t> ciphertext;  // AEAD(ChaCha20-Poly1305-IETF) of the two Shamir shares
};

struct ShareKeysMsg {
  uint64_t round_id = 0;
  uint32_t sender = 0;
  Key32 b_commit{};  // BLAKE2b(b_u): lets the server verify the reconstructed self-mask seed
  std::vector<EncryptedShare> shares;
  std::vector<uint8_t> Encode(const AuthKey& token) const;
  static Result<ShareKeysMsg> Decode(std::span<const uint8_t> b, std::span<const AuthKey> tokens);
};

struct ShareBundleMsg {
  uint64_t round_id = 0;
  uint32_t recipient = 0;
  std::vector<EncryptedShare> shares;  // every share addressed to `recipient` (U2 senders)
  std::vector<uint8_t> Encode() const;
  static Result<ShareBundleMsg> Decode(std::span<const uint8_t> b);
};

struct MaskedInputMsg {
  uint64_t round_id = 0;
  uint32_t sender = 0;
  std::vector<uint64_t> y;  // x + PRG(b) + Σ ±PRG(s_uv)  (mod 2^64)
  std::vector<uint8_t> Encode(const AuthKey& token) const;
  static Result<MaskedInputMsg> Decode(std::span<const uint8_t> b, std::span<const AuthKey> tokens);
};

struct UnmaskRequestMsg {
  uint64_t round_id = 0;
  std::vector<uint32_t> survivors;  // U3: masked input received
  std::vector<uint32_t> dropped;    // U2 \ U3: shared keys, then dropped
  std::vector<uint8_t> Encode() const;
  static Result<UnmaskRequestMsg> Decode(std::span<const uint8_t> b);
};

enum class ShareKind : uint8_t { kSelfMaskSeed = 0, kMaskSecretKey = 1 };

struct UnmaskedShare {
  uint32_t owner = 0;  // whose secret this is a share of
  ShareKind kind = ShareKind::kSelfMaskSeed;
  std::vector<uint64_t> y;
};

struct UnmaskResponseMsg {
  uint64_t round_id = 0;
  uint32_t sender = 0;
  std::vector<UnmaskedShare> shares;
  std::vector<uint8_t> Encode(const AuthKey& token) const;
  static Result<UnmaskResponseMsg> Decode(std::span<const uint8_t> b,
                                          std::span<const AuthKey> tokens);
};

}  // namespace strata::federated
