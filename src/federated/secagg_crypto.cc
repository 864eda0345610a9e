#include "secagg_crypto.h"

#include <sodium.h>

#include <bit>
#include <cstring>
#include <vector>

namespace strata::federated::internal {

static_assert(std::endian::native == std::endian::little, "PRG word order assumes little-endian");

void NewKeyPair(SecureRandom& rng, Key32& sk, Key32& pk) {
  rng.Fill(sk);
  crypto_scalarmult_base(pk.data(), sk.data());
}

Key32 PublicKey(const Key32& sk) {
  Key32 pk;
  crypto_scalarmult_base(pk.data(), sk.data());
  return pk;
}

Result<Key32> AgreeKey(const Key32& my_sk, const Key32& their_pk, char label, uint64_t round,
                       uint32_t a, uint32_t b) {
  uint8_t shared[crypto_scalarmult_BYTES];
  if (crypto_scalarmult(shared, my_sk.data(), their_pk.data()) != 0) {
    return InvalidArgumentError("X25519 with a low-order public key");
  }
  uint32_t lo = std::min(a, b), hi = std::max(a, b);
  uint8_t ctx[1 + 8 + 4 + 4];
  ctx[0] = static_cast<uint8_t>(label);
  std::memcpy(ctx + 1, &round, 8);
  std::memcpy(ctx + 9, &lo, 4);
  std::memcpy(ctx + 13, &hi, 4);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, shared, sizeof(shared));
  crypto_generichash_update(&st, ctx, sizeof(ctx));
  Key32 out;
  crypto_generichash_final(&st, out.data(), out.size());
  sodium_memzero(shared, sizeof(shared));
  return out;
}

void AddPrg(std::span<uint64_t> acc, const Key32& seed, uint64_t round, bool subtract) {
  uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
  std::memcpy(nonce, &round, 8);
  constexpr size_t kChunk = 512;  // words per keystream call
  uint64_t buf[kChunk];
  for (size_t off = 0; off < acc.size(); off += kChunk) {
    size_t n = std::min(kChunk, acc.size() - off);
    // The keystream is continued across chunks through the block counter (64-byte blocks).
    std::memset(buf, 0, n * 8);
    crypto_stream_chacha20_xor_ic(reinterpret_cast<uint8_t*>(buf), reinterpret_cast<uint8_t*>(buf),
                                  n * 8, nonce, off * 8 / 64, seed.data());
    if (subtract) {
      for (size_t i = 0; i < n; ++i) acc[off + i] -= buf[i];
    } else {
      for (size_t i = 0; i < n; ++i) acc[off + i] += buf[i];
    }
  }
}

Key32 Commit(const Key32& secret) {
  Key32 out;
  crypto_generichash(out.data(), out.size(), secret.data(), secret.size(), nullptr, 0);
  return out;
}

namespace {
void ShareNonce(uint64_t round, uint32_t from, uint32_t to,
                uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], uint8_t ad[16]) {
  std::memset(nonce, 0, crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
  std::memcpy(nonce, &from, 4);
  std::memcpy(nonce + 4, &to, 4);
  std::memcpy(ad, &round, 8);
  std::memcpy(ad + 8, &from, 4);
  std::memcpy(ad + 12, &to, 4);
}
}  // namespace

std::vector<uint8_t> SealShare(const Key32& key, uint64_t round, uint32_t from, uint32_t to,
                               std::span<const uint64_t> s_share,
                               std::span<const uint64_t> b_share) {
  uint8_t pt[2 * kShareWords * 8];
  std::memcpy(pt, s_share.data(), kShareWords * 8);
  std::memcpy(pt + kShareWords * 8, b_share.data(), kShareWords * 8);
  uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], ad[16];
  ShareNonce(round, from, to, nonce, ad);
  std::vector<uint8_t> ct(sizeof(pt) + crypto_aead_chacha20poly1305_ietf_ABYTES);
  unsigned long long ct_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(ct.data(), &ct_len, pt, sizeof(pt), ad, sizeof(ad),
                                            nullptr, nonce, key.data());
  sodium_memzero(pt, sizeof(pt));
  return ct;
}

Status OpenShare(const Key32& key, uint64_t round, uint32_t from, uint32_t to,
                 std::span<const uint8_t> ct, std::vector<uint64_t>& s_share,
                 std::vector<uint64_t>& b_share) {
  uint8_t pt[2 * kShareWords * 8];
  if (ct.size() != sizeof(pt) + crypto_aead_chacha20poly1305_ietf_ABYTES) {
    return DataLossError("share from node " + std::to_string(from) + " has wrong length");
  }
  uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], ad[16];
  ShareNonce(round, from, to, nonce, ad);
  unsigned long long pt_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &pt_len, nullptr, ct.data(), ct.size(), ad,
                                                sizeof(ad), nonce, key.data()) != 0) {
    return DataLossError("share from node " + std::to_string(from) + " failed authentication");
  }
  s_share.resize(kShareWords);
  b_share.resize(kShareWords);
  std::memcpy(s_share.data(), pt, kShareWords * 8);
  std::memcpy(b_share.data(), pt + kShareWords * 8, kShareWords * 8);
  sodium_memzero(pt, sizeof(pt));
  return Status::Ok();
}

}  // namespace strata::federated::internal
