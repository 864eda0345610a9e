// Link emulation settings: what one emulated WAN link does to the bytes crossing it, per
// direction (latency, jitter, bandwidth cap, loss) plus the partition behaviour, and their text
// and JSON forms ("20mbit", {"latency_ms": 40, ...}) shared by `strata link` and the admin API.
//
// "upstream" is the direction client → upstream server (the bytes a client sends), "downstream"
// the direction upstream server → client. Latency is one-way: a round trip crosses both
// directions, so latency_ms = 20 adds ≥ 40 ms to every request/response round trip.
// Thread-safety: plain values; the functions are pure.
//
//   LinkSettings s;
//   STRATA_RETURN_IF_ERROR(ApplySettingsJson(nlohmann::json::parse(body), &s));
//   STRATA_ASSIGN_OR_RETURN(int64_t bps, ParseBandwidth("20mbit"));  // 20'000'000
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata::link {

enum class JitterDistribution { kUniform, kNormal };
// blackhole: existing connections stall (no byte passes), new connections are accepted by the
// proxy but held without reaching the upstream until heal. reset: existing connections are reset
// (RST to both ends), new connections are accepted and reset at once.
enum class PartitionMode { kBlackhole, kReset };

struct DirectionSettings {
  double latency_ms = 0;      // one-way delay added to every byte, >= 0
  double jitter_ms = 0;       // uniform: ±jitter_ms; normal: stddev; never reorders bytes
  int64_t bandwidth_bps = 0;  // bits per second; 0 = no cap
  double loss = 0;            // per-segment loss probability in [0, 1] (modelled as an RTO delay)
  int64_t slice_bytes = 0;    // > 0: forward in send() calls of at most this many bytes (1 =
                              // byte by byte, each its own segment); 0 = as read
  friend bool operator==(const DirectionSettings&, const DirectionSettings&) = default;
};

struct LinkSettings {
  DirectionSettings upstream;    // client → upstream server
  DirectionSettings downstream;  // upstream server → client
  JitterDistribution jitter_distribution = JitterDistribution::kUniform;
  PartitionMode partition_mode = PartitionMode::kBlackhole;
  friend bool operator==(const LinkSettings&, const LinkSettings&) = default;
};

// Limits accepted by validation.
inline constexpr double kMaxLatencyMs = 60'000;
inline constexpr int64_t kMaxSliceBytes = 65'536;
inline constexpr int64_t kMaxBandwidthBps = 100'000'000'000;  // 100 Gbit/s

// "20mbit", "512kbit", "1gbit", "9600bit", "1.5mbit", a bare number of bits per second, or
// "0"/"unlimited" (= 0, no cap). k/m/g are SI (×1000). InvalidArgument naming the text otherwise
// (including "bps"-style suffixes, which tc reads as bytes/s and people read as bits/s).
Result<int64_t> ParseBandwidth(std::string_view text);
// 20000000 → "20mbit", 0 → "unlimited".
std::string FormatBandwidth(int64_t bps);

std::string_view ToString(JitterDistribution d);
std::string_view ToString(PartitionMode m);
Result<PartitionMode> ParsePartitionMode(std::string_view text);

// One problem found in a settings document: the dotted field and why.
struct FieldError {
  std::string field;
  std::string reason;
  // true → 422 (value out of range); false → 400 (unknown key, wrong type).
  bool semantic = false;
};

// Applies a partial JSON settings document to `settings`: keys absent keep their value. Keys:
// latency_ms, jitter_ms, bandwidth_bps, bandwidth ("20mbit"), loss, slice_bytes (at the top level
// they set both directions; inside "upstream"/"downstream" objects only that one),
// jitter_distribution
// ("uniform"|"normal"), partition_mode ("blackhole"|"reset"). `extra_keys` are accepted at the
// top level and left to the caller. Returns every problem found; `settings` is changed only when
// there are none.
std::vector<FieldError> ApplySettingsJson(const nlohmann::json& doc, LinkSettings* settings,
                                          const std::vector<std::string>& extra_keys = {});

nlohmann::json ToJson(const DirectionSettings& d);
nlohmann::json ToJson(const LinkSettings& s);

// Checks ranges of already-typed settings (used by the CLI flags). InvalidArgument naming the
// field.
Status Validate(const LinkSettings& s);

}  // namespace strata::link
