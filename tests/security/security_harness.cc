// Implementation of the security-matrix helpers (see security_harness.h).
#include "security_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "transport/service_token.h"

namespace strata::security_test {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Base64Std(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

std::string Hex(const std::string& raw) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string RandomHex(int bytes) {
  std::string raw(static_cast<size_t>(bytes), '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return Hex(raw);
}

void WritePrivate(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
}

// Parses "HTTP/1.1 401 ...\r\nheaders\r\n\r\nbody" into `r`; false until the head is complete.
bool ParseHead(const std::string& raw, RawResponse* r, size_t* body_at, long* content_length) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.size() >= 12) r->status = std::atoi(line.c_str() + 9);
  *content_length = -1;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (key == "content-type") r->content_type = value;
    if (key == "www-authenticate") r->www_authenticate = value;
    if (key == "content-length") *content_length = std::atol(value.c_str());
  }
  *body_at = end + 4;
  return true;
}

}  // namespace

RawResponse RawRequest(int port, const std::string& method, const std::string& path,
                       const std::string& auth, const std::string& body) {
  return RawRequestTyped(port, method, path, body, "application/json", auth);
}

RawResponse RawRequestTyped(int port, const std::string& method, const std::string& path,
                            const std::string& body, const std::string& content_type,
                            const std::string& auth) {
  RawResponse r;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return r;
  timeval tv{.tv_sec = 1, .tv_usec = 500000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  const bool has_body = method == "POST" || method == "PUT";
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!auth.empty()) req += "Authorization: " + auth + "\r\n";
  if (has_body) {
    req += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
  }
  req += "\r\n";
  if (has_body) req += body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[8192];
  size_t body_at = 0;
  long content_length = -1;
  bool head = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  for (int i = 0; i < 4096 && std::chrono::steady_clock::now() < deadline; ++i) {  // bounded
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // EOF, error or SO_RCVTIMEO
    raw.append(buf, static_cast<size_t>(n));
    if (!head) head = ParseHead(raw, &r, &body_at, &content_length);
    if (head && content_length >= 0 && raw.size() >= body_at + static_cast<size_t>(content_length))
      break;
    // HEAD has no body; a stream (SSE) never ends: the head is what is checked.
    if (head && (method == "HEAD" || r.content_type.rfind("text/event-stream", 0) == 0)) break;
    if (raw.size() > (1u << 20)) break;
  }
  ::close(fd);
  if (!head) head = ParseHead(raw, &r, &body_at, &content_length);
  if (head) r.body = raw.substr(body_at);
  return r;
}

