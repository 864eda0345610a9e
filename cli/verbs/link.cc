// strata link: a userspace WAN link emulator (TCP proxy) between two services, with an admin API.
//
//   strata link --listen 127.0.0.1:9000 --upstream 127.0.0.1:8081 --name fog-cloud
//       --latency 20ms --jitter 2ms --bandwidth 20mbit --loss 0.01 [--slice-bytes 1]
//       --admin 127.0.0.1:0 --port-file link.port --admin-port-file link.admin.port
//
// Runs until SIGTERM/SIGINT (exit 0). Bad flags: one line on stderr, exit 2. Latency and jitter
// are one-way and apply to both directions (change them per direction with PUT /api/v1/link).
// See docs/link.md.
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "link_admin.h"
#include "link_proxy.h"
#include "strata/transport/http.h"
#include "verbs.h"

namespace strata::cli {
namespace {

struct Options {
  std::string listen, upstream, name = "link";
  std::string latency = "0ms", jitter = "0ms", bandwidth = "unlimited", loss = "0";
  std::string jitter_distribution = "uniform", partition_mode = "blackhole";
  std::string admin = "127.0.0.1:0";
  std::string port_file, admin_port_file;
  uint64_t seed = 1;
  int64_t slice_bytes = 0;
};

// "HOST:PORT" → host, port; `min_port` is 0 for addresses we bind, 1 for ones we dial.
Status SplitHostPort(const std::string& flag, const std::string& text, int min_port,
                     std::string* host, int* port) {
  size_t colon = text.rfind(':');
  std::string p = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (colon == 0 || p.empty() || p.size() > 5 ||
      p.find_first_not_of("0123456789") != std::string::npos || std::stoi(p) < min_port ||
      std::stoi(p) > 65535)
    return InvalidArgumentError(flag + " '" + text + "': expected HOST:PORT with PORT in [" +
                                std::to_string(min_port) + ", 65535]");
  *host = text.substr(0, colon);
  *port = std::stoi(p);
  return Status::Ok();
}

// "40ms", "1.5ms", "0.04s", "250us", "0" → milliseconds.
Status ParseMs(const std::string& flag, const std::string& text, double* ms) {
  size_t end = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, end), unit = end == std::string::npos ? "" : text.substr(end);
  char* stop = nullptr;
  double v = number.empty() ? NAN : std::strtod(number.c_str(), &stop);
  double scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "us" ? 0.001 : NAN;
  if (unit.empty() && v == 0 && stop == number.c_str() + number.size()) scale = 1;
  if (!std::isfinite(v) || stop != number.c_str() + number.size() || std::isnan(scale) ||
      v * scale > link::kMaxLatencyMs)
    return InvalidArgumentError(flag + " '" + text +
                                "': expected a duration like 40ms, 1.5ms or 0.2s (at most 60s)");
  *ms = v * scale;
  return Status::Ok();
}

// "0.01" or "1%" → probability.
Status ParseLoss(const std::string& text, double* p) {
  bool percent = !text.empty() && text.back() == '%';
  std::string number = percent ? text.substr(0, text.size() - 1) : text;
  char* stop = nullptr;
  double v = number.empty() ? NAN : std::strtod(number.c_str(), &stop);
  if (percent) v /= 100;
  if (!std::isfinite(v) || stop != number.c_str() + number.size() || v < 0 || v > 1)
    return InvalidArgumentError("--loss '" + text +
                                "': expected a probability in [0, 1] or a percentage");
  *p = v;
  return Status::Ok();
}

Status BuildConfig(const Options& o, link::LinkProxyConfig* c, std::string* admin_host,
                   int* admin_port) {
  c->name = o.name;
  c->seed = o.seed;
  STRATA_RETURN_IF_ERROR(SplitHostPort("--listen", o.listen, 0, &c->listen_host, &c->listen_port));
  STRATA_RETURN_IF_ERROR(
      SplitHostPort("--upstream", o.upstream, 1, &c->upstream_host, &c->upstream_port));
  STRATA_RETURN_IF_ERROR(SplitHostPort("--admin", o.admin, 0, admin_host, admin_port));
  link::DirectionSettings d;
  STRATA_RETURN_IF_ERROR(ParseMs("--latency", o.latency, &d.latency_ms));
  STRATA_RETURN_IF_ERROR(ParseMs("--jitter", o.jitter, &d.jitter_ms));
  STRATA_RETURN_IF_ERROR(ParseLoss(o.loss, &d.loss));
  auto bps = link::ParseBandwidth(o.bandwidth);
  if (!bps.ok()) return bps.status().WithContext("--bandwidth");
  d.bandwidth_bps = *bps;
  d.slice_bytes = o.slice_bytes;
  c->settings.upstream = c->settings.downstream = d;
  c->settings.jitter_distribution = o.jitter_distribution == "normal"
                                        ? link::JitterDistribution::kNormal
                                        : link::JitterDistribution::kUniform;
  STRATA_ASSIGN_OR_RETURN(c->settings.partition_mode, link::ParsePartitionMode(o.partition_mode));
  return Status::Ok();
}

Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return Status::Ok();
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return InternalError("cannot write " + path);
  return Status::Ok();  // renamed into place: readers never see half a file
}

