#include "strata/core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace strata {

struct ConfigNode::Impl {
  YAML::Node node;
  std::string source;
  std::string path;
};

namespace {

std::string JoinPath(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

int LineOf(const YAML::Node& n) {
  try {
    return n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
  } catch (...) {
    return 0;
  }
}

std::string ScalarText(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  return "null";
}

// Every mapping key must be a plain scalar (a YAML complex key such as `? [a, b]: 1` has no name to
// report and used to escape as a yaml-cpp exception — found by tests/fuzz), nesting is bounded,
// and alias expansion is bounded (a "billion laughs" document is refused, not walked).
Status CheckShape(const YAML::Node& node, const std::string& source, int depth, int* budget) {
  if (--*budget < 0)
    return InvalidArgumentError(source + ": more than 100000 nodes (aliases expanded)");
  if (depth > 64)
    return InvalidArgumentError(source + ":" + std::to_string(LineOf(node)) +
                                ": nested deeper than 64 levels");
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar())
        return InvalidArgumentError(source + ":" + std::to_string(LineOf(kv.first)) +
                                    ": mapping keys must be plain names, not lists or mappings");
      STRATA_RETURN_IF_ERROR(CheckShape(kv.second, source, depth + 1, budget));
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) STRATA_RETURN_IF_ERROR(CheckShape(item, source, depth + 1, budget));
  }
  return Status::Ok();
}

}  // namespace

ConfigNode::ConfigNode(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<ConfigNode> ConfigNode::Parse(std::string_view text, std::string source) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap())
      return InvalidArgumentError(source + ":1: the document must be a mapping of keys");
    int budget = 100000;
    STRATA_RETURN_IF_ERROR(CheckShape(root, source, 0, &budget));
    return ConfigNode(std::make_shared<Impl>(Impl{root, std::move(source), ""}));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(source + ":" + std::to_string(e.mark.line + 1) +
                                ": malformed YAML: " + e.msg);
  }
}

Result<ConfigNode> ConfigNode::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

bool ConfigNode::IsMap() const { return impl_->node.IsMap(); }
bool ConfigNode::IsSequence() const { return impl_->node.IsSequence(); }
bool ConfigNode::IsNull() const { return !impl_->node.IsDefined() || impl_->node.IsNull(); }
const std::string& ConfigNode::path() const { return impl_->path; }
const std::string& ConfigNode::source() const { return impl_->source; }
int ConfigNode::line() const { return LineOf(impl_->node); }

bool ConfigNode::Has(std::string_view key) const {
  if (!impl_->node.IsMap()) return false;
  YAML::Node child = impl_->node[std::string(key)];
  return child.IsDefined() && !child.IsNull();
}

std::string ConfigNode::Where(std::string_view key) const {
  int line = this->line();
  if (impl_->node.IsMap()) {
    YAML::Node child = impl_->node[std::string(key)];
    if (child.IsDefined()) line = LineOf(child);
  }
  return impl_->source + ":" + std::to_string(line) + ": key '" + JoinPath(impl_->path, key) + "'";
}

Status ConfigNode::MissingKey(std::string_view key) const {
  return InvalidArgumentError(Where(key) + ": missing required key");
}

std::string ConfigNode::Scalar() const {
  return impl_->node.IsScalar() ? impl_->node.Scalar() : "";
}

namespace {

template <typename T>
Status ConvertScalar(const ConfigNode& self, const YAML::Node& child, std::string_view key,
                     const char* expected, T* out) {
  if (!child.IsScalar())
    return InvalidArgumentError(self.Where(key) + ": expected " + expected + ", got " +
                                ScalarText(child));
  try {
    *out = child.as<T>();
    return Status::Ok();
  } catch (const YAML::Exception&) {
    return InvalidArgumentError(self.Where(key) + ": expected " + expected + ", got '" +
                                child.Scalar() + "'");
  }
}

}  // namespace

#define STRATA_CONFIG_CHILD_OR_RETURN(child)                       \
  if (!Has(key)) return Status::Ok();                             \
  YAML::Node child = impl_->node[std::string(key)]

Status ConfigNode::Get(std::string_view key, std::string* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  return ConvertScalar(*this, child, key, "a string", out);
}

Status ConfigNode::Get(std::string_view key, bool* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  return ConvertScalar(*this, child, key, "true or false", out);
}

Status ConfigNode::Get(std::string_view key, int* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  return ConvertScalar(*this, child, key, "an integer", out);
}

Status ConfigNode::Get(std::string_view key, int64_t* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  return ConvertScalar(*this, child, key, "an integer", out);
}

Status ConfigNode::Get(std::string_view key, double* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  double v = 0;
  STRATA_RETURN_IF_ERROR(ConvertScalar(*this, child, key, "a number", &v));
  if (!std::isfinite(v))
    return InvalidArgumentError(Where(key) + ": expected a finite number, got '" +
                                child.Scalar() + "'");
  *out = v;
  return Status::Ok();
}

Status ConfigNode::Get(std::string_view key, std::vector<std::string>* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  if (!child.IsSequence())
    return InvalidArgumentError(Where(key) + ": expected a list of strings, got " +
                                ScalarText(child));
  std::vector<std::string> v;
  for (const auto& item : child) {
    if (!item.IsScalar())
      return InvalidArgumentError(Where(key) + ": list items must be strings, got " +
                                  ScalarText(item));
    v.push_back(item.Scalar());
  }
  *out = std::move(v);
  return Status::Ok();
}

