// Launcher::WriteState: <run_dir>/state.json, rewritten atomically (tmp + rename) after every
// change so `strata status` and `strata down` always read a whole document.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "strata/core/clock.h"
#include "topology/launcher.h"

namespace strata::topology {

std::string StateFilePath(const std::string& run_dir) { return run_dir + "/state.json"; }

void Launcher::WriteState(const std::string& phase) {
  namespace fs = std::filesystem;
  std::error_code ec;
  nlohmann::json j = {{"topology", topo_.name},
                      {"file", fs::absolute(opt_.topology_file, ec).string()},
                      {"run_dir", fs::absolute(opt_.run_dir, ec).string()},
                      {"pid", static_cast<int>(getpid())},
                      {"phase", phase},
                      {"updated_at", FormatRfc3339(Clock::Real()->Now())},
                      {"auth", auth_ != nullptr},
                      {"tls", tls_ != nullptr},
                      {"units", nlohmann::json::array()}};
  if (auth_) {
    auto it = auth_->token_files.find("operator");
    if (it != auth_->token_files.end()) j["operator_token_file"] = it->second;
  }
  if (tls_) j["ca_file"] = tls_->ca_file;
  for (const auto& up : units_) {
    const Unit& u = *up;
    nlohmann::json row = {{"name", u.name},
                          {"kind", u.kind},
                          {"type", u.type},
                          {"node", u.node},
                          {"tier", u.tier},
                          {"state", u.state},
                          {"restarts", u.restarts},
                          {"port", u.port},
                          {"pid", u.proc ? u.proc->pid() : 0},
                          {"log", Path("logs", u.name + ".log")}};
    if (u.port > 0) {
      const char* scheme = u.kind == "broker" ? (tls_ ? "mqtts://" : "tcp://")
                           : u.http           ? (tls_ ? "https://" : "http://")
                                              : "tcp://";
      row["url"] = scheme + std::string("127.0.0.1:") + std::to_string(u.port);
    }
    if (u.kind == "service") row["config"] = Path("config", u.name + ".yaml");
    if (u.kind == "link") {
      row["from"] = u.link->from;
      row["to"] = u.link->to;
      row["target"] = u.target;
      row["admin_port"] = u.admin_port;
      if (u.admin_port > 0) row["admin_url"] = "http://127.0.0.1:" + std::to_string(u.admin_port);
    }
    if (u.last_exit) row["last_exit"] = *u.last_exit;
    if (!u.last_line.empty()) row["last_line"] = u.last_line;
    j["units"].push_back(row);
  }
  const std::string path = StateFilePath(opt_.run_dir);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) return;
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace strata::topology
