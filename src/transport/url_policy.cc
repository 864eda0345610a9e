// Outbound URL policy against SSRF; see url_policy.h.
#include "url_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace strata::net {
namespace {

std::string ClassifyV4(uint32_t a, bool* always) {
  *always = true;
  if ((a >> 24) == 0) return "unspecified (0.0.0.0/8)";
  if ((a >> 16) == 0xA9FE) return "link-local (169.254.0.0/16, cloud metadata)";
  if ((a >> 28) == 0xE) return "multicast (224.0.0.0/4)";
  if ((a >> 28) == 0xF) return "reserved/broadcast (240.0.0.0/4)";
  *always = false;
  if ((a >> 24) == 127) return "loopback (127.0.0.0/8)";
  if ((a >> 24) == 10 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8) return "private (RFC 1918)";
  if ((a >> 22) == (0x6440 >> 6)) return "shared/CGNAT (100.64.0.0/10)";
  return "";
}

Result<std::vector<std::string>> Getaddrinfo(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return UnavailableError(std::string(gai_strerror(rc)));
  std::vector<std::string> out;
  for (addrinfo* p = res; p; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (p->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, buf, sizeof buf);
    else if (p->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, buf, sizeof buf);
    else
      continue;
    out.emplace_back(buf);
  }
  freeaddrinfo(res);
  if (out.empty()) return UnavailableError("no addresses");
  return out;
}

bool ValidHostName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

UrlPolicy WebhookPolicy(bool allow_private) {
  return {.schemes = {"http", "https"}, .allow_private = allow_private, .what = "webhook URL"};
}

UrlPolicy CameraSourcePolicy() {
  return {.schemes = {"rtsp", "rtsps", "http", "https", "file"},
          .allow_private = true,
          .allow_userinfo = true,
          .what = "camera source"};
}

Result<ParsedUrl> ParseOutboundUrl(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\')
      return InvalidArgumentError("contains spaces, control characters or backslashes");
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return InvalidArgumentError("has no scheme://");
  ParsedUrl p;
  p.scheme = std::string(url.substr(0, sep));
  std::transform(p.scheme.begin(), p.scheme.end(), p.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!std::all_of(p.scheme.begin(), p.scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      }))
    return InvalidArgumentError("has a malformed scheme");
  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    p.has_userinfo = true;
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("has an unclosed [IPv6]");
    p.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    in6_addr a6{};
    if (inet_pton(AF_INET6, p.host.c_str(), &a6) != 1)
      return InvalidArgumentError("has a malformed IPv6 literal");
  } else {
    size_t colon = authority.find(':');
    p.host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
    if (!p.host.empty() && !ValidHostName(p.host))
      return InvalidArgumentError("has a malformed host name");
  }
  if (!authority.empty()) {
    if (authority.front() != ':' || authority.size() < 2 || authority.size() > 6)
      return InvalidArgumentError("has a malformed port");
    std::string_view digits = authority.substr(1);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return InvalidArgumentError("has a malformed port");
    p.port = std::stoi(std::string(digits));
    if (p.port < 1 || p.port > 65535) return InvalidArgumentError("has a port out of range");
  }
  if (p.host.empty() && p.scheme != "file") return InvalidArgumentError("has no host");
  return p;
}

std::string ClassifyAddress(const std::string& ip, bool* blocked_always) {
  *blocked_always = true;
  in_addr a4{};
  if (inet_pton(AF_INET, ip.c_str(), &a4) == 1) return ClassifyV4(ntohl(a4.s_addr), blocked_always);
  in6_addr a6{};
  if (inet_pton(AF_INET6, ip.c_str(), &a6) != 1) return "not a numeric address";
  const uint8_t* b = a6.s6_addr;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    uint32_t v4 =
        (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    return ClassifyV4(v4, blocked_always);
  }
  static const uint8_t kZero[16] = {0};
  if (std::memcmp(b, kZero, 16) == 0) return "unspecified (::)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (b[0] == 0xff) return "multicast (ff00::/8)";
  *blocked_always = false;
  if (std::memcmp(b, kZero, 15) == 0 && b[15] == 1) return "loopback (::1)";
  if ((b[0] & 0xfe) == 0xfc) return "unique-local (fc00::/7)";
  return "";
}

Status CheckOutboundUrl(std::string_view url, const UrlPolicy& policy) {
  auto parsed = ParseOutboundUrl(url);
  if (!parsed.ok()) return InvalidArgumentError(policy.what + " " + parsed.status().message());
  const ParsedUrl& p = *parsed;
  const std::string shown = p.scheme + "://" + p.host;  // never the path/query (secrets)
  if (p.has_userinfo && !policy.allow_userinfo)
    return InvalidArgumentError(policy.what + " " + shown +
                                " carries credentials (user@host); put them in a secret file");
  if (std::find(policy.schemes.begin(), policy.schemes.end(), p.scheme) == policy.schemes.end()) {
    std::string allowed;
    for (const auto& s : policy.schemes) allowed += (allowed.empty() ? "" : ", ") + s;
    return InvalidArgumentError(policy.what + " scheme '" + p.scheme +
                                "' is not allowed (allowed: " + allowed + ")");
  }
  if (p.scheme == "file") {
    if (!p.host.empty() && p.host != "localhost")
      return InvalidArgumentError(policy.what + " file:// URL must not name a host");
    return Status::Ok();
  }
  std::vector<std::string> addrs;
  bool always = false;
  if (ClassifyAddress(p.host, &always) != "not a numeric address") {
    addrs.push_back(p.host);
  } else {
    auto r = policy.resolver ? policy.resolver(p.host) : Getaddrinfo(p.host);
    if (!r.ok())
      return UnavailableError(policy.what + " " + shown + ": cannot resolve host (" +
                              r.status().message() + ")");
    addrs = std::move(r).value();
    if (addrs.empty()) return UnavailableError(policy.what + " " + shown + ": no addresses");
  }
  for (const std::string& a : addrs) {
    std::string why = ClassifyAddress(a, &always);
    if (why.empty()) continue;
    if (!always && policy.allow_private) continue;
    std::string hint = always ? "" : " (set allow_private: true to permit private addresses)";
    return InvalidArgumentError(policy.what + " " + shown + " resolves to " + a + ": " + why +
                                " is not allowed" + hint);
  }
  return Status::Ok();
}

}  // namespace strata::net
