// Internal crypto helpers shared by SecAggClient and SecAggServer (not part of the public API).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "strata/core/status.h"
#include "strata/federated/secure_random.h"

namespace strata::federated::internal {

// Fresh X25519 key pair from rng.
void NewKeyPair(SecureRandom& rng, Key32& sk, Key32& pk);
// KDF(X25519(my_sk, their_pk) ‖ label ‖ round ‖ min(a,b) ‖ max(a,b)) with BLAKE2b-256: symmetric
// in (a, b). InvalidArgument when their_pk is a low-order point.
Result<Key32> AgreeKey(const Key32& my_sk, const Key32& their_pk, char label, uint64_t round,
                       uint32_t a, uint32_t b);
// acc ±= ChaCha20(seed, nonce=round) interpreted as little-endian uint64 words (mod 2^64).
void AddPrg(std::span<uint64_t> acc, const Key32& seed, uint64_t round, bool subtract);
Key32 Commit(const Key32& secret);
Key32 PublicKey(const Key32& sk);

// Share plaintext: 8 words of the s_sk share then 8 words of the b share.
inline constexpr size_t kShareWords = 8;
std::vector<uint8_t> SealShare(const Key32& key, uint64_t round, uint32_t from, uint32_t to,
                               std::span<const uint64_t> s_share,
                               std::span<const uint64_t> b_share);
// DataLoss when the ciphertext fails authentication or has the wrong length.
Status OpenShare(const Key32& key, uint64_t round, uint32_t from, uint32_t to,
                 std::span<const uint8_t> ct, std::vector<uint64_t>& s_share,
                 std::vector<uint64_t>& b_share);

}  // namespace strata::federated::internal
