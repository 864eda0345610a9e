// AggregatorService durable state (cloud only; docs/services/federate.md "Durability"): the
// global model (GlobalModel::Encode, hex), the last closed round id, the completed-round count and
// the DP accountant's per-round ρ, as one JSON file <data_dir>/federate-<id>.state.json.
// Written to a temp file, fsynced, renamed over the old one and the directory fsynced, so a
// kill -9 leaves either the old or the new state. A corrupt or mismatched file makes Create fail
// (DataLoss) rather than silently restart the privacy accounting at zero.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "aggregator_service.h"

namespace strata::federate {

using nlohmann::json;
namespace fed = strata::federated;

namespace {

std::string ToHex(const std::vector<uint8_t>& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(kDigits[c >> 4]);
    s.push_back(kDigits[c & 15]);
  }
  return s;
}

bool FromHex(const std::string& s, std::vector<uint8_t>* out) {
  if (s.size() % 2) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return true;
}

Status Errno(const std::string& what, const std::string& path) {
  return InternalError(what + " " + path + ": " + std::strerror(errno));
}

// tmp + fsync + rename + fsync(dir).
Status WriteDurably(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open", tmp);
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Errno("write", tmp);
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("fsync", tmp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename", tmp);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("open", dir);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Errno("fsync", dir);
  return Status::Ok();
}

}  // namespace

std::string AggregatorService::StatePath() const {
  return (std::filesystem::path(opt_.data_dir) / ("federate-" + opt_.id + ".state.json")).string();
}

Status AggregatorService::SaveState() {
  if (opt_.role != "cloud" || opt_.data_dir.empty() || !model_) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(opt_.data_dir, ec);
  if (ec) return InternalError("create " + opt_.data_dir + ": " + ec.message());
  json j = {{"format", 1},
            {"id", opt_.id},
            {"last_round_id", round_id_},
            {"completed_rounds", completed_},
            {"model", ToHex(model_->Encode())},
            {"rho", acct_ ? acct_->rho_per_round() : std::vector<double>{}}};
  return WriteDurably(StatePath(), j.dump() + "\n");
}

void AggregatorService::SaveOrFail() {
  Status s = SaveState();
  if (s.ok()) return;
  // Without durable state a restart would forget the privacy budget spent: stop the run.
  spdlog::error("federate {}: cannot persist state: {}", opt_.id, s.message());
  state_ = "failed";
}

Status AggregatorService::LoadState() {
  const std::string path = StatePath();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Ok();
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in) return Errno("read", path);
  auto corrupt = [&](const std::string& why) {
    return DataLossError("federate state file " + path + " is corrupt (" + why +
                         "); refusing to start (it holds the DP budget spent) — fix or remove it");
  };
  json j = json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return corrupt("not JSON");
  if (j.value("format", 0) != 1) return corrupt("unknown format");
  if (!j.contains("last_round_id") || !j["last_round_id"].is_number_unsigned() ||
      !j.contains("completed_rounds") || !j["completed_rounds"].is_number_unsigned() ||
      !j.contains("model") || !j["model"].is_string() || !j.contains("rho") || !j["rho"].is_array())
    return corrupt("missing field");
  std::vector<uint8_t> bytes;
  if (!FromHex(j["model"].get<std::string>(), &bytes)) return corrupt("model is not hex");
  Result<fed::GlobalModel> m = fed::GlobalModel::Decode(bytes);
  if (!m.ok()) return corrupt("model: " + m.status().message());
  if (m->k != opt_.k || m->d != opt_.d)
    return corrupt("model is " + std::to_string(m->k) + "x" + std::to_string(m->d) +
                   ", config says " + std::to_string(opt_.k) + "x" + std::to_string(opt_.d));
  std::vector<double> rho;
  for (const json& r : j["rho"]) {
    if (!r.is_number() || !(r.get<double>() >= 0)) return corrupt("bad rho");
    rho.push_back(r.get<double>());
  }
  if (!rho.empty() && !acct_) return corrupt("it records DP spending but dp is off in the config");
  STRATA_ASSIGN_OR_RETURN(fed::RoundAggregator agg, fed::RoundAggregator::Create(agg_cfg_, *m, clock_));
  const uint64_t last = j["last_round_id"].get<uint64_t>();
  agg.ResumeAfter(last);
  agg_.emplace(std::move(agg));
  model_ = *m;
  round_id_ = last;
  completed_ = j["completed_rounds"].get<uint64_t>();
  if (acct_) acct_->Restore(rho);
  spdlog::info("federate {}: resumed from {}: model v{}, last round {}, {} rounds done, epsilon {:.4f}",
               opt_.id, path, model_->version, last, completed_, acct_ ? acct_->TotalEpsilon() : 0.0);
  return Status::Ok();
}

}  // namespace strata::federate
