#include "strata/transport/http_client.h"

#include <httplib.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "service_token.h"
#include "strata/transport/link_meter.h"

namespace strata::http {

std::string ClientResponse::Header(std::string_view name) const {
  std::string key(name);
  std::transform(key.begin(), key.end(), key.begin(), ::tolower);
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

Result<nlohmann::json> ClientResponse::Json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const std::exception& e) {
    return InvalidArgumentError("response (HTTP " + std::to_string(status) + ") is not JSON");
  }
}

StatusCode StatusCodeFromHttp(int s) {
  if (s >= 200 && s < 300) return StatusCode::kOk;
  switch (s) {
    case 400: case 405: case 411: case 413: case 415: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409: return StatusCode::kAlreadyExists;
    case 422: return StatusCode::kFailedPrecondition;
    case 429: return StatusCode::kResourceExhausted;
    case 502: case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    default: return s >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
}

Status ClientResponse::ToStatus() const {
  StatusCode code = StatusCodeFromHttp(status);
  if (code == StatusCode::kOk) return Status::Ok();
  std::string detail = body.substr(0, 300);
  auto j = Json();
  if (j.ok() && j->is_object() && j->contains("detail") && (*j)["detail"].is_string())
    detail = (*j)["detail"].get<std::string>();
  return Status(code, "HTTP " + std::to_string(status) + ": " + detail);
}

HttpClient::HttpClient(ClientConfig config) : config_(std::move(config)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const ClientConfig& config) {
  static const std::regex kUrl(R"(^(http|https)://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?/?$)");
  if (!std::regex_match(config.base_url, kUrl))
    return InvalidArgumentError("base_url must look like http://host:port, got '" +
                                config.base_url + "'");
  if (config.max_retries < 0 || config.max_retries > 20)
    return InvalidArgumentError("max_retries must be in [0, 20]");
  std::unique_ptr<HttpClient> c(new HttpClient(config));
  std::string url = config.base_url;
  if (!url.empty() && url.back() == '/') url.pop_back();
  c->client_ = std::make_unique<httplib::Client>(url);
  auto& cl = *c->client_;
  auto secs = [](std::chrono::milliseconds ms) { return ms.count() / 1000; };
  auto usecs = [](std::chrono::milliseconds ms) { return (ms.count() % 1000) * 1000; };
  cl.set_connection_timeout(secs(config.connect_timeout), usecs(config.connect_timeout));
  cl.set_read_timeout(secs(config.read_timeout), usecs(config.read_timeout));
  cl.set_write_timeout(secs(config.write_timeout), usecs(config.write_timeout));
  cl.set_keep_alive(true);
  cl.set_tcp_nodelay(true);
  if (!config.token_file.empty()) {
    STRATA_ASSIGN_OR_RETURN(c->token_file_, auth::TokenFile::Open(config.token_file));
  } else if (!config.token.empty()) {
    cl.set_bearer_token_auth(config.token.c_str());
  }
  if (!config.ca_file.empty()) cl.set_ca_cert_path(config.ca_file.c_str());
  cl.enable_server_certificate_verification(config.verify_tls);
  return c;
}

Result<ClientResponse> HttpClient::SendOnce(const std::string& method, const std::string& path,
                                            const std::string& body,
                                            const std::string& content_type,
                                            const HeaderList& headers) {
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  if (token_file_) h.emplace("Authorization", "Bearer " + token_file_->Get());
  auto start = std::chrono::steady_clock::now();
  httplib::Result res(nullptr, httplib::Error::Unknown);
  {
    std::lock_guard lock(mu_);
    if (method == "GET") res = client_->Get(path, h);
    else if (method == "DELETE") res = client_->Delete(path, h);
    else if (method == "PUT") res = client_->Put(path, h, body, content_type);
    else if (method == "POST") res = client_->Post(path, h, body, content_type);
    else return InvalidArgumentError("unsupported method " + method);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string where = method + " " + config_.base_url + path;
  if (!res) {
    httplib::Error e = res.error();
    std::string why = httplib::to_string(e);
    if (e == httplib::Error::Read || e == httplib::Error::Write)
      return DeadlineExceededError(where + ": " + why + " (timeout or connection reset)");
    return UnavailableError(where + ": " + why);
  }
  LinkMeter::Global().Record(config_.link_src, config_.link_dst, body, secs);
  ClientResponse out;
  out.status = res->status;
  out.body = std::move(res->body);
  for (const auto& [k, v] : res->headers) {
    std::string key = k;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    out.headers.emplace(std::move(key), v);
  }
  return out;
}

Result<ClientResponse> HttpClient::Send(const std::string& method, const std::string& path,
                                        const std::string& body, const std::string& content_type,
                                        const HeaderList& headers, bool idempotent) {
  int attempts = idempotent ? config_.max_retries + 1 : 1;
  auto backoff = config_.backoff_initial;
  Result<ClientResponse> last = UnavailableError("no attempt made");
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(config_.backoff_max, backoff * 2);
    }
    last = SendOnce(method, path, body, content_type, headers);
    if (last.ok()) {
      int s = last->status;
      if (s != 502 && s != 503 && s != 504) return last;
    } else if (last.status().code() == StatusCode::kInvalidArgument) {
      return last;
    }
  }
  return last;
}

Result<ClientResponse> HttpClient::Get(const std::string& path, const HeaderList& headers) {
  return Send("GET", path, "", "", headers, true);
}
Result<ClientResponse> HttpClient::Delete(const std::string& path, const HeaderList& headers) {
  return Send("DELETE", path, "", "", headers, true);
}
Result<ClientResponse> HttpClient::Put(const std::string& path, const std::string& body,
                                       const std::string& content_type,
                                       const HeaderList& headers) {
  return Send("PUT", path, body, content_type, headers, true);
}
Result<ClientResponse> HttpClient::Post(const std::string& path, const std::string& body,
                                        const std::string& content_type,
                                        const HeaderList& headers, bool idempotent) {
  return Send("POST", path, body, content_type, headers, idempotent);
}

}  // namespace strata::http
