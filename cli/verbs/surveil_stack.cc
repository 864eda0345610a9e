#include "verbs/surveil_stack.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "strata/transport/http_client.h"

namespace strata::cli {

SurveilStack::~SurveilStack() {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) Stop(*it);
}

Status SurveilStack::StartBroker() {
  STRATA_ASSIGN_OR_RETURN(broker_, testing::MosquittoBroker::Start());
  return Status::Ok();
}

Status SurveilStack::Start(const std::string& name, const std::string& yaml) {
  const std::string config = work_dir_ + "/" + name + ".yaml";
  const std::string port_file = work_dir_ + "/" + name + ".port";
  const std::string data_dir = work_dir_ + "/" + name;
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  std::filesystem::remove(port_file, ec);
  {
    std::ofstream out(config);
    out << yaml;
    if (!out) return UnavailableError("cannot write " + config);
  }
  const std::string bin = bin_dir_ + "/strata-" + name;
  auto proc = testing::Subprocess::Start({bin, "--config", config, "--port", "0", "--port-file",
                                          port_file, "--data-dir", data_dir});
  if (!proc.ok())
    return UnavailableError(bin + " cannot be started (build it: make build): " +
                            proc.status().message());
  Proc& p = procs_[name];
  p.process = std::move(proc).value();
  order_.push_back(name);
  auto port = testing::WaitForPortFile(port_file, std::chrono::seconds(60));
  if (!port.ok())
    return UnavailableError("strata-" + name + " did not start: " + LastStderrLine(name));
  p.port = *port;
  STRATA_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create({.base_url = Url(name)}));
  for (int i = 0; i < 600; ++i) {  // up to 60 s: models load before readiness
    auto r = client->Get("/readyz");
    if (r.ok() && r->status == 200) return Status::Ok();
    if (p.process->Wait(std::chrono::milliseconds(0)).ok())
      return UnavailableError("strata-" + name + " exited: " + LastStderrLine(name));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return DeadlineExceededError("strata-" + name + " was not ready after 60 s");
}

Status SurveilStack::StartLink(const std::string& name, const std::string& upstream,
                               const std::string& latency, const std::string& jitter,
                               const std::string& bandwidth) {
  auto up = procs_.find(upstream);
  if (up == procs_.end()) return NotFoundError("no service '" + upstream + "' to put a link before");
  const std::string port_file = work_dir_ + "/" + name + ".port";
  std::error_code ec;
  std::filesystem::remove(port_file, ec);
  auto proc = testing::Subprocess::Start(
      {bin_dir_ + "/strata", "link", "--name", name, "--listen", "127.0.0.1:0", "--upstream",
       "127.0.0.1:" + std::to_string(up->second.port), "--latency", latency, "--jitter", jitter,
       "--bandwidth", bandwidth, "--admin", "127.0.0.1:0", "--port-file", port_file});
  if (!proc.ok()) return UnavailableError("strata link cannot be started: " + proc.status().message());
  Proc& p = procs_[name];
  p.process = std::move(proc).value();
  order_.push_back(name);
  auto port = testing::WaitForPortFile(port_file, std::chrono::seconds(20));
  if (!port.ok()) return UnavailableError("strata link " + name + " did not start: " + LastStderrLine(name));
  p.port = *port;
  return Status::Ok();
}

std::string SurveilStack::Url(const std::string& name) const {
  auto it = procs_.find(name);
  return it == procs_.end() ? "" : "http://127.0.0.1:" + std::to_string(it->second.port);
}

int SurveilStack::Stop(const std::string& name) {
  auto it = procs_.find(name);
  if (it == procs_.end() || !it->second.process) return -1;
  it->second.process->Signal(SIGTERM);
  auto code = it->second.process->Wait(std::chrono::seconds(10));
  if (!code.ok()) {
    it->second.process->Signal(SIGKILL);
    code = it->second.process->Wait(std::chrono::seconds(5));
  }
  return code.ok() ? *code : -1;
}

std::string SurveilStack::LastStderrLine(const std::string& name) const {
  auto it = procs_.find(name);
  if (it == procs_.end() || !it->second.process) return "";
  std::string err = it->second.process->Stderr();
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  size_t nl = err.rfind('\n');
  std::string line = nl == std::string::npos ? err : err.substr(nl + 1);
  return line.empty() ? "(no output)" : line;
}

}  // namespace strata::cli
