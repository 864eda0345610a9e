// Link settings: bandwidth text, JSON apply/serialise and validation (see link_settings.h).
#include "link_settings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace strata::link {

Result<int64_t> ParseBandwidth(std::string_view text) {
  std::string t;
  for (char c : text) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto bad = [&] {
    return InvalidArgumentError("bandwidth '" + std::string(text) +
                                "': expected e.g. 20mbit, 512kbit, 1gbit, 9600bit or unlimited");
  };
  if (t == "unlimited" || t == "0") return int64_t{0};
  size_t end = 0;
  while (end < t.size() && (std::isdigit(static_cast<unsigned char>(t[end])) || t[end] == '.'))
    ++end;
  if (end == 0 || end > 24) return bad();
  std::string number = t.substr(0, end), unit = t.substr(end);
  char* stop = nullptr;
  double v = std::strtod(number.c_str(), &stop);
  if (stop != number.c_str() + number.size() || !std::isfinite(v)) return bad();
  double scale;
  if (unit.empty() || unit == "bit")
    scale = 1;
  else if (unit == "k" || unit == "kbit")
    scale = 1e3;
  else if (unit == "m" || unit == "mbit")
    scale = 1e6;
  else if (unit == "g" || unit == "gbit")
    scale = 1e9;
  else
    return bad();
  double bps = v * scale;
  if (bps < 0 || bps > static_cast<double>(kMaxBandwidthBps))
    return InvalidArgumentError("bandwidth '" + std::string(text) + "': must be at most 100gbit");
  if (bps > 0 && bps < 8)
    return InvalidArgumentError("bandwidth '" + std::string(text) +
                                "': must be at least 8bit (or 0 = unlimited)");
  return static_cast<int64_t>(std::llround(bps));
}

std::string FormatBandwidth(int64_t bps) {
  if (bps <= 0) return "unlimited";
  if (bps % 1'000'000'000 == 0) return std::to_string(bps / 1'000'000'000) + "gbit";
  if (bps % 1'000'000 == 0) return std::to_string(bps / 1'000'000) + "mbit";
  if (bps % 1'000 == 0) return std::to_string(bps / 1'000) + "kbit";
  return std::to_string(bps) + "bit";
}

std::string_view ToString(JitterDistribution d) {
  return d == JitterDistribution::kNormal ? "normal" : "uniform";
}
std::string_view ToString(PartitionMode m) {
  return m == PartitionMode::kReset ? "reset" : "blackhole";
}
Result<PartitionMode> ParsePartitionMode(std::string_view text) {
  if (text == "blackhole") return PartitionMode::kBlackhole;
  if (text == "reset") return PartitionMode::kReset;
  return InvalidArgumentError("partition mode '" + std::string(text) +
                              "': expected blackhole or reset");
}

namespace {

using Errors = std::vector<FieldError>;

void Number(const nlohmann::json& v, const std::string& field, double lo, double hi, double* out,
            Errors* errors) {
  if (!v.is_number()) {
    errors->push_back({field, "expected a number, got " + std::string(v.type_name())});
    return;
  }
  double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    errors->push_back({field,
                       "must be a finite number in [" + nlohmann::json(lo).dump() + ", " +
                           nlohmann::json(hi).dump() + "]",
                       true});
    return;
  }
  *out = x;
}

// Applies the per-direction keys present in `obj` to every direction in `dirs`.
void ApplyDirectionKeys(const nlohmann::json& obj, const std::string& prefix,
                        std::vector<DirectionSettings*> dirs, Errors* errors) {
  for (auto& [key, v] : obj.items()) {
    std::string field = prefix + key;
    double x = 0;
    size_t before = errors->size();
    if (key == "latency_ms" || key == "jitter_ms") {
      Number(v, field, 0, kMaxLatencyMs, &x, errors);
      if (errors->size() == before)
        for (auto* d : dirs) (key == "latency_ms" ? d->latency_ms : d->jitter_ms) = x;
    } else if (key == "loss") {
      Number(v, field, 0, 1, &x, errors);
      if (errors->size() == before)
        for (auto* d : dirs) d->loss = x;
    } else if (key == "slice_bytes") {
      if (!v.is_number_integer()) {
        errors->push_back(
            {field, "expected an integer, got " + std::string(v.type_name()), v.is_number()});
        continue;
      }
      const int64_t n = v.get<int64_t>();
      if (n < 0 || n > kMaxSliceBytes) {
        errors->push_back({field, "must be 0 (off) or in [1, 65536] bytes", true});
        continue;
      }
      for (auto* d : dirs) d->slice_bytes = n;
    } else if (key == "bandwidth_bps") {
      if (!v.is_number_integer() && !(v.is_number() && std::isfinite(v.get<double>()) &&
                                      v.get<double>() == std::floor(v.get<double>()))) {
        errors->push_back({field,
                           v.is_number() ? "must be a whole number of bits per second"
                                         : "expected an integer, got " + std::string(v.type_name()),
                           v.is_number()});
        continue;
      }
      double bps = v.get<double>();
      if (bps < 0 || bps > static_cast<double>(kMaxBandwidthBps) || (bps > 0 && bps < 8)) {
        errors->push_back({field, "must be 0 (no cap) or in [8, 1e11] bits per second", true});
        continue;
      }
      for (auto* d : dirs) d->bandwidth_bps = static_cast<int64_t>(bps);
    } else if (key == "bandwidth") {
      if (!v.is_string()) {
        errors->push_back(
            {field, "expected a string like \"20mbit\", got " + std::string(v.type_name())});
        continue;
      }
      auto bps = ParseBandwidth(v.get<std::string>());
      if (!bps.ok()) {
        errors->push_back({field, bps.status().message(), true});
        continue;
      }
      for (auto* d : dirs) d->bandwidth_bps = *bps;
    } else {
      errors->push_back({field,
                         "unknown key (known: latency_ms, jitter_ms, bandwidth_bps, "
                         "bandwidth, loss, slice_bytes)"});
    }
  }
}

}  // namespace

