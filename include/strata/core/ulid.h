// ULIDs (https://github.com/ulid/spec): 26-character, lexicographically sortable ids — a 48-bit
// Unix time in milliseconds followed by 80 random bits, in Crockford base32. Ids made by one
// generator are strictly increasing even within one millisecond (the random part is incremented),
// so "newest first" is "id descending" and an id works as a pagination cursor.
// Thread-safety: UlidGenerator is thread-safe.
//
//   UlidGenerator ids;                 // seeded from the OS entropy source
//   std::string id = ids.Next(clock.Now());
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "strata/core/clock.h"
#include "strata/core/rng.h"

namespace strata {

class UlidGenerator {
 public:
  UlidGenerator();                        // random seed from std::random_device
  explicit UlidGenerator(uint64_t seed);  // reproducible (tests)
  std::string Next(WallTime now);

 private:
  std::mutex mu_;
  Rng rng_;
  uint64_t last_ms_ = 0;
  std::array<uint8_t, 10> last_random_{};
};

// True for 26 Crockford base32 characters (upper case, no I L O U) whose first is 0..7.
bool IsUlid(std::string_view s);
// The millisecond timestamp of a valid ULID.
uint64_t UlidMillis(std::string_view ulid);

}  // namespace strata
