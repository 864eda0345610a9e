#include "hello_routes.h"

#include <regex>
#include <thread>

namespace strata::embedded {
extern const std::string_view hello_openapi;
}

namespace strata::hello {
namespace {
Result<http::Response> Hello(const http::Request& r) {
  static const std::regex kName("[A-Za-z0-9 _.-]{1,64}");
  std::string name = r.Query("name").value_or("world");
  if (!std::regex_match(name, kName))
    return InvalidArgumentError("query 'name' must be 1-64 letters, digits, spaces or _.-");
  return http::Response::Json({{"greeting", "hello, " + name}, {"service", "hello"}});
}

Result<http::Response> Echo(const http::Request& r) {
  if (auto bad = http::CheckContentType(r, "application/json")) return *bad;
  STRATA_ASSIGN_OR_RETURN(nlohmann::json body, http::ParseJsonBody(r));
  return http::Response::Json(body);
}

Result<http::Response> Sleep(const http::Request& r) {
  std::string ms_text = r.Query("ms").value_or("100");
  if (ms_text.empty() || ms_text.size() > 5 || ms_text.find_first_not_of("0123456789") != std::string::npos)
    return InvalidArgumentError("query 'ms' must be an integer in [0, 10000]");
  int ms = std::stoi(ms_text);
  if (ms > 10000) return InvalidArgumentError("query 'ms' must be an integer in [0, 10000]");
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return http::Response::Json({{"slept_ms", ms}});
}

}  // namespace

void RegisterRoutes(http::HttpServer& server) {
  server.Route("GET", "/api/v1/hello", Hello);
  server.Route("POST", "/api/v1/echo", Echo);
  server.Route("GET", "/api/v1/sleep", Sleep);
  server.SetOpenApi(std::string(OpenApi()));
}

std::string_view OpenApi() { return embedded::hello_openapi; }

}  // namespace strata::hello
