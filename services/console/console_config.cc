// Parsing and validation of configs/console.yaml into Options (see console_config.h).
#include "console_config.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace strata::console {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

Status Duration(const ConfigNode& n, std::string_view key, std::chrono::milliseconds* out,
                std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
  STRATA_RETURN_IF_ERROR(n.Get(key, out));
  if (*out < lo || *out > hi)
    return InvalidArgumentError(n.Where(key) + ": must be between " + std::to_string(lo.count()) +
                                "ms and " + std::to_string(hi.count()) + "ms");
  return Status::Ok();
}

Status ParseUpstreams(const ConfigNode& n, ConsoleConfig* c) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode list, n.Child("upstreams"));
  if (list.IsNull()) return Status::Ok();
  if (!list.IsSequence())
    return InvalidArgumentError(n.Where("upstreams") +
                                ": expected a list of {name, type, tier, node, url}");
  std::set<std::string> names;
  std::map<std::string, std::string> node_tier;
  for (const ConfigNode& item : list.Items()) {
    if (!item.IsMap())
      return InvalidArgumentError(item.source() + ":" + std::to_string(item.line()) + ": key '" +
                                  item.path() + "': expected a map {name, type, tier, node, url}");
    STRATA_RETURN_IF_ERROR(item.CheckKeys({"name", "type", "tier", "node", "url"}));
    Upstream u;
    STRATA_RETURN_IF_ERROR(item.Require("name", &u.name));
    STRATA_RETURN_IF_ERROR(item.Get("type", &u.type));
    STRATA_RETURN_IF_ERROR(item.Require("tier", &u.tier));
    STRATA_RETURN_IF_ERROR(item.Get("node", &u.node));
    STRATA_RETURN_IF_ERROR(item.Require("url", &u.url));
    if (u.type.empty()) u.type = u.name;
    if (u.node.empty()) u.node = u.name;
    while (u.url.size() > 1 && u.url.back() == '/') u.url.pop_back();
    Status s = ValidateUpstream(u);
    if (!s.ok()) {  // the message starts with the field it is about
      std::string field = s.message().substr(0, s.message().find(' '));
      return InvalidArgumentError(item.Where(item.Has(field) ? field : "name") + ": " +
                                  s.message());
    }
    if (!names.insert(u.name).second)
      return InvalidArgumentError(item.Where("name") + ": duplicate upstream name '" + u.name +
                                  "'");
    auto [it, fresh] = node_tier.emplace(u.node, u.tier);
    if (!fresh && it->second != u.tier)
      return InvalidArgumentError(item.Where("tier") + ": node '" + u.node +
                                  "' is already in tier '" + it->second + "', not '" + u.tier +
                                  "'");
    c->upstreams.push_back(std::move(u));
  }
  return Status::Ok();
}

Status ResolveToken(const ConfigNode& n, ConsoleConfig* c) {
  if (!c->upstream_token_file.empty()) {
    std::ifstream in(c->upstream_token_file);
    if (!in)
      return InvalidArgumentError(n.Where("upstream_token_file") + ": cannot read '" +
                                  c->upstream_token_file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    c->upstream_token = Trim(ss.str());
    if (c->upstream_token.empty())
      return InvalidArgumentError(n.Where("upstream_token_file") + ": '" + c->upstream_token_file +
                                  "' is empty");
    return Status::Ok();
  }
  if (!c->upstream_token_env.empty()) {
    const char* env = std::getenv(c->upstream_token_env.c_str());
    if (env) c->upstream_token = Trim(env);
  }
  return Status::Ok();
}

}  // namespace

Status ValidateUpstream(const Upstream& u) {
  static const std::regex kName("[a-z0-9][a-z0-9_-]{0,63}");
  static const std::regex kNode("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  static const std::regex kUrlPort(
      R"(^(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:([0-9]{1,5}))?$)");
  if (!std::regex_match(u.name, kName))
    return InvalidArgumentError("name '" + u.name + "' must match [a-z0-9][a-z0-9_-]{0,63}");
  if (!std::regex_match(u.type, kName))
    return InvalidArgumentError("type '" + u.type + "' must match [a-z0-9][a-z0-9_-]{0,63}");
  if (u.tier != "roof" && u.tier != "edge" && u.tier != "fog" && u.tier != "cloud")
    return InvalidArgumentError("tier '" + u.tier + "' must be one of roof, edge, fog, cloud");
  if (!std::regex_match(u.node, kNode))
    return InvalidArgumentError("node '" + u.node + "' must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  std::smatch m;
  if (!std::regex_match(u.url, m, kUrlPort))
    return InvalidArgumentError("url '" + u.url +
                                "' must be http(s)://host[:port] (no path, query or credentials)");
  if (m[4].matched) {
    int port = std::stoi(m[4].str());
    if (port < 1 || port > 65535)
      return InvalidArgumentError("url '" + u.url + "': port must be in [1, 65535]");
  }
  return Status::Ok();
}

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "console"}));
  out->server.workers = kDefaultConsoleWorkers;
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  STRATA_ASSIGN_OR_RETURN(ConfigNode n, root.Child("console"));
  STRATA_RETURN_IF_ERROR(
      n.CheckKeys({"poll_interval", "poll_timeout", "proxy_timeout", "keepalive", "web_dir",
                   "upstreams", "upstream_token_env", "upstream_token_file", "upstream_ca_file"}));
  using std::chrono::milliseconds;
  ConsoleConfig& c = out->console;
  STRATA_RETURN_IF_ERROR(
      Duration(n, "poll_interval", &c.poll_interval, milliseconds(100), milliseconds(3600 * 1000)));
  STRATA_RETURN_IF_ERROR(
      Duration(n, "poll_timeout", &c.poll_timeout, milliseconds(10), milliseconds(60000)));
  STRATA_RETURN_IF_ERROR(
      Duration(n, "proxy_timeout", &c.proxy_timeout, milliseconds(100), milliseconds(600000)));
  STRATA_RETURN_IF_ERROR(
      Duration(n, "keepalive", &c.keepalive, milliseconds(100), milliseconds(600000)));
  STRATA_RETURN_IF_ERROR(n.Get("web_dir", &c.web_dir));
  STRATA_RETURN_IF_ERROR(n.Get("upstream_token_env", &c.upstream_token_env));
  STRATA_RETURN_IF_ERROR(n.Get("upstream_token_file", &c.upstream_token_file));
  STRATA_RETURN_IF_ERROR(n.Get("upstream_ca_file", &c.upstream_ca_file));
  if (!c.upstream_ca_file.empty() && ::access(c.upstream_ca_file.c_str(), R_OK) != 0)
    return InvalidArgumentError(n.Where("upstream_ca_file") + ": cannot read '" +
                                c.upstream_ca_file + "'");
  STRATA_RETURN_IF_ERROR(ParseUpstreams(n, &c));
  return ResolveToken(n, &c);
}

}  // namespace strata::console
