// Test helpers shared by the topology tests (auth_test, tls_test, auth_up_test, tls_up_test):
// reading files and their modes, a `strata up` run's state (units, waiting for a phase, `strata
// down`), bounded HTTP GETs, an MQTT inbox, what children expose (argv + logs), and small
// topologies for the `security:` block. Header-only; use from tests only:
//   using namespace strata::topology::testutil;
//   nlohmann::json st = WaitForPhase(run, 600);  // 600 × 50 ms
//   EXPECT_EQ(GetStatus({.base_url = url}, "/readyz", true), 200);
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <initializer_list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "topology/run_control.h"
#include "topology/topology.h"

namespace strata::topology::testutil {

// The `strata` CLI of this build.
inline const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

// The first of these build binaries (e.g. "strata-segment") that is not built, or "" when all are:
//   if (auto b = NotBuilt({"strata-segment"}); !b.empty()) GTEST_SKIP() << b << " not built";
inline std::string NotBuilt(std::initializer_list<const char*> binaries) {
  const std::string bin = std::string(STRATA_BINARY_DIR) + "/bin/";
  for (const char* b : binaries)
    if (::access((bin + b).c_str(), X_OK) != 0) return b;
  return "";
}

// The whole file ("" when unreadable).
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The file without its trailing newlines (a password or token file).
inline std::string SlurpLine(const std::string& path) {
  std::string s = Slurp(path);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// The permission bits of path (a failure is added when it does not exist).
inline int Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<int>(st.st_mode & 0777);
}

// The unit named `name` in a state/status document, or an empty object.
inline const nlohmann::json& Unit(const nlohmann::json& st, const std::string& name) {
  for (const auto& u : st["units"])
    if (u["name"] == name) return u;
  static const nlohmann::json kNone = nlohmann::json::object();
  return kNone;
}

// Polls the run's state file every 50 ms, at most `tries` times, until its phase is "running" or
// "failed"; returns the last state read (an empty object when none was).
inline nlohmann::json WaitForPhase(const std::string& run, int tries) {
  nlohmann::json st = nlohmann::json::object();
  for (int i = 0; i < tries; ++i) {
    auto s = ReadState(run);
    if (s.ok() && s->is_object()) st = *s;
    if (st.value("phase", "") == "running" || st.value("phase", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return st;
}

// `strata down` for the run, then `up` must exit 0 within `timeout`.
inline void DownAndWait(const std::string& strata, const std::string& run,
                        strata::testing::Subprocess& up, std::chrono::milliseconds timeout) {
  auto down = strata::testing::Run({strata, "down", "--run-dir", run});
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->exit_code, 0) << down->err;
  auto code = up.Wait(timeout);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

// Every unit's argv (/proc/<pid>/cmdline, which must be readable) and log, concatenated: where a
// secret must not appear.
inline std::string ChildArgvAndLogs(const nlohmann::json& st) {
  std::string all;
  for (const auto& u : st["units"]) {
    std::string cmdline = Slurp("/proc/" + std::to_string(u["pid"].get<int>()) + "/cmdline");
    EXPECT_FALSE(cmdline.empty()) << u["name"];
    all += cmdline + Slurp(u["log"].get<std::string>());
  }
  return all;
}

// The status of GET `path` with `config` (no retries), or -1 when the request failed (connect,
// handshake, verification), -2 when no client could be made. `expect_answer`: a failed request
// is a test failure too. `content_type` (optional) receives the answer's Content-Type.
inline int GetStatus(http::ClientConfig config, const std::string& path, bool expect_answer,
                     std::string* content_type = nullptr) {
  config.max_retries = 0;
  auto c = http::HttpClient::Create(config);
  EXPECT_TRUE(c.ok()) << c.status().message();
  if (!c.ok()) return -2;
  auto r = (*c)->Get(path);
  if (expect_answer) {
    EXPECT_TRUE(r.ok()) << r.status().message();
  }
  if (content_type && r.ok()) *content_type = r->Header("content-type");
  return r.ok() ? r->status : -1;
}

// The last payload per topic of what a subscription received; pass Handler() to Subscribe.
class Inbox {
 public:
  mqtt::MessageHandler Handler() {
    return [this](const mqtt::Message& m) {
      std::lock_guard lock(mu_);
      seen_[m.topic] = m.payload;
    };
  }
  // Waits (10 ms steps, at most `tries`) until messages on `n` topics arrived; whether they did.
  bool WaitFor(size_t n, int tries) {
    for (int i = 0; i < tries; ++i) {
      {
        std::lock_guard lock(mu_);
        if (seen_.size() >= n) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::string Get(const std::string& topic) {
    std::lock_guard lock(mu_);
    auto it = seen_.find(topic);
    return it == seen_.end() ? std::string() : it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> seen_;
};

// A shop (edge) + cloud topology with a broker `bus`, a hello `api`, a segment `seg` (MQTT on
// bus, uplink to api, then `seg_extra` config lines) and a console, under `security`.
inline std::string ShopCloudTopology(const std::string& name, const std::string& security,
                                     const std::string& seg_extra = "") {
  return "name: " + name + "\nsecurity: " + security +
         R"(
nodes:
  shop: {tier: edge}
  cloud: {tier: cloud}
brokers:
  bus: {node: cloud}
services:
  api: {type: hello, node: cloud}
  seg:
    type: segment
    node: shop
    config:
      mqtt: {uri: "${bus.uri}"}
      uplink: {url: "${api.url}"}
)" + seg_extra +
         "  console: {type: console, node: cloud}\n";
}

// The message ParseTopology gives for one hello service under `security:\n  <key>: <value>`
// (file "b.yaml"), or "" when it parses.
inline std::string SecurityValueError(const std::string& key, const std::string& value) {
  auto t = ParseTopology("name: x\nsecurity:\n  " + key + ": " + value +
                             "\nnodes: {a: {tier: fog}}\nservices: {s: {type: hello, node: a}}\n",
                         "b.yaml", ".");
  return t.ok() ? std::string() : std::string(t.status().message());
}

}  // namespace strata::topology::testutil
