// SecureRandom: the source of cryptographic secrets (key pairs, mask seeds, Shamir coefficients).
//
// By default it draws from the OS CSPRNG (libsodium randombytes_buf). Deterministic(seed) gives a
// ChaCha20 keystream DRBG for protocol tests and benchmarks that must be reproducible; never use
// it in production. EnsureSodium() initialises libsodium once (Internal if that fails).
// Thread-safety: an instance is not thread-safe; give each node/thread its own.
//
//   SecureRandom rng = SecureRandom::Deterministic(SeedFromU64(7));
//   std::array<uint8_t, 32> key;  rng.Fill(key);
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "strata/core/status.h"

namespace strata::federated {

using Key32 = std::array<uint8_t, 32>;

Status EnsureSodium();
Key32 SeedFromU64(uint64_t seed);

class SecureRandom {
 public:
  SecureRandom() = default;  // OS randomness
  static SecureRandom Deterministic(const Key32& seed);

  void Fill(std::span<uint8_t> out);
  uint64_t U64();
  bool deterministic() const { return deterministic_; }

 private:
  bool deterministic_ = false;
  Key32 key_{};
  uint64_t block_ = 0;
  std::array<uint8_t, 64> buf_{};
  size_t used_ = 64;
};

}  // namespace strata::federated
