// Parsing and queries of the Prometheus text format (see strata/metrics/prom_text.h).
#include "strata/metrics/prom_text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace strata::metrics {
namespace {

bool Matches(const PromText::Labels& have, const PromText::Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

// Parses `{a="x",b="y"}` starting at text[i] == '{'; returns false on malformed input.
bool ParseLabels(std::string_view text, size_t* i, PromText::Labels* out) {
  ++*i;
  while (*i < text.size() && text[*i] != '}') {
    size_t eq = text.find('=', *i);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') return false;
    std::string key(text.substr(*i, eq - *i));
    std::string value;
    size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] == '\\' && j + 1 < text.size()) ++j;
      value.push_back(text[j]);
    }
    if (j >= text.size()) return false;
    (*out)[key] = value;
    *i = j + 1;
    if (*i < text.size() && text[*i] == ',') ++*i;
  }
  if (*i >= text.size()) return false;
  ++*i;
  return true;
}

}  // namespace

PromText PromText::Parse(std::string_view text) {
  PromText out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = line.find_first_of("{ ");
    if (i == std::string_view::npos) continue;
    s.name = std::string(line.substr(0, i));
    if (line[i] == '{' && !ParseLabels(line, &i, &s.labels)) continue;
    while (i < line.size() && line[i] == ' ') ++i;
    std::string value(line.substr(i, line.find(' ', i) - i));
    char* stop = nullptr;
    s.value = std::strtod(value.c_str(), &stop);
    if (value.empty() || *stop != '\0') continue;
    out.samples_.push_back(std::move(s));
  }
  return out;
}

double PromText::Sum(std::string_view name, const Labels& match) const {
  double total = 0;
  for (const Sample& s : samples_)
    if (s.name == name && Matches(s.labels, match)) total += s.value;
  return total;
}

double PromText::Quantile(std::string_view name, const Labels& match, double q) const {
  std::map<double, double> buckets;  // upper bound → cumulative count (summed over series)
  const std::string bucket_name = std::string(name) + "_bucket";
  for (const Sample& s : samples_) {
    if (s.name != bucket_name || !Matches(s.labels, match)) continue;
    auto le = s.labels.find("le");
    if (le == s.labels.end()) continue;
    double bound = le->second == "+Inf" ? std::numeric_limits<double>::infinity()
                                        : std::strtod(le->second.c_str(), nullptr);
    buckets[bound] += s.value;
  }
  if (buckets.empty()) return 0;
  double total = buckets.rbegin()->second;
  if (total <= 0) return 0;
  double rank = q * total, lower = 0, below = 0;
  for (const auto& [bound, cum] : buckets) {
    if (cum >= rank) {
      if (std::isinf(bound)) return lower;  // in the overflow bucket: report its lower edge
      double in_bucket = cum - below;
      return in_bucket <= 0 ? bound : lower + (bound - lower) * (rank - below) / in_bucket;
    }
    lower = bound;
    below = cum;
  }
  return lower;
}

}  // namespace strata::metrics
