// `strata status` / `strata down` helpers (see run_control.h).
#include "topology/run_control.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "strata/transport/http_client.h"
#include "topology/launcher.h"

namespace strata::topology {

using std::chrono::milliseconds;

Result<nlohmann::json> ReadState(const std::string& run_dir) {
  const std::string path = StateFilePath(run_dir);
  std::ifstream in(path);
  if (!in) return NotFoundError("no topology run in '" + run_dir + "' (" + path + " is missing)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(path + ": " + e.what());
  }
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close_paren = line.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= line.size() ||
         line[close_paren + 2] != 'Z';
}

namespace {
std::string Cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

bool LauncherAlive(const nlohmann::json& state) {
  const pid_t pid = state.value("pid", 0);
  if (!ProcessAlive(pid)) return false;
  const std::string args = Cmdline(pid);
  return args.find(std::string("\0up\0", 4)) != std::string::npos;
}

double SumMetric(const std::string& text, const std::string& metric,
                 const std::string& label_filter) {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(metric, 0) != 0) continue;
    char next = line.size() > metric.size() ? line[metric.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    size_t sp = line.rfind(' ');
    if (!label_filter.empty() && line.substr(0, sp).find(label_filter) == std::string::npos)
      continue;
    try {
      sum += std::stod(line.substr(sp + 1));
    } catch (...) {
    }
  }
  return sum;
}

namespace {

Result<http::ClientResponse> Get(const std::string& base, const std::string& path,
                                 milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create({.base_url = base,
                                                                 .connect_timeout = timeout,
                                                                 .read_timeout = timeout,
                                                                 .max_retries = 0}));
  return client->Get(path);
}

void ProbeUnit(nlohmann::json& u, milliseconds timeout) {
  const std::string kind = u.value("kind", "");
  const int port = u.value("port", 0);
  const std::string state = u.value("state", "");
  if (state == "failed" || state == "stopped" || state == "pending" ||
      (port <= 0 && kind != "service")) {
    u["health"] = "down";
    return;
  }
  if (kind == "link") {
    bool open = LoopbackPortOpen(port);
    u["health"] = open ? "ready" : "down";
    if (u.contains("admin_url")) {
      auto r = Get(u["admin_url"], "/metrics", timeout);
      if (r.ok() && r->status == 200) {
        const char* kProxy = "strata_link_proxy_bytes_total";
        double up = SumMetric(r->body, kProxy, "direction=\"upstream\"");
        double down = SumMetric(r->body, kProxy, "direction=\"downstream\"");
        double total = SumMetric(r->body, kProxy);
        if (r->body.find(kProxy) == std::string::npos)
          total = SumMetric(r->body, "strata_link_bytes_total");
        u["bytes_upstream"] = up;
        u["bytes_downstream"] = down;
        u["bytes_total"] = total;
        u["partitioned"] = SumMetric(r->body, "strata_link_proxy_partitioned") > 0;
      }
    }
  } else if (u.value("url", "").rfind("http://", 0) == 0) {
    auto r = Get(u["url"], "/readyz", timeout);
    u["health"] = !r.ok()            ? "down"
                  : r->status == 200 ? "ready"
                                     : "not ready: HTTP " + std::to_string(r->status);
  } else if (kind == "broker") {
    u["health"] = LoopbackPortOpen(port) ? "ready" : "down";
  } else {
    const bool alive = ProcessAlive(u.value("pid", 0));
    u["health"] = !alive ? "down" : state == "ready" ? "ready" : "not ready: " + state;
  }
}

// A leftover child is only signalled when its command line names its own run-dir file, so a
// recycled pid of an unrelated process is never touched.
bool IsOurChild(const nlohmann::json& u) {
  pid_t pid = u.value("pid", 0);
  if (!ProcessAlive(pid)) return false;
  const std::string cmdline = Cmdline(pid);
  const std::string name = u.value("name", "");
  return cmdline.find("/config/" + name + ".") != std::string::npos ||
         cmdline.find("/run/" + name + ".port") != std::string::npos;
}

}  // namespace

Result<nlohmann::json> ProbeRun(const std::string& run_dir, milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(nlohmann::json st, ReadState(run_dir));
  bool running = LauncherAlive(st);
  st["up_running"] = running;
  bool healthy = running && st.value("phase", "") == "running";
  for (auto& u : st["units"]) {
    if (running) {
      ProbeUnit(u, timeout);
    } else {
      u["health"] = "down";
    }
    healthy &= u["health"] == "ready";
  }
  st["healthy"] = healthy;
  return st;
}

Status StopRun(const std::string& run_dir, milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(nlohmann::json st, ReadState(run_dir));
  const pid_t pid = st.value("pid", 0);
  bool was_running = LauncherAlive(st);
  if (was_running) {
    kill(pid, SIGTERM);
    auto until = std::chrono::steady_clock::now() + timeout;
    while (ProcessAlive(pid) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(milliseconds(50));
    if (ProcessAlive(pid)) {
      kill(pid, SIGKILL);
      std::this_thread::sleep_for(milliseconds(200));
    }
  }
  bool leftovers = false;
  for (int sig : {SIGTERM, SIGKILL}) {
    leftovers = false;
    for (const auto& u : st["units"]) {
      if (IsOurChild(u)) {
        kill(u.value("pid", 0), sig);
        leftovers = true;
      }
    }
    if (!leftovers) break;
    std::this_thread::sleep_for(milliseconds(1000));
  }
  if (!was_running && !leftovers)
    return FailedPreconditionError("topology '" + st.value("topology", std::string()) +
                                   "' is not running (" + run_dir + ")");
  return Status::Ok();
}

}  // namespace strata::topology
