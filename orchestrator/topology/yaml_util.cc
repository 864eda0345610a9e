// yaml-cpp helpers for the topology parser (see yaml_util.h).
#include "topology/yaml_util.h"

#include <set>

#include "strata/core/config.h"

namespace strata::topology {

int LineOf(const YAML::Node& n) {
  try {
    return n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
  } catch (...) {
    return 0;
  }
}

std::string JoinKey(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

Status YamlCtx::Error(int line, const std::string& path, const std::string& message) const {
  std::string where = source + ":" + std::to_string(line);
  if (!path.empty()) where += ": key '" + path + "'";
  return InvalidArgumentError(where + ": " + message);
}

Result<std::vector<YamlEntry>> YamlCtx::Entries(
    const YAML::Node& map, const std::string& path, int line,
    std::initializer_list<std::string_view> allowed) const {
  std::vector<YamlEntry> out;
  if (!map.IsDefined() || map.IsNull()) return out;
  if (!map.IsMap()) return Error(LineOf(map) ? LineOf(map) : line, path, "expected a mapping");
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    YamlEntry e{it->first.as<std::string>(""), "", LineOf(it->first), it->second};
    e.path = JoinKey(path, e.key);
    if (allowed.size() > 0) {
      bool ok = false;
      std::string known;
      for (std::string_view a : allowed) {
        ok |= a == e.key;
        known += (known.empty() ? "" : ", ") + std::string(a);
      }
      if (!ok) return Error(e, "unknown key (known keys: " + known + ")");
    }
    if (!seen.insert(e.key).second) return Error(e, "duplicate key");
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> YamlCtx::String(const YamlEntry& e) const {
  if (!e.value.IsScalar()) return Error(e, "expected a string");
  return e.value.Scalar();
}

Result<int> YamlCtx::Int(const YamlEntry& e, int lo, int hi) const {
  int v = 0;
  if (!e.value.IsScalar() || !YAML::convert<int>::decode(e.value, v))
    return Error(e, "expected an integer, got '" + e.value.as<std::string>("") + "'");
  if (v < lo || v > hi)
    return Error(e, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

Result<double> YamlCtx::Double(const YamlEntry& e, double lo, double hi) const {
  double v = 0;
  if (!e.value.IsScalar() || !YAML::convert<double>::decode(e.value, v) || v != v)
    return Error(e, "expected a number, got '" + e.value.as<std::string>("") + "'");
  if (v < lo || v > hi)
    return Error(e, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

Result<bool> YamlCtx::Bool(const YamlEntry& e) const {
  bool v = false;
  if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, v))
    return Error(e, "expected true or false, got '" + e.value.as<std::string>("") + "'");
  return v;
}

Result<std::chrono::milliseconds> YamlCtx::Duration(const YamlEntry& e) const {
  if (!e.value.IsScalar()) return Error(e, "expected a duration such as 250ms or 5s");
  auto d = ParseDuration(e.value.Scalar());
  if (!d.ok() || d->count() < 0)
    return Error(e, "expected a duration such as 250ms or 5s, got '" + e.value.Scalar() + "'");
  return *d;
}

Result<std::vector<std::string>> YamlCtx::Strings(const YamlEntry& e) const {
  std::vector<std::string> out;
  if (e.value.IsNull()) return out;
  if (!e.value.IsSequence()) return Error(e, "expected a list of strings");
  for (const auto& item : e.value) {
    if (!item.IsScalar()) return Error(LineOf(item), e.path, "list items must be strings");
    out.push_back(item.Scalar());
  }
  return out;
}

YAML::Node MergeYaml(const YAML::Node& base, const YAML::Node& over) {
  if (!over.IsDefined() || over.IsNull()) return YAML::Clone(base);
  if (!base.IsMap() || !over.IsMap()) return YAML::Clone(over);
  YAML::Node out = YAML::Clone(base);
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    out[key] = out[key].IsDefined() ? MergeYaml(out[key], it->second) : YAML::Clone(it->second);
  }
  return out;
}

}  // namespace strata::topology
