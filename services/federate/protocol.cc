// Round announcement JSON, node tokens, secure vector layout and the int8 model format.
#include "protocol.h"

#include <cmath>

#include "strata/federated/compress.h"

namespace strata::federate {

using nlohmann::json;
namespace fed = strata::federated;

const char* RoundKindName(RoundKind k) { return k == RoundKind::kKFed ? "kfed" : "lloyd"; }

const char* SecStageName(SecStage s) {
  switch (s) {
    case SecStage::kAdvertise: return "advertise";
    case SecStage::kShareKeys: return "share_keys";
    case SecStage::kMaskedInput: return "masked_input";
    case SecStage::kUnmask: return "unmask";
    case SecStage::kNone: break;
  }
  return "none";
}

json RoundView::ToJson() const {
  return {{"round", round_id},           {"kind", RoundKindName(kind)},
          {"state", state},              {"model_version", model_version},
          {"deadline_in_ms", deadline_in_ms}, {"attempt", attempt},
          {"k", k},                      {"d", d},
          {"kfed_local_k", kfed_local_k}, {"clip_norm", clip_norm},
          {"secure", secure},            {"stage", SecStageName(stage)},
          {"threshold", threshold},      {"nodes", nodes},
          {"completed_rounds", completed_rounds}, {"update_encoding", update_encoding}};
}

Result<RoundView> RoundView::FromJson(const json& j) {
  RoundView r;
  try {
    r.round_id = j.at("round").get<uint64_t>();
    r.kind = j.at("kind").get<std::string>() == "kfed" ? RoundKind::kKFed : RoundKind::kLloyd;
    r.state = j.at("state").get<std::string>();
    r.model_version = j.at("model_version").get<uint64_t>();
    r.deadline_in_ms = j.at("deadline_in_ms").get<int64_t>();
    r.attempt = j.at("attempt").get<int>();
    r.k = j.at("k").get<int>();
    r.d = j.at("d").get<int>();
    r.kfed_local_k = j.at("kfed_local_k").get<int>();
    r.clip_norm = j.at("clip_norm").get<double>();
    r.secure = j.at("secure").get<bool>();
    const std::string st = j.at("stage").get<std::string>();
    for (SecStage s : {SecStage::kNone, SecStage::kAdvertise, SecStage::kShareKeys,
                       SecStage::kMaskedInput, SecStage::kUnmask})
      if (st == SecStageName(s)) r.stage = s;
    r.threshold = j.at("threshold").get<int>();
    r.nodes = j.at("nodes").get<std::vector<std::string>>();
    r.completed_rounds = j.at("completed_rounds").get<uint64_t>();
    r.update_encoding = j.value("update_encoding", std::string("f64"));
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("round announcement: ") + e.what());
  }
  return r;  // an unknown update_encoding is the edge's error when it has to send (forward-compatible)
}

std::vector<double> SecureVector(const fed::SufficientStats& s, const std::vector<double>& support) {
  std::vector<double> v = s.Flatten();
  v.insert(v.end(), support.begin(), support.end());
  return v;
}

Result<std::pair<fed::SufficientStats, std::vector<double>>> SplitSecureVector(
    const std::vector<double>& v, int k, int d) {
  if (v.size() != SecureVectorLength(k, d))
    return InvalidArgumentError("secure vector has " + std::to_string(v.size()) + " values, expected " +
                                std::to_string(SecureVectorLength(k, d)));
  const size_t flat = static_cast<size_t>(k) * (d + 1);
  STRATA_ASSIGN_OR_RETURN(
      fed::SufficientStats s,
      fed::SufficientStats::Unflatten(std::span<const double>(v).first(flat), k, d, false));
  std::vector<double> support(v.begin() + static_cast<std::ptrdiff_t>(flat), v.end());
  for (double& x : support) x = std::round(x);
  return std::make_pair(std::move(s), std::move(support));
}

std::vector<double> NodeSupport(const fed::SufficientStats& s) {
  std::vector<double> out(s.counts.size(), 0.0);
  for (size_t j = 0; j < s.counts.size(); ++j) out[j] = s.counts[j] > 0 ? 1.0 : 0.0;
  return out;
}

Result<fed::AuthKey> ParseToken(const std::string& hex) {
  fed::AuthKey key{};
  if (hex.size() != 64) return InvalidArgumentError("node token must be 64 hex digits");
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    for (int h = 0; h < 2; ++h) {
      char c = hex[2 * i + h];
      unsigned x = c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : 16;
      if (x == 16) return InvalidArgumentError("node token must be 64 hex digits");
      v = v * 16 + x;
    }
    key[i] = static_cast<uint8_t>(v);
  }
  return key;
}

std::string TokenHex(const fed::AuthKey& key) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : key) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

bool TokenEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

http::Response ModelResponse(const fed::GlobalModel& m, bool int8) {
  std::vector<uint8_t> bytes;
  if (int8) {
    std::vector<double> v = m.centroids;
    v.insert(v.end(), m.weights.begin(), m.weights.end());
    auto c = fed::Compress(v, fed::Codec::kInt8);
    if (c.ok()) bytes = c->Encode();
  } else {
    bytes = m.Encode();
  }
  http::Response r = http::Response::Bytes(std::string(bytes.begin(), bytes.end()),
                                           "application/octet-stream");
  r.headers.emplace_back("X-Strata-Model-Version", std::to_string(m.version));
  r.headers.emplace_back("X-Strata-Model-K", std::to_string(m.k));
  r.headers.emplace_back("X-Strata-Model-D", std::to_string(m.d));
  return r;
}

Result<fed::GlobalModel> ModelFromResponse(const std::string& body, bool int8, uint64_t version,
                                           int k, int d) {
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (!int8) return fed::GlobalModel::Decode(bytes);
  STRATA_ASSIGN_OR_RETURN(fed::CompressedVector c, fed::CompressedVector::Decode(bytes));
  std::vector<double> v = fed::Decompress(c);
  if (k <= 0 || d <= 0 || v.size() != static_cast<size_t>(k) * (d + 1))
    return InvalidArgumentError("int8 model: size does not match k and d");
  fed::GlobalModel m;
  m.version = version;
  m.k = k;
  m.d = d;
  m.centroids.assign(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k) * d);
  m.weights.assign(v.begin() + static_cast<std::ptrdiff_t>(k) * d, v.end());
  STRATA_RETURN_IF_ERROR(m.Validate());
  return m;
}

std::string SupportHeaderValue(const std::vector<double>& support) {
  std::string s;
  for (size_t i = 0; i < support.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(static_cast<int64_t>(support[i]));
  }
  return s;
}

Result<std::vector<double>> ParseSupportHeader(const std::string& v, int k) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos <= v.size() && static_cast<int>(out.size()) <= k) {
    size_t comma = v.find(',', pos);
    std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    long long x = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || x < 0)
      return InvalidArgumentError(std::string(kSupportHeader) + ": expected k non-negative integers");
    out.push_back(static_cast<double>(x));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (static_cast<int>(out.size()) != k)
    return InvalidArgumentError(std::string(kSupportHeader) + ": expected " + std::to_string(k) +
                                " values");
  return out;
}

}  // namespace strata::federate
