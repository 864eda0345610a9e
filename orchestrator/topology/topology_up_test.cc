// `strata up|status|down` end to end with real processes: strata-hello services, a real
// mosquitto, a `strata link` proxy. Supervision: kill -9 → restarted on the same port; a crash
// loop gives up after N; SIGTERM to `strata up` leaves no child behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "topology/run_control.h"

namespace strata::topology {
namespace {

using namespace std::chrono_literals;
const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

class UpTest : public ::testing::Test {
 protected:
  std::string run_dir() const { return dir_.File("run"); }

  std::unique_ptr<testing::Subprocess> Up(const std::string& yaml) {
    const std::string file = dir_.File("topology.yaml");
    std::ofstream(file) << yaml;
    auto p = testing::Subprocess::Start({kStrata, "up", file, "--run-dir", run_dir(), "-q"});
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  // Polls the state file until `pred` holds (bounded).
  nlohmann::json WaitState(const std::function<bool(const nlohmann::json&)>& pred,
                           std::chrono::milliseconds timeout = 20s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    nlohmann::json last;
    while (std::chrono::steady_clock::now() < until) {
      auto st = ReadState(run_dir());
      if (st.ok()) {
        last = *st;
        if (pred(last)) return last;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "state never matched; last: " << last.dump(2);
    return last;
  }

  static const nlohmann::json& Unit(const nlohmann::json& st, const std::string& name) {
    for (const auto& u : st["units"])
      if (u["name"] == name) return u;
    static const nlohmann::json kNone = nlohmann::json::object();
    return kNone;
  }

  nlohmann::json StatusJson(int* exit_code) {
    auto r = testing::Run({kStrata, "status", "--run-dir", run_dir(), "--json"});
    EXPECT_TRUE(r.ok());
    *exit_code = r->exit_code;
    return nlohmann::json::parse(r->out, nullptr, false);
  }

  testing::TempDir dir_;
};

const std::string kTwoHellos = R"(name: hellos
nodes:
  edge-1: {tier: edge}
  cloud-1: {tier: cloud}
supervision: {backoff: 100ms, max_restarts: 3}
services:
  a: {type: hello, node: cloud-1}
  b:
    type: hello
    node: edge-1
    config: {peer: "${a.url}"}
)";

TEST_F(UpTest, StartsSupervisesRestartsAndStops) {
  auto up = Up(kTwoHellos);
  ASSERT_NE(up, nullptr);
  nlohmann::json st = WaitState([](const auto& s) { return s["phase"] == "running"; });
  ASSERT_EQ(st["phase"], "running") << up->Stderr();
  // dependency order, ports, urls, pids
  ASSERT_EQ(st["units"].size(), 2u);
  EXPECT_EQ(st["units"][0]["name"], "a");
  for (const auto& u : st["units"]) {
    EXPECT_GT(u["pid"].get<int>(), 0);
    EXPECT_GT(u["port"].get<int>(), 0);
    EXPECT_EQ(u["state"], "ready");
  }
  std::ifstream conf(Unit(st, "b")["config"].get<std::string>());
  std::string b_conf((std::istreambuf_iterator<char>(conf)), std::istreambuf_iterator<char>());
  EXPECT_NE(b_conf.find(Unit(st, "a")["url"].get<std::string>()), std::string::npos) << b_conf;

  // b started after a: none of the launcher's fds (a's log file, sockets) leaked into it.
  {
    const std::string a_log = Unit(st, "a")["log"].get<std::string>();
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(
             "/proc/" + std::to_string(Unit(st, "b")["pid"].get<int>()) + "/fd", ec)) {
      std::error_code gone;  // an fd may close while we look
      auto target = std::filesystem::read_symlink(e.path(), gone).string();
      EXPECT_EQ(target.find(a_log), std::string::npos) << "b holds a's log file: " << target;
    }
    ASSERT_FALSE(ec) << ec.message();
  }

  int code = -1;
  nlohmann::json status = StatusJson(&code);
  EXPECT_EQ(code, 0) << status.dump(2);
  EXPECT_EQ(status["healthy"], true);
  EXPECT_EQ(Unit(status, "b")["health"], "ready");

  // a second `up` on the same run dir is refused
  auto again = testing::Run({kStrata, "up", dir_.File("topology.yaml"), "--run-dir", run_dir()});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 1);
  EXPECT_NE(again->err.find("already running"), std::string::npos) << again->err;

