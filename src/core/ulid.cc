#include "strata/core/ulid.h"

#include <random>

namespace strata {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  for (int i = 0; i < 32; ++i)
    if (kAlphabet[i] == c) return i;
  return -1;
}

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

UlidGenerator::UlidGenerator() : rng_(RandomSeed()) {}
UlidGenerator::UlidGenerator(uint64_t seed) : rng_(seed) {}

std::string UlidGenerator::Next(WallTime now) {
  auto ms_signed =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  uint64_t ms = ms_signed < 0 ? 0 : static_cast<uint64_t>(ms_signed) & ((1ULL << 48) - 1);
  std::lock_guard<std::mutex> lock(mu_);
  if (ms <= last_ms_) {
    // Same (or an earlier) millisecond: keep the last time and increment the random part, so ids
    // stay strictly increasing.
    ms = last_ms_;
    for (int i = 9; i >= 0; --i)
      if (++last_random_[i] != 0) break;
  } else {
    last_ms_ = ms;
    uint64_t a = rng_.Next(), b = rng_.Next();
    for (int i = 0; i < 8; ++i) last_random_[i] = static_cast<uint8_t>(a >> (8 * i));
    last_random_[8] = static_cast<uint8_t>(b);
    last_random_[9] = static_cast<uint8_t>(b >> 8);
  }
  // 128 bits = 48-bit time + 80-bit random, written as 26 base32 digits (the first holds 3 bits).
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  for (int i = 0; i < 10; ++i) bytes[6 + i] = last_random_[i];
  std::string out(26, '0');
  for (int c = 0; c < 26; ++c) {
    int bit = 128 - 5 * (26 - c);  // position of this digit's highest bit, may be negative
    int value = 0;
    for (int k = 0; k < 5; ++k) {
      int b = bit + k;
      if (b < 0) continue;
      value = (value << 1) | ((bytes[b / 8] >> (7 - b % 8)) & 1);
    }
    out[c] = kAlphabet[value];
  }
  return out;
}

bool IsUlid(std::string_view s) {
  if (s.size() != 26 || s[0] > '7') return false;
  for (char c : s)
    if (DecodeChar(c) < 0) return false;
  return true;
}

uint64_t UlidMillis(std::string_view ulid) {
  // The first 10 digits hold 50 bits, of which the top 2 are zero: the 48-bit time.
  uint64_t v = 0;
  for (int i = 0; i < 10 && i < static_cast<int>(ulid.size()); ++i)
    v = (v << 5) | static_cast<uint64_t>(std::max(0, DecodeChar(ulid[i])));
  return v;
}

}  // namespace strata