Status ConfigNode::Get(std::string_view key, std::vector<double>* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  if (!child.IsSequence())
    return InvalidArgumentError(Where(key) + ": expected a list of numbers, got " +
                                ScalarText(child));
  std::vector<double> v;
  for (const auto& item : child) {
    double d = 0;
    try {
      d = item.as<double>();
    } catch (const YAML::Exception&) {
      return InvalidArgumentError(Where(key) + ": list items must be numbers, got '" +
                                  ScalarText(item) + "'");
    }
    if (!std::isfinite(d))
      return InvalidArgumentError(Where(key) + ": list items must be finite numbers");
    v.push_back(d);
  }
  *out = std::move(v);
  return Status::Ok();
}

Status ConfigNode::Get(std::string_view key, std::chrono::milliseconds* out) const {
  STRATA_CONFIG_CHILD_OR_RETURN(child);
  if (!child.IsScalar())
    return InvalidArgumentError(Where(key) + ": expected a duration, got " + ScalarText(child));
  auto d = ParseDuration(child.Scalar());
  if (!d.ok()) return InvalidArgumentError(Where(key) + ": " + d.status().message());
  *out = *d;
  return Status::Ok();
}

#undef STRATA_CONFIG_CHILD_OR_RETURN

Status ConfigNode::GetInRange(std::string_view key, int* out, int lo, int hi) const {
  int v = *out;
  STRATA_RETURN_IF_ERROR(Get(key, &v));
  if (v < lo || v > hi)
    return InvalidArgumentError(Where(key) + ": " + std::to_string(v) + " is out of range [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  *out = v;
  return Status::Ok();
}

Status ConfigNode::GetInRange(std::string_view key, double* out, double lo, double hi) const {
  double v = *out;
  STRATA_RETURN_IF_ERROR(Get(key, &v));
  if (v < lo || v > hi) {
    std::ostringstream os;
    os << Where(key) << ": " << v << " is out of range [" << lo << ", " << hi << "]";
    return InvalidArgumentError(os.str());
  }
  *out = v;
  return Status::Ok();
}

Status ConfigNode::GetEnum(std::string_view key, std::string* out,
                           std::initializer_list<std::string_view> allowed) const {
  std::string v = *out;
  STRATA_RETURN_IF_ERROR(Get(key, &v));
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return InvalidArgumentError(Where(key) + ": '" + v + "' is not one of: " + list);
  }
  *out = v;
  return Status::Ok();
}

Result<ConfigNode> ConfigNode::Child(std::string_view key) const {
  // A missing key yields a yaml-cpp "zombie" node, which must not be assigned to or queried.
  if (!Has(key)) {
    return ConfigNode(std::make_shared<Impl>(
        Impl{YAML::Node(YAML::NodeType::Null), impl_->source, JoinPath(impl_->path, key)}));
  }
  YAML::Node child = impl_->node[std::string(key)];  // copy-construct: never assign zombies
  if (child.IsScalar())
    return InvalidArgumentError(Where(key) + ": expected a mapping or list, got '" +
                                child.Scalar() + "'");
  return ConfigNode(
      std::make_shared<Impl>(Impl{child, impl_->source, JoinPath(impl_->path, key)}));
}

std::vector<std::string> ConfigNode::Keys() const {
  std::vector<std::string> keys;
  if (!impl_->node.IsMap()) return keys;
  for (const auto& kv : impl_->node) keys.push_back(kv.first.as<std::string>());
  return keys;
}

std::vector<ConfigNode> ConfigNode::Items() const {
  std::vector<ConfigNode> items;
  if (!impl_->node.IsSequence()) return items;
  size_t i = 0;
  for (const auto& item : impl_->node) {
    items.push_back(ConfigNode(std::make_shared<Impl>(
        Impl{item, impl_->source, impl_->path + "[" + std::to_string(i++) + "]"})));
  }
  return items;
}

Status ConfigNode::CheckKeys(std::initializer_list<std::string_view> allowed) const {
  if (!impl_->node.IsMap()) return Status::Ok();
  for (const auto& kv : impl_->node) {
    std::string key = kv.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return InvalidArgumentError(impl_->source + ":" + std::to_string(LineOf(kv.first)) +
                                  ": unknown key '" + JoinPath(impl_->path, key) +
                                  "' (known keys: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string s(text);
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(s, &pos);
  } catch (...) {
    return InvalidArgumentError("expected a duration like '250ms', '5s', '2m', got '" + s + "'");
  }
  std::string unit = s.substr(pos);
  double ms_per_unit;
  if (unit.empty() || unit == "s") ms_per_unit = 1000;
  else if (unit == "ms") ms_per_unit = 1;
  else if (unit == "m") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else if (unit == "d") ms_per_unit = 86'400'000;
  else return InvalidArgumentError("unknown duration unit '" + unit + "' in '" + s + "'");
  if (!std::isfinite(value) || value < 0)
    return InvalidArgumentError("duration must be a non-negative number, got '" + s + "'");
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(value * ms_per_unit)));
}

}  // namespace strata