  // kill -9 one child: restarted on the same port, counter 1, healthy again
  const int b_pid = Unit(st, "b")["pid"];
  const int b_port = Unit(st, "b")["port"];
  ASSERT_EQ(kill(b_pid, SIGKILL), 0);
  st = WaitState([&](const auto& s) {
    const auto& b = Unit(s, "b");
    return b["restarts"] == 1 && b["state"] == "ready" && b["pid"] != b_pid;
  });
  EXPECT_EQ(Unit(st, "b")["port"], b_port);
  status = StatusJson(&code);
  EXPECT_EQ(code, 0) << status.dump(2);
  EXPECT_EQ(Unit(status, "b")["restarts"], 1);
  EXPECT_EQ(Unit(status, "b")["health"], "ready");

  // SIGTERM to `strata up`: every child is gone, the state says stopped
  std::vector<int> pids;
  for (const auto& u : st["units"]) pids.push_back(u["pid"]);
  up->Signal(SIGTERM);
  auto exit_code = up->Wait(15s);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << up->Stderr();
  for (int pid : pids) EXPECT_FALSE(ProcessAlive(pid)) << pid;
  EXPECT_EQ(ReadState(run_dir())->value("phase", ""), "stopped");
  status = StatusJson(&code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(status["up_running"], false);
}

TEST_F(UpTest, CrashLoopGivesUpAfterMaxRestarts) {
  auto up = Up(R"(name: crashy
nodes: {n: {tier: fog}}
services:
  good: {type: hello, node: n}
  bad:
    type: hello
    node: n
    depends_on: [good]
    config: {server: {prot: 1}}
    restart: {max_restarts: 2, backoff: 50ms}
)");
  ASSERT_NE(up, nullptr);
  auto code = up->Wait(20s);
  ASSERT_TRUE(code.ok()) << "strata up did not give up";
  EXPECT_EQ(*code, 1);
  const std::string err = up->Stderr();
  EXPECT_NE(err.find("bad: gave up after 2 restarts (exit code 2)"), std::string::npos) << err;
  EXPECT_NE(err.find("startup failed at 'bad'"), std::string::npos) << err;
  auto st = ReadState(run_dir());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)["phase"], "failed");
  EXPECT_EQ(Unit(*st, "bad")["restarts"], 2);
  EXPECT_EQ(Unit(*st, "bad")["state"], "failed");
  EXPECT_NE(Unit(*st, "bad")["last_line"].get<std::string>().find("prot"), std::string::npos);
}

TEST_F(UpTest, BrokerAndEmulatedLinkThenDown) {
  auto has_link = testing::Run({kStrata, "link", "--help"});
  const bool link = has_link.ok() && has_link->exit_code == 0;
  std::string yaml = R"(name: wired
nodes:
  edge-1: {tier: edge}
  cloud-1: {tier: cloud}
brokers:
  mqtt: {node: cloud-1}
services:
  a: {type: hello, node: cloud-1, config: {bus: "${mqtt.uri}"}}
  b: {type: hello, node: edge-1, config: {peer: "${a.url}"}}
)";
  if (link) yaml += "links:\n  - {from: edge-1, to: cloud-1, latency: 20ms}\n";
  auto up = Up(yaml);
  ASSERT_NE(up, nullptr);
  nlohmann::json st = WaitState([](const auto& s) { return s["phase"] == "running"; });
  ASSERT_EQ(st["phase"], "running") << up->Stderr();
  const auto& broker = Unit(st, "mqtt");
  EXPECT_EQ(broker["kind"], "broker");
  EXPECT_TRUE(testing::WaitForPort(broker["port"].get<int>(), 1s).ok());
  int code = -1;
  nlohmann::json status = StatusJson(&code);
  EXPECT_EQ(Unit(status, "mqtt")["health"], "ready") << status.dump(2);
  if (link) {
    const auto& proxy = Unit(st, "link-edge-1-cloud-1-a");
    ASSERT_EQ(proxy["kind"], "link") << st.dump(2);
    EXPECT_EQ(proxy["tier"], "edge");  // the client side of the link
    std::ifstream conf(Unit(st, "b")["config"].get<std::string>());
    std::string b_conf((std::istreambuf_iterator<char>(conf)), std::istreambuf_iterator<char>());
    const std::string via = "http://127.0.0.1:" + std::to_string(proxy["port"].get<int>());
    EXPECT_NE(b_conf.find(via), std::string::npos) << b_conf;  // b reaches a through the proxy
    auto client = http::HttpClient::Create({.base_url = via, .max_retries = 0});
    ASSERT_TRUE(client.ok());
    auto start = std::chrono::steady_clock::now();
    auto r = (*client)->Get("/api/v1/hello?name=link");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 200);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 35ms);  // 20 ms each way
    status = StatusJson(&code);
    EXPECT_EQ(code, 0) << status.dump(2);
    EXPECT_GT(Unit(status, "link-edge-1-cloud-1-a").value("bytes_total", 0.0), 0) << status.dump(2);
  } else {
    GTEST_LOG_(INFO) << "strata link not built: link part skipped";
  }
  auto down = testing::Run({kStrata, "down", "--run-dir", run_dir()});
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->exit_code, 0) << down->err;
  auto exit_code = up->Wait(5s);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0);
  for (const auto& u : st["units"]) EXPECT_FALSE(ProcessAlive(u["pid"].get<int>())) << u["name"];
}