std::vector<FieldError> ApplySettingsJson(const nlohmann::json& doc, LinkSettings* settings,
                                          const std::vector<std::string>& extra_keys) {
  if (!doc.is_object())
    return {{"", "expected a JSON object, got " + std::string(doc.type_name())}};
  Errors errors;
  LinkSettings s = *settings;
  nlohmann::json both = nlohmann::json::object();
  for (auto& [key, v] : doc.items()) {
    if (key == "upstream" || key == "downstream") {
      if (!v.is_object())
        errors.push_back({key, "expected an object, got " + std::string(v.type_name())});
    } else if (key == "jitter_distribution") {
      if (v == "uniform")
        s.jitter_distribution = JitterDistribution::kUniform;
      else if (v == "normal")
        s.jitter_distribution = JitterDistribution::kNormal;
      else
        errors.push_back({key, "expected \"uniform\" or \"normal\"", v.is_string()});
    } else if (key == "partition_mode") {
      if (v == "blackhole")
        s.partition_mode = PartitionMode::kBlackhole;
      else if (v == "reset")
        s.partition_mode = PartitionMode::kReset;
      else
        errors.push_back({key, "expected \"blackhole\" or \"reset\"", v.is_string()});
    } else if (std::find(extra_keys.begin(), extra_keys.end(), key) == extra_keys.end()) {
      both[key] = v;
    }
  }
  // Top-level keys set both directions; "upstream"/"downstream" objects then override one.
  ApplyDirectionKeys(both, "", {&s.upstream, &s.downstream}, &errors);
  for (const std::string dir : {"upstream", "downstream"})
    if (doc.contains(dir) && doc[dir].is_object())
      ApplyDirectionKeys(doc[dir], dir + ".", {dir == "upstream" ? &s.upstream : &s.downstream},
                         &errors);
  if (errors.empty()) *settings = s;
  return errors;
}

nlohmann::json ToJson(const DirectionSettings& d) {
  return {{"latency_ms", d.latency_ms},
          {"jitter_ms", d.jitter_ms},
          {"bandwidth_bps", d.bandwidth_bps},
          {"bandwidth", FormatBandwidth(d.bandwidth_bps)},
          {"loss", d.loss},
          {"slice_bytes", d.slice_bytes}};
}

nlohmann::json ToJson(const LinkSettings& s) {
  return {{"upstream", ToJson(s.upstream)},
          {"downstream", ToJson(s.downstream)},
          {"jitter_distribution", ToString(s.jitter_distribution)},
          {"partition_mode", ToString(s.partition_mode)}};
}

Status Validate(const LinkSettings& s) {
  for (const auto& [name, d] : {std::pair{"upstream", s.upstream}, {"downstream", s.downstream}}) {
    std::string dir = name;
    if (!std::isfinite(d.latency_ms) || d.latency_ms < 0 || d.latency_ms > kMaxLatencyMs)
      return InvalidArgumentError(dir + ".latency_ms: must be in [0, 60000]");
    if (!std::isfinite(d.jitter_ms) || d.jitter_ms < 0 || d.jitter_ms > kMaxLatencyMs)
      return InvalidArgumentError(dir + ".jitter_ms: must be in [0, 60000]");
    if (!std::isfinite(d.loss) || d.loss < 0 || d.loss > 1)
      return InvalidArgumentError(dir + ".loss: must be in [0, 1]");
    if (d.bandwidth_bps < 0 || d.bandwidth_bps > kMaxBandwidthBps ||
        (d.bandwidth_bps > 0 && d.bandwidth_bps < 8))
      return InvalidArgumentError(dir + ".bandwidth_bps: must be 0 or in [8, 1e11]");
    if (d.slice_bytes < 0 || d.slice_bytes > kMaxSliceBytes)
      return InvalidArgumentError(dir + ".slice_bytes: must be 0 or in [1, 65536]");
  }
  return Status::Ok();
}

}  // namespace strata::link
