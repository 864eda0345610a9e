// ToYaml: JSON values → block YAML through yaml-cpp's emitter (see k8s.h).
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <regex>

#include "topology/k8s.h"

namespace strata::topology {

namespace {

// Strings a YAML reader would take for a number, a bool or null must be quoted, or Kubernetes
// rejects e.g. `args: [--port, 8080]` (a number where it wants a string).
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::regex kSpecial(
      "(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
      "null|Null|NULL|~|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))");
  if (std::regex_match(s, kSpecial)) return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  if (end && *end == '\0') return true;
  return s.front() == ' ' || s.back() == ' ' || s.find_first_of(":#{}[],&*!|>'\"%@`") == 0;
}

void Emit(YAML::Emitter& e, const nlohmann::ordered_json& v) {
  if (v.is_object()) {
    if (v.empty()) {
      e << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    e << YAML::BeginMap;
    for (auto it = v.begin(); it != v.end(); ++it) {
      e << YAML::Key << it.key() << YAML::Value;
      Emit(e, it.value());
    }
    e << YAML::EndMap;
  } else if (v.is_array()) {
    if (v.empty()) {
      e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    e << YAML::BeginSeq;
    for (const auto& x : v) Emit(e, x);
    e << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.find('\n') != std::string::npos) {
      e << YAML::Literal << s;
    } else if (NeedsQuotes(s)) {
      e << YAML::DoubleQuoted << s;
    } else {
      e << s;
    }
  } else if (v.is_boolean()) {
    e << v.get<bool>();
  } else if (v.is_number_unsigned()) {
    e << v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    e << v.get<int64_t>();
  } else if (v.is_number_float()) {
    e << v.get<double>();
  } else {
    e << YAML::Null;
  }
}

}  // namespace

std::string ToYaml(const nlohmann::ordered_json& value) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetSeqFormat(YAML::Block);
  Emit(e, value);
  return std::string(e.c_str()) + "\n";
}

}  // namespace strata::topology
