// Request/Response helpers and RFC 9457 problem+json bodies.
#include <algorithm>
#include <cctype>

#include "strata/transport/http.h"

namespace strata::http {
namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? "" : it->second;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string Request::PathParam(std::string_view name) const {
  auto it = path_params.find(std::string(name));
  return it == path_params.end() ? "" : it->second;
}

Response Response::Json(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.content_type = "application/json";
  return r;
}

Response Response::Text(std::string body, std::string content_type, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

Response Response::Bytes(std::string body, std::string content_type, int status) {
  return Text(std::move(body), std::move(content_type), status);
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

std::string_view StatusTitle(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

Response Problem(int status, std::string_view detail, std::string_view instance,
                 nlohmann::json errors) {
  nlohmann::json j = {{"type", "about:blank"},
                      {"title", StatusTitle(status)},
                      {"status", status},
                      {"detail", detail}};
  if (!instance.empty()) j["instance"] = instance;
  if (!errors.is_null()) j["errors"] = std::move(errors);
  Response r = Response::Json(j, status);
  r.content_type = "application/problem+json";
  return r;
}

Response ProblemFromStatus(const Status& status, std::string_view instance) {
  return Problem(ToHttpStatus(status), status.message(), instance);
}

Result<nlohmann::json> ParseJsonBody(const Request& req) {
  if (req.body.empty()) return InvalidArgumentError("request body is empty; expected JSON");
  try {
    return nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgumentError("malformed JSON at byte " + std::to_string(e.byte) + ": " +
                                std::string(e.what()).substr(std::string(e.what()).find(':') + 2));
  } catch (const nlohmann::json::exception& e) {  // e.g. number overflow (1e999)
    return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
  }
}

std::optional<Response> CheckContentType(const Request& req, std::string_view type,
                                         bool allow_missing) {
  std::string ct = Lower(req.Header("content-type"));
  if (ct.empty() && allow_missing) return std::nullopt;
  std::string base = ct.substr(0, ct.find(';'));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  if (base == type) return std::nullopt;
  return Problem(415, "expected Content-Type " + std::string(type) + ", got '" + ct + "'",
                 req.path);
}

}  // namespace strata::http
