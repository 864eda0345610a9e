// Launcher: plan, start in order, supervise, stop (see launcher.h). The state file is written by
// launcher_state.cc.
#include "topology/launcher.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "strata/transport/http_client.h"

namespace strata::topology {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "strata" : p.string();
}

int ReadPortFile(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  return (in >> port) && port > 0 ? port : 0;
}

std::string Ms(milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

Launcher::Launcher(Topology topology, UpOptions options)
    : topo_(std::move(topology)), opt_(std::move(options)) {
  if (opt_.strata_bin.empty()) opt_.strata_bin = SelfExe();
  if (opt_.bin_dir.empty()) opt_.bin_dir = fs::path(SelfExe()).parent_path().string();
  PlanUnits();
}

Launcher::~Launcher() { StopAll(); }

Unit* Launcher::Find(const std::string& name) {
  for (auto& u : units_)
    if (u->name == name) return u.get();
  return nullptr;
}
const Unit* Launcher::Find(const std::string& name) const {
  for (const auto& u : units_)
    if (u->name == name) return u.get();
  return nullptr;
}

std::string Launcher::Path(const std::string& sub, const std::string& name) const {
  return opt_.run_dir + "/" + sub + "/" + name;
}

void Launcher::PlanUnits() {
  for (const std::string& name : topo_.start_order) {
    auto u = std::make_unique<Unit>();
    u->name = name;
    u->restart = topo_.supervision;
    if (const Broker* b = topo_.FindBroker(name)) {
      u->kind = "broker";
      u->type = "mosquitto";
      u->node = b->node;
      u->port = b->port;
    } else {
      const Service* s = topo_.FindService(name);
      u->kind = "service";
      u->type = s->type;
      u->node = s->node;
      u->http = s->http;
      u->port = s->port;
      u->restart = s->restart;
      u->deps = s->depends_on;
      for (const std::string& dep : s->depends_on) {  // references cross emulated links
        const Link* l = topo_.EmulatedLink(s->node, topo_.NodeOf(dep));
        bool referenced = false;
        for (const Reference& r : s->refs) referenced |= r.target == dep;
        if (!l || !referenced) continue;
        std::string proxy = "link-" + l->name() + "-" + dep;
        if (!Find(proxy)) {
          auto p = std::make_unique<Unit>();
          p->name = proxy;
          p->kind = "link";
          p->restart = topo_.supervision;
          p->type = "link";
          p->node = s->node;
          p->tier = topo_.FindNode(s->node)->tier;
          p->link = l;
          p->target = dep;
          p->deps = {dep};
          units_.push_back(std::move(p));
        }
        u->deps.push_back(proxy);
      }
    }
    const Node* n = topo_.FindNode(u->node);
    u->tier = n ? n->tier : "";
    units_.push_back(std::move(u));
  }
}

Status Launcher::Launch(Unit& u) {
  STRATA_ASSIGN_OR_RETURN(auto argv, CommandLine(u));
  std::string prefix = u.name;
  if (prefix.size() < 12) prefix.resize(12, ' ');
  auto proc = ChildProcess::Start(argv, {.prefix = prefix + " | ",
                                         .log_file = Path("logs", u.name + ".log"),
                                         .echo = opt_.echo_logs});
  if (!proc.ok())
    return proc.status().WithContext(
        u.name + (u.kind == "service" ? " (build it: cmake --build build --target strata-" +
                                            u.type + ", or pass --bin-dir)"
                                      : ""));
  u.proc = std::move(proc).value();
  u.state = "starting";
  u.started = Clock::now();
  return Status::Ok();
}

void Launcher::CheckReady(Unit& u) {
  if (u.kind == "link") {
    if (u.port == 0) u.port = ReadPortFile(Path("run", u.name + ".port"));
    if (u.admin_port == 0) u.admin_port = ReadPortFile(Path("run", u.name + ".admin-port"));
    if (u.port > 0 && u.admin_port > 0 && LoopbackPortOpen(u.port)) u.state = "ready";
  } else if (u.kind == "broker") {
    if (LoopbackPortOpen(u.port)) u.state = "ready";
  } else if (!u.http) {
    if (Clock::now() - u.started > milliseconds(500)) u.state = "ready";
  } else {
    if (u.port == 0) u.port = ReadPortFile(Path("run", u.name + ".port"));
    if (u.port == 0) return;
    auto client = http::HttpClient::Create(
        {.base_url = (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(u.port),
         .connect_timeout = milliseconds(500),
         .read_timeout = milliseconds(1000),
         .max_retries = 0,
         .ca_file = tls_ ? tls_->ca_file : ""});
    if (!client.ok()) return;
    auto r = (*client)->Get("/readyz");
    if (r.ok() && r->status == 200) u.state = "ready";
  }
  if (u.state == "ready") {
    WriteStderrLine("strata up: " + u.name + " ready" +
                    (u.port ? " on 127.0.0.1:" + std::to_string(u.port) : ""));
    WriteState(phase_);
  } else if (Clock::now() - u.started > u.restart.ready_timeout) {
    u.proc->Signal(SIGKILL);
    u.proc->Wait(milliseconds(2000));
    u.state = "failed";
    WriteStderrLine("strata up: " + u.name + ": not ready after " + Ms(u.restart.ready_timeout) +
                    "; last line: " + u.proc->LastLine());
    WriteState(phase_);
  }
}

void Launcher::OnExit(Unit& u, int code) {
  u.last_exit = code;
  u.last_line = u.proc->LastLine();
  if (stopping_) {
    u.state = "stopped";
    return;
  }
  if (u.state == "ready" && Clock::now() - u.started >= u.restart.stable) u.consecutive = 0;
  if (u.consecutive >= u.restart.max_restarts) {
    u.state = "failed";
    WriteStderrLine("strata up: " + u.name + ": gave up after " + std::to_string(u.consecutive) +
                    " restarts (exit code " + std::to_string(code) + "): " + u.last_line);
  } else {
    ++u.consecutive;
    milliseconds delay = u.restart.backoff;
    for (int i = 1; i < u.consecutive && delay < u.restart.max_backoff; ++i) delay *= 2;
    delay = std::min(delay, u.restart.max_backoff);
    u.state = "restarting";
    u.restart_at = Clock::now() + delay;
    WriteStderrLine("strata up: " + u.name + " exited (code " + std::to_string(code) +
                    "): " + u.last_line + "; restart " + std::to_string(u.consecutive) + "/" +
                    std::to_string(u.restart.max_restarts) + " in " + Ms(delay));
  }
  WriteState(phase_);
}

void Launcher::Tick() {
  for (auto& up : units_) {
    Unit& u = *up;
    if ((u.state == "starting" || u.state == "ready") && u.proc) {
      if (auto code = u.proc->Poll()) {
        OnExit(u, *code);
        continue;
      }
    }
    if (u.state == "starting") CheckReady(u);
    if (u.state == "restarting" && Clock::now() >= u.restart_at) {
      ++u.restarts;
      Status s = Launch(u);
      if (!s.ok()) {
        u.state = "failed";
        WriteStderrLine("strata up: " + s.message());
      }
      WriteState(phase_);
    }
  }
}

int Launcher::Run(const std::atomic<bool>& stop) {
  std::error_code ec;
  for (const char* sub : {"config", "data", "logs", "run"})
    fs::create_directories(opt_.run_dir + "/" + sub, ec);
  if (ec) {
    WriteStderrLine("strata up: cannot create " + opt_.run_dir + ": " + ec.message());
    return 1;
  }
  if (Status s = PrepareAuth(); !s.ok()) {
    WriteStderrLine("strata up: authentication: " + s.message());
    return 1;
  }
  if (Status s = PrepareTls(); !s.ok()) {
    WriteStderrLine("strata up: tls: " + s.message());
    return 1;
  }
  WriteState(phase_);
  int result = 0;
  for (auto& up : units_) {
    Unit& u = *up;
    if (stop) break;
    Status s = Launch(u);
    if (!s.ok()) {
      WriteStderrLine("strata up: " + s.message());
      result = 1;
      break;
    }
    WriteState(phase_);
    while (!stop && u.state != "ready" && u.state != "failed") {
      Tick();
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (u.state == "failed") {
      WriteStderrLine("strata up: startup failed at '" + u.name + "'; stopping");
      result = 1;
      break;
    }
  }
  if (result == 0 && !stop) {
    phase_ = "running";
    WriteState(phase_);
    WriteStderrLine("strata up: " + topo_.name + " running (" + std::to_string(units_.size()) +
                    " units); state in " + StateFilePath(opt_.run_dir));
    while (!stop) {
      Tick();
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  phase_ = "stopping";
  StopAll();
  phase_ = result == 0 ? "stopped" : "failed";
  WriteState(phase_);
  WriteStderrLine("strata up: " + topo_.name + " " + phase_);
  return result;
}

Status Launcher::PrepareAuth() {
  std::error_code ec;
  const std::string dir = fs::absolute(opt_.run_dir + "/auth", ec).string();
  auto broker_dir = [&](const std::string& b) {
    return fs::absolute(Path("config", b + "-auth"), ec).string();
  };
  if (!AuthOn(topo_, LocalBindsNonLoopback(topo_))) {
    if (fs::exists(dir, ec)) {  // auth was on in an earlier run here: back to anonymous MQTT
      for (const Broker& b : topo_.brokers) fs::remove_all(broker_dir(b.name), ec);
      if (!TlsOn(topo_, LocalBindsNonLoopback(topo_))) {
        fs::remove_all(dir, ec);
      } else {  // tls/ (PrepareTls) stays: the CA and certificates are reused
        std::vector<fs::path> issued;
        for (const auto& e : fs::directory_iterator(dir, ec))
          if (e.path().filename() != "tls") issued.push_back(e.path());
        for (const fs::path& p : issued) fs::remove_all(p, ec);
      }
    }
    return Status::Ok();
  }
  STRATA_ASSIGN_OR_RETURN(AuthMaterial m, WriteAuthMaterial(topo_, dir, broker_dir));
  WriteStderrLine("strata up: authentication on: signing key and " +
                  std::to_string(m.tokens.size()) + " tokens in " + dir +
                  " (0600); the operator's token is " +
                  m.token_files[std::string(kOperatorPrincipal)]);
  auth_ = std::make_unique<AuthMaterial>(std::move(m));
  return Status::Ok();
}

Status Launcher::PrepareTls() {
  if (!TlsOn(topo_, LocalBindsNonLoopback(topo_))) return Status::Ok();
  std::error_code ec;
  const std::string dir = fs::absolute(opt_.run_dir + "/auth/tls", ec).string();
  STRATA_ASSIGN_OR_RETURN(TlsMaterial m,
                          WriteTlsMaterial(topo_, dir, opt_.strata_bin, [&](const std::string& b) {
                            return fs::absolute(Path("config", b + "-tls"), ec).string();
                          }));
  WriteStderrLine("strata up: tls on: CA " + m.ca_file + " and " + std::to_string(m.certs.size()) +
                  " certificates in " + dir + " (keys 0600); services speak https, brokers mqtts");
  tls_ = std::make_unique<TlsMaterial>(std::move(m));
  return Status::Ok();
}

void Launcher::StopAll() {
  stopping_ = true;
  for (auto it = units_.rbegin(); it != units_.rend(); ++it) {
    Unit& u = **it;
    if (!u.proc) continue;
    if (!u.proc->Poll()) {
      u.proc->Signal(SIGTERM);
      if (!u.proc->Wait(opt_.stop_timeout)) {
        WriteStderrLine("strata up: " + u.name + " ignored SIGTERM for " + Ms(opt_.stop_timeout) +
                        "; killing it");
        u.proc->Signal(SIGKILL);
        u.proc->Wait(milliseconds(5000));
      }
    }
    u.last_exit = u.proc->Poll();
    if (u.state != "failed") u.state = "stopped";
    u.proc.reset();
  }
}

}  // namespace strata::topology