int Run(const Options& o) {
  http::BlockTerminationSignals();  // before any thread starts, so RunUntilSignal can sigwait
  link::LinkProxyConfig config;
  std::string admin_host;
  int admin_port = 0;
  Status s = BuildConfig(o, &config, &admin_host, &admin_port);
  if (!s.ok()) return Fail(s.message(), 2);
  auto proxy = link::LinkProxy::Start(config);
  if (!proxy.ok()) return Fail(proxy.status().message(), ToExitCode(proxy.status()) == 2 ? 2 : 1);
  auto admin = http::HttpServer::Create(
      {.service = "link", .host = admin_host, .port = admin_port, .workers = 2, .max_queue = 16});
  if (!admin.ok()) return Fail(admin.status().message(), 2);
  link::RegisterLinkRoutes(**admin, **proxy);
  s = (*admin)->Start();
  if (s.ok()) s = WritePortFile(o.port_file, (*proxy)->port());
  if (s.ok()) s = WritePortFile(o.admin_port_file, (*admin)->port());
  if (!s.ok()) return Fail(s.message(), 1);
  spdlog::info("link '{}': {}:{} -> {}:{}, admin http://{}:{}", config.name, config.listen_host,
               (*proxy)->port(), config.upstream_host, config.upstream_port, admin_host,
               (*admin)->port());
  s = http::RunUntilSignal(**admin);
  (*proxy)->Stop();
  return s.ok() ? 0 : Fail(s.message(), 1);
}

}  // namespace

void RegisterLink(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("link", "Run a userspace WAN link emulator (TCP proxy)");
  cmd->fallthrough();  // --log-level / --log-format after the verb reach the top-level app
  cmd->add_option("--listen", o->listen, "Address to listen on, HOST:PORT (PORT 0 = any free)")
      ->required();
  cmd->add_option("--upstream", o->upstream, "Where connections go, HOST:PORT")->required();
  cmd->add_option("--name", o->name, "Link name (the `link` metrics label)");
  cmd->add_option("--latency", o->latency, "One-way delay per direction, e.g. 20ms");
  cmd->add_option("--jitter", o->jitter, "Delay variation per direction, e.g. 2ms");
  cmd->add_option("--jitter-distribution", o->jitter_distribution, "uniform|normal")
      ->check(CLI::IsMember({"uniform", "normal"}));
  cmd->add_option("--bandwidth", o->bandwidth,
                  "Cap per direction, e.g. 20mbit (default unlimited)");
  cmd->add_option("--loss", o->loss, "Per-segment loss probability, e.g. 0.01 or 1%");
  cmd->add_option("--slice-bytes", o->slice_bytes,
                  "Forward in writes of at most N bytes (1 = byte by byte; 0 = off)")
      ->check(CLI::Range(int64_t{0}, link::kMaxSliceBytes));
  cmd->add_option("--partition-mode", o->partition_mode, "blackhole|reset")
      ->check(CLI::IsMember({"blackhole", "reset"}));
  cmd->add_option("--admin", o->admin, "Admin API address, HOST:PORT (default 127.0.0.1:0)");
  cmd->add_option("--port-file", o->port_file, "Write the proxy's bound port to this file");
  cmd->add_option("--admin-port-file", o->admin_port_file, "Write the admin port to this file");
  cmd->add_option("--seed", o->seed, "Seed of the jitter and loss draws");
  cmd->callback([&ctx, o] { ctx.action = [o] { return Run(*o); }; });
}

}  // namespace strata::cli