SecurityHarness::SecurityHarness() {
  Result<std::string> old_line = auth::NewKeyLine(), new_line = auth::NewKeyLine(),
                      foreign_line = auth::NewKeyLine();
  if (!old_line.ok() || !new_line.ok() || !foreign_line.ok()) {
    error_ = "NewKeyLine failed";
    return;
  }
  const std::string key_file = dir_.File("keys");
  WritePrivate(key_file, "# security matrix keys\n" + *old_line + *new_line);
  Result<auth::KeySet> keys = auth::KeySet::LoadFile(key_file);
  Result<auth::KeySet> foreign = auth::KeySet::Parse(*foreign_line, "foreign");
  if (!keys.ok() || !foreign.ok()) {
    error_ = "key set did not load";
    return;
  }
  using std::chrono::seconds;
  const auto now = std::chrono::system_clock::now();
  auto issue = [&](const auth::KeySet& ks, const std::string& sub, const std::string& tier,
                   seconds ttl, std::chrono::system_clock::time_point at) {
    Result<std::string> t = auth::IssueToken(ks, sub, tier, ttl, at);
    if (!t.ok()) error_ = "IssueToken failed: " + t.status().ToString();
    return t.ok() ? *t : std::string();
  };
  const std::string right = issue(*keys, "ops", "edge", seconds(600), now);
  const std::string by_tier = issue(*keys, "cloud-1", "cloud", seconds(600), now);
  const std::string expired = issue(*keys, "ops", "edge", seconds(60), now - seconds(3600));
  const std::string other_principal = issue(*keys, "mallory", "edge", seconds(600), now);
  const std::string other_tier = issue(*keys, "detect", "fog", seconds(600), now);
  const std::string foreign_key = issue(*foreign, "ops", "edge", seconds(600), now);
  // Same claims and kid, signature from another key (last character flipped is not enough:
  // base64url padding bits may not change the bytes).
  std::string wrong_sig = right.substr(0, right.rfind('.') + 1) +
                          foreign_key.substr(foreign_key.rfind('.') + 1);
  // The older key still verifies: a token signed with it must be let through.
  auth::KeySet old_only = std::move(auth::KeySet::Parse(*old_line, "old")).value();
  const std::string old_key_token = issue(old_only, "ops", "edge", seconds(600), now);
  const std::string static_token = "SENTINEL-static-" + RandomHex(16);
  WritePrivate(dir_.File("static.token"), static_token + "\n");
  right_header_ = "Bearer " + right;
  creds_ = {
      {"none", "", 401},
      {"basic-scheme", "Basic b3BzOnBhc3N3b3Jk", 401},
      {"garbage", "Bearer not-a-token", 401},
      {"wrong-signature", "Bearer " + wrong_sig, 401},
      {"foreign-key", "Bearer " + foreign_key, 401},
      {"expired", "Bearer " + expired, 401},
      {"other-principal", "Bearer " + other_principal, 403},
      {"other-tier", "Bearer " + other_tier, 403},
      {"right", right_header_, 0},
      {"right-by-tier", "Bearer " + by_tier, 0},
      {"older-key", "Bearer " + old_key_token, 0},
      {"static-admin", "Bearer " + static_token, 0},
  };
  for (const std::string& t : {right, by_tier, expired, other_principal, other_tier, foreign_key,
                               wrong_sig, old_key_token}) {
    secrets_.push_back(t);
    secrets_.push_back(t.substr(t.rfind('.') + 1));  // the signature alone
  }
  secrets_.push_back(static_token);
  secrets_.push_back(static_token.substr(16));  // its random part
  for (const auto* ks : {&*keys, &*foreign}) {
    for (const auth::SigningKey& k : ks->keys()) {
      for (std::string& f : SecretForms(k.secret)) secrets_.push_back(std::move(f));
    }
  }
}

std::string SecurityHarness::ServerYaml(bool metrics_public) const {
  return "server:\n"
         "  auth:\n"
         "    enabled: true\n"
         "    key_file: " + dir_.File("keys") + "\n"
         "    token_file: " + dir_.File("static.token") + "\n"
         "    allow: [ops, \"tier:cloud\"]\n"
         "    max_failures_per_minute: 0\n"
         "    metrics_public: " + (metrics_public ? "true" : "false") + "\n";
}

Result<RunningService> SecurityHarness::StartService(
    const std::string& service, const std::string& config_yaml,
    const std::vector<std::string>& extra_args) const {
  const std::string bin = std::string(STRATA_BINARY_DIR) + "/bin/strata-" + service;
  const std::string config = dir_.File(service + ".yaml");
  std::ofstream(config) << config_yaml;
  const std::string port_file = dir_.File(service + ".port");
  std::remove(port_file.c_str());  // a previous run's file would name a dead port
  std::vector<std::string> argv = {bin,          "--port",     "0",
                                   "--port-file", port_file,   "--config",
                                   config,        "--data-dir", dir_.File(service + "-data"),
                                   "--log-level", "debug"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<testing::Subprocess> proc,
                          testing::Subprocess::Start(argv));
  Result<int> port = testing::WaitForPortFile(port_file, std::chrono::seconds(15));
  if (!port.ok()) {
    return UnavailableError("strata-" + service + " did not start: " + proc->Stderr());
  }
  return RunningService{std::move(proc), *port};
}

std::vector<std::string> SecretForms(const std::string& raw) {
  const std::string hex = Hex(raw);
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  return {raw,
          hex,
          upper,
          hex.substr(0, 24),
          hex.substr(hex.size() - 24),
          Base64Std(raw).substr(0, 40),
          auth::Base64UrlEncode(raw).substr(0, 40)};
}

std::string FindSecret(const std::string& text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    if (s.size() >= 16 && text.find(s) != std::string::npos) {
      std::string shown;
      for (unsigned char c : s.substr(0, 12)) shown += std::isprint(c) ? static_cast<char>(c) : '?';
      return shown + "... (" + std::to_string(s.size()) + " bytes)";
    }
  }
  return "";
}

std::string ProcCmdline(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::replace(s.begin(), s.end(), '\0', ' ');
  return s;
}

}  // namespace strata::security_test
