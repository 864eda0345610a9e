// ConfigNode: typed access to a YAML document, with errors that name the file, the key and the line.
//
// Configs are typed structs with inline defaults; their parsers live beside the service and read
// them field by field. A missing optional key leaves the default; a present key of the wrong type,
// an out-of-range value or an unknown key (typo) is an InvalidArgument error such as
//   configs/hello.yaml:7: key 'server.port': expected an integer, got 'abc'
// Thread-safety: immutable after Parse/LoadFile; safe to read from many threads.
//
//   STRATA_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::LoadFile(path));
//   STRATA_RETURN_IF_ERROR(root.CheckKeys({"port", "workers"}));
//   STRATA_RETURN_IF_ERROR(root.GetInRange("port", &cfg.port, 0, 65535));
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata {

class ConfigNode {
 public:
  // Parses YAML text. `source` names it in error messages (usually the file path).
  static Result<ConfigNode> Parse(std::string_view text, std::string source = "<config>");
  // NotFound when the file is missing or unreadable; InvalidArgument (with line) when malformed.
  static Result<ConfigNode> LoadFile(const std::string& path);

  bool IsMap() const;
  bool IsSequence() const;
  bool IsNull() const;
  bool Has(std::string_view key) const;
  // Dotted path from the document root, e.g. "server.tls"; "" for the root.
  const std::string& path() const;
  // 1-based line of this node in its source, 0 if unknown.
  int line() const;
  const std::string& source() const;

  // Each Get leaves *out unchanged when `key` is absent; wrong type → InvalidArgument.
  Status Get(std::string_view key, std::string* out) const;
  Status Get(std::string_view key, bool* out) const;
  Status Get(std::string_view key, int* out) const;
  Status Get(std::string_view key, int64_t* out) const;
  Status Get(std::string_view key, double* out) const;  // rejects NaN and infinities
  Status Get(std::string_view key, std::vector<std::string>* out) const;
  Status Get(std::string_view key, std::vector<double>* out) const;
  // Durations accept "250ms", "5s", "2m", "1h", "3d" or a bare number of seconds.
  Status Get(std::string_view key, std::chrono::milliseconds* out) const;
  Status GetInRange(std::string_view key, int* out, int lo, int hi) const;
  Status GetInRange(std::string_view key, double* out, double lo, double hi) const;
  // Like Get, but a missing key is an InvalidArgument "missing required key".
  template <typename T>
  Status Require(std::string_view key, T* out) const {
    if (!Has(key)) return MissingKey(key);
    return Get(key, out);
  }
  // Value of `key` must be one of `allowed`.
  Status GetEnum(std::string_view key, std::string* out,
                 std::initializer_list<std::string_view> allowed) const;

  // A child mapping or sequence. NotFound-free: a missing key yields a null node (IsNull()).
  Result<ConfigNode> Child(std::string_view key) const;
  // Keys of a mapping in document order; empty for other nodes.
  std::vector<std::string> Keys() const;
  // Elements of a sequence; empty for other nodes.
  std::vector<ConfigNode> Items() const;
  // InvalidArgument naming the first key not in `allowed` (catches typos such as 'prot').
  Status CheckKeys(std::initializer_list<std::string_view> allowed) const;
  // "file:line: key 'a.b'" for messages about `key` under this node.
  std::string Where(std::string_view key) const;
  // The node's scalar as text ("" for maps/sequences).
  std::string Scalar() const;

 private:
  struct Impl;
  explicit ConfigNode(std::shared_ptr<const Impl> impl);
  Status MissingKey(std::string_view key) const;
  std::shared_ptr<const Impl> impl_;
};

// Parses "250ms", "5s", "2m", "1h", "3d" or a bare number of seconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace strata