TEST_F(UpTest, KilledLauncherTakesItsChildrenDown) {
  auto up = Up(R"(name: orphans
nodes: {n: {tier: edge}}
services:
  quiet: {type: hello, node: n, probe: none}
  loud: {type: hello, node: n}
)");
  ASSERT_NE(up, nullptr);
  nlohmann::json st = WaitState([](const auto& s) { return s["phase"] == "running"; });
  ASSERT_EQ(st["phase"], "running") << up->Stderr();
  int code = -1;
  nlohmann::json status = StatusJson(&code);
  EXPECT_EQ(code, 0) << status.dump(2);
  EXPECT_EQ(Unit(status, "quiet")["health"], "ready");  // probe: none = ready while running
  EXPECT_FALSE(Unit(status, "quiet").contains("url"));
  std::vector<int> pids;
  for (const auto& u : st["units"]) pids.push_back(u["pid"]);
  up->Signal(SIGKILL);
  ASSERT_TRUE(up->Wait(5s).ok());
  auto until = std::chrono::steady_clock::now() + 5s;
  auto any_alive = [&] {
    for (int pid : pids)
      if (ProcessAlive(pid)) return true;
    return false;
  };
  while (any_alive() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(any_alive()) << "children outlived a killed launcher";
  auto down = testing::Run({kStrata, "down", "--run-dir", run_dir()});
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->exit_code, 0);  // nothing left: a note, not an error
  EXPECT_NE(down->err.find("not running"), std::string::npos) << down->err;
}

TEST_F(UpTest, GivesUpOnACrashingServiceAndKeepsTheRestRunning) {
  auto up = Up(R"(name: flaky
nodes: {n: {tier: fog}}
supervision: {backoff: 50ms, max_restarts: 1, stable: 1h}
services:
  steady: {type: hello, node: n}
  flaky: {type: hello, node: n}
)");
  ASSERT_NE(up, nullptr);
  nlohmann::json st = WaitState([](const auto& s) { return s["phase"] == "running"; });
  ASSERT_EQ(st["phase"], "running") << up->Stderr();
  const int first = Unit(st, "flaky")["pid"];
  ASSERT_EQ(kill(first, SIGKILL), 0);
  st = WaitState([&](const auto& s) {
    return Unit(s, "flaky")["state"] == "ready" && Unit(s, "flaky")["pid"] != first;
  });
  ASSERT_EQ(kill(Unit(st, "flaky")["pid"].get<int>(), SIGKILL), 0);  // within `stable`: 2nd failure
  st = WaitState([](const auto& s) { return Unit(s, "flaky")["state"] == "failed"; });
  EXPECT_EQ(Unit(st, "flaky")["restarts"], 1);
  EXPECT_EQ(st["phase"], "running");
  int code = -1;
  nlohmann::json status = StatusJson(&code);
  EXPECT_EQ(code, 1) << status.dump(2);  // not healthy: one unit is down
  EXPECT_EQ(Unit(status, "flaky")["health"], "down");
  EXPECT_EQ(Unit(status, "steady")["health"], "ready");
  up->Signal(SIGTERM);
  auto exit_code = up->Wait(15s);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0);
  EXPECT_NE(up->Stderr().find("flaky: gave up after 1 restarts (exit code 137)"), std::string::npos)
      << up->Stderr();
}

