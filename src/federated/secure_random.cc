#include "strata/federated/secure_random.h"

#include <sodium.h>

#include <cstring>

namespace strata::federated {

Status EnsureSodium() {
  static const int rc = sodium_init();
  if (rc < 0) return InternalError("libsodium initialisation failed");
  return Status::Ok();
}

Key32 SeedFromU64(uint64_t seed) {
  Key32 k{};
  for (int i = 0; i < 8; ++i) k[i] = static_cast<uint8_t>(seed >> (8 * i));
  crypto_generichash(k.data(), k.size(), k.data(), 8, nullptr, 0);
  return k;
}

SecureRandom SecureRandom::Deterministic(const Key32& seed) {
  SecureRandom r;
  r.deterministic_ = true;
  r.key_ = seed;
  return r;
}

void SecureRandom::Fill(std::span<uint8_t> out) {
  if (!deterministic_) {
    (void)EnsureSodium();
    randombytes_buf(out.data(), out.size());
    return;
  }
  static const uint8_t kNonce[crypto_stream_chacha20_NONCEBYTES] = {'s', 't', 'r', 'a',
                                                                    'd', 'r', 'b', 'g'};
  static const uint8_t kZero[64] = {};
  size_t pos = 0;
  while (pos < out.size()) {
    if (used_ == buf_.size()) {
      crypto_stream_chacha20_xor_ic(buf_.data(), kZero, sizeof(kZero), kNonce, block_++,
                                    key_.data());
      used_ = 0;
    }
    size_t n = std::min(out.size() - pos, buf_.size() - used_);
    std::memcpy(out.data() + pos, buf_.data() + used_, n);
    used_ += n;
    pos += n;
  }
}

uint64_t SecureRandom::U64() {
  uint8_t b[8];
  Fill(b);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return v;
}

}  // namespace strata::federated
