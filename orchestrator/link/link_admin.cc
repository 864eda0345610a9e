// Admin API of the link proxy (see link_admin.h).
#include "link_admin.h"

namespace strata::embedded {
extern const std::string_view link_openapi;
}

namespace strata::link {
namespace {

nlohmann::json FieldErrorsJson(const std::vector<FieldError>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : errors) out.push_back({{"field", e.field}, {"reason", e.reason}});
  return out;
}

// 400 when any problem is structural (unknown key, wrong type), 422 when all are ranges.
http::Response SettingsProblem(const http::Request& r, const std::vector<FieldError>& errors) {
  bool semantic = std::all_of(errors.begin(), errors.end(), [](auto& e) { return e.semantic; });
  std::string detail = errors.front().field.empty()
                           ? errors.front().reason
                           : "field '" + errors.front().field + "': " + errors.front().reason;
  if (errors.size() > 1) detail += " (and " + std::to_string(errors.size() - 1) + " more)";
  return http::Problem(semantic ? 422 : 400, detail, r.path, FieldErrorsJson(errors));
}

Result<http::Response> GetLink(LinkProxy& proxy) {
  return http::Response::Json(LinkStatusJson(proxy));
}

Result<http::Response> PutLink(LinkProxy& proxy, const http::Request& r) {
  if (auto bad = http::CheckContentType(r, "application/json")) return *bad;
  STRATA_ASSIGN_OR_RETURN(nlohmann::json body, http::ParseJsonBody(r));
  LinkSettings settings = proxy.settings();
  auto errors = ApplySettingsJson(body, &settings, {"partitioned"});
  if (!errors.empty()) return SettingsProblem(r, errors);
  if (body.contains("partitioned") && !body["partitioned"].is_boolean())
    return SettingsProblem(r, {{"partitioned", "expected a boolean"}});
  STRATA_RETURN_IF_ERROR(proxy.SetSettings(settings));
  if (body.contains("partitioned")) {
    if (body["partitioned"].get<bool>())
      proxy.Partition();
    else
      proxy.Heal();
  }
  return http::Response::Json(LinkStatusJson(proxy));
}

Result<http::Response> PostPartition(LinkProxy& proxy, const http::Request& r) {
  std::optional<PartitionMode> mode;
  if (!r.body.empty()) {
    if (auto bad = http::CheckContentType(r, "application/json")) return *bad;
    STRATA_ASSIGN_OR_RETURN(nlohmann::json body, http::ParseJsonBody(r));
    if (!body.is_object()) return SettingsProblem(r, {{"", "expected a JSON object"}});
    for (auto& [key, v] : body.items()) {
      if (key != "mode") return SettingsProblem(r, {{key, "unknown key (known: mode)"}});
      auto m = v.is_string() ? ParsePartitionMode(v.get<std::string>())
                             : Result<PartitionMode>(InvalidArgumentError("not a string"));
      if (!m.ok())
        return SettingsProblem(r, {{"mode", "expected \"blackhole\" or \"reset\"", v.is_string()}});
      mode = *m;
    }
  }
  proxy.Partition(mode);
  return http::Response::Json(LinkStatusJson(proxy));
}

}  // namespace

nlohmann::json LinkStatusJson(const LinkProxy& proxy) {
  const LinkProxyConfig& c = proxy.config();
  LinkStats st = proxy.stats();
  return {
      {"name", c.name},
      {"listen", c.listen_host + ":" + std::to_string(proxy.port())},
      {"upstream", c.upstream_host + ":" + std::to_string(c.upstream_port)},
      {"settings", ToJson(proxy.settings())},
      {"partitioned", st.partitioned},
      {"partition_mode", ToString(proxy.partition_mode())},
      {"stats",
       {{"bytes", {{"upstream", st.bytes[kUpstream]}, {"downstream", st.bytes[kDownstream]}}},
        {"retransmits",
         {{"upstream", st.retransmits[kUpstream]}, {"downstream", st.retransmits[kDownstream]}}},
        {"connections_total", st.connections_total},
        {"connections_active", st.connections_active},
        {"connections_refused", st.connections_refused},
        {"partitions_total", st.partitions_total},
        {"half_opened_total", st.half_opened_total}}}};
}

void RegisterLinkRoutes(http::HttpServer& server, LinkProxy& proxy) {
  LinkProxy* p = &proxy;
  server.Route("GET", "/api/v1/link", [p](const http::Request&) { return GetLink(*p); });
  server.Route("PUT", "/api/v1/link", [p](const http::Request& r) { return PutLink(*p, r); });
  server.Route("POST", "/api/v1/link/partition",
               [p](const http::Request& r) { return PostPartition(*p, r); });
  server.Route("POST", "/api/v1/link/half-open", [p](const http::Request&) {
    const int n = p->HalfOpen();
    nlohmann::json j = LinkStatusJson(*p);
    j["half_opened"] = n;
    return Result<http::Response>(http::Response::Json(j));
  });
  server.Route("DELETE", "/api/v1/link/partition", [p](const http::Request&) {
    p->Heal();
    return Result<http::Response>(http::Response::Json(LinkStatusJson(*p)));
  });
  server.SetOpenApi(std::string(LinkOpenApi()));
}

std::string_view LinkOpenApi() { return embedded::link_openapi; }

}  // namespace strata::link
