// Small yaml-cpp helpers for the topology parser: entries of a mapping with their key lines,
// unknown/duplicate key detection, typed scalars, and errors in the project's
// "file:line: key 'a.b': ..." form. Internal to strata_topology.
// Thread-safety: stateless functions.
//
//   YamlCtx c{"topo.yaml"};
//   STRATA_ASSIGN_OR_RETURN(auto entries, c.Entries(node, "nodes.fog-1", {"tier", "labels"}));
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata::topology {

struct YamlEntry {
  std::string key;
  std::string path;  // dotted path of the value
  int line = 0;      // 1-based line of the key
  YAML::Node value;
};

int LineOf(const YAML::Node& n);
std::string JoinKey(const std::string& base, std::string_view key);

struct YamlCtx {
  std::string source;

  Status Error(int line, const std::string& path, const std::string& message) const;
  Status Error(const YamlEntry& e, const std::string& message) const {
    return Error(e.line, e.path, message);
  }
  // Entries of a mapping in document order. `allowed` empty = any key. Null → no entries;
  // another node kind, a duplicate key or a key outside `allowed` → InvalidArgument.
  Result<std::vector<YamlEntry>> Entries(const YAML::Node& map, const std::string& path, int line,
                                         std::initializer_list<std::string_view> allowed) const;
  Result<std::string> String(const YamlEntry& e) const;
  Result<int> Int(const YamlEntry& e, int lo, int hi) const;
  Result<double> Double(const YamlEntry& e, double lo, double hi) const;
  Result<bool> Bool(const YamlEntry& e) const;
  Result<std::chrono::milliseconds> Duration(const YamlEntry& e) const;
  Result<std::vector<std::string>> Strings(const YamlEntry& e) const;
};

// Recursively overlays `over` onto `base` (maps merge key by key; anything else replaces).
YAML::Node MergeYaml(const YAML::Node& base, const YAML::Node& over);

}  // namespace strata::topology