// A console without `upstreams:` gets every other service with the URL `strata up` gave it. The
// console is played by a script (strata-console may not be built): it keeps the config it was
// given and runs strata-hello on the launcher's --host/--port/--port-file arguments.
TEST_F(UpTest, TheLauncherFillsAConsolesUpstreamsWithDirectUrls) {
  const std::string bin = dir_.File("bin");
  std::filesystem::create_directories(bin);
  const std::string hello = std::string(STRATA_BINARY_DIR) + "/bin/strata-hello";
  std::filesystem::create_symlink(hello, bin + "/strata-hello");
  {
    std::ofstream f(bin + "/strata-console");
    f << "#!/bin/sh\ncp \"$2\" \"" << dir_.File("console-seen.yaml") << "\"\nshift 2\nexec "
      << hello << " \"$@\"\n";
  }
  std::filesystem::permissions(bin + "/strata-console", std::filesystem::perms::owner_all);
  const std::string file = dir_.File("topology.yaml");
  std::ofstream(file) << kTwoHellos
                      << "  console:\n    type: console\n    node: cloud-1\n"
                         "    config: {console: {poll_interval: 1s}}\n"
                         "links:\n  - {from: edge-1, to: cloud-1, latency: 1ms}\n";
  auto up = testing::Subprocess::Start(
      {kStrata, "up", file, "--run-dir", run_dir(), "--bin-dir", bin, "-q"});
  ASSERT_TRUE(up.ok()) << up.status().message();
  nlohmann::json st = WaitState([](const auto& s) { return s["phase"] == "running"; });
  ASSERT_EQ(st["phase"], "running") << (*up)->Stderr();
  EXPECT_EQ(st["units"].back()["name"], "console");  // started last
  YAML::Node seen = YAML::LoadFile(dir_.File("console-seen.yaml"));
  EXPECT_EQ(seen["console"]["poll_interval"].as<std::string>(), "1s");
  const YAML::Node ups = seen["console"]["upstreams"];
  ASSERT_EQ(ups.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "a" : "b";
    EXPECT_EQ(ups[i]["name"].as<std::string>(), name);
    EXPECT_EQ(ups[i]["type"].as<std::string>(), "hello");
    EXPECT_EQ(ups[i]["tier"].as<std::string>(), i == 0 ? "cloud" : "edge");
    // Direct, not through the emulated edge-1 <-> cloud-1 link proxy.
    EXPECT_EQ(ups[i]["url"].as<std::string>(), Unit(st, name)["url"].get<std::string>());
  }
  ::kill((*up)->pid(), SIGTERM);
  EXPECT_TRUE((*up)->Wait(20s).ok());
}

TEST(UpCliTest, CheckAndDeployExamples) {
  const std::string dir = std::string(STRATA_SOURCE_DIR) + "/configs/topologies/";
  for (const char* f : {"surveillance.yaml", "segmentation.yaml", "federation.yaml", "all.yaml"}) {
    auto r = testing::Run({kStrata, "up", dir + f, "--check"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 0) << f << ": " << r->err;
    EXPECT_NE(r->out.find("start order:"), std::string::npos);
  }
  testing::TempDir tmp;
  std::ofstream(tmp.File("bad.yaml")) << "name: x\nnodes: {a: {tier: fog}}\nservices:\n"
                                         "  s: {type: nope, node: a}\n";
  auto bad = testing::Run({kStrata, "up", tmp.File("bad.yaml"), "--check"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 2);
  EXPECT_NE(bad->err.find("bad.yaml:4: key 'services.s.type': unknown service type 'nope'"),
            std::string::npos)
      << bad->err;
  auto k8s =
      testing::Run({kStrata, "deploy", "k8s", dir + "surveillance.yaml", "-o", tmp.File("k8s")});
  ASSERT_TRUE(k8s.ok());
  EXPECT_EQ(k8s->exit_code, 0) << k8s->err;
  for (const char* f : {"namespace.yaml", "mqtt.yaml", "detect.yaml", "kustomization.yaml"})
    EXPECT_TRUE(std::ifstream(tmp.File("k8s/") + f).good()) << f;
}

}  // namespace
}  // namespace strata::topology
