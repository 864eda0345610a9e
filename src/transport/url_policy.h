// Outbound URL policy against SSRF: checked when a service loads a URL it will call on behalf of
// configuration (notify webhooks, roof camera sources).
//
// CheckOutboundUrl rejects: a scheme outside the policy's list; userinfo ("user:pw@host") unless
// the policy allows it (camera sources);
// control characters, spaces or a malformed host/port; and any address — a literal or EVERY
// address the host name resolves to — that is unspecified (0.0.0.0/8, ::), link-local
// (169.254.0.0/16 incl. the cloud metadata 169.254.169.254, fe80::/10), multicast (224.0.0.0/4,
// ff00::/8), reserved/broadcast (240.0.0.0/4). Unless allow_private: loopback (127/8, ::1),
// RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10 and ULA fc00::/7 as well. IPv4-mapped
// IPv6 addresses are judged as IPv4. Error messages name scheme://host only (never the path or
// query, which often carry webhook secrets).
// Limits: the check runs at load time; a name that re-resolves later (DNS rebinding) is not
// re-checked at connect time (docs/security.md).
// Thread-safety: pure functions.
//
//   STRATA_RETURN_IF_ERROR(net::CheckOutboundUrl(url, net::WebhookPolicy(/*allow_private=*/false)));
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata::net {

// Resolves a host name to numeric addresses ("1.2.3.4", "fe80::1"); default: getaddrinfo.
using HostResolver = std::function<Result<std::vector<std::string>>(const std::string& host)>;

struct UrlPolicy {
  std::vector<std::string> schemes;  // lower-case, e.g. {"http", "https"}
  bool allow_private = false;        // loopback, RFC 1918, CGNAT, ULA allowed
  bool allow_userinfo = false;       // "user:pw@host" accepted (never echoed in errors)
  std::string what = "URL";          // names the URL in errors, e.g. "webhook URL"
  HostResolver resolver;             // empty = getaddrinfo
};

// http/https, private addresses only when allow_private.
UrlPolicy WebhookPolicy(bool allow_private);
// rtsp/rtsps/http/https/file; cameras live on private networks, so private addresses are allowed
// (link-local, multicast and unspecified are still refused), and IP cameras take their login as
// rtsp://user:pw@host, so userinfo is allowed (the address checks still apply to the host).
UrlPolicy CameraSourcePolicy();

struct ParsedUrl {
  std::string scheme;  // lower-case
  std::string host;    // without brackets for IPv6 literals; "" for file:///path
  int port = -1;       // -1 = not given
  bool has_userinfo = false;  // "user[:pw]@" before the host (its text is not kept)
};
// InvalidArgument for anything that is not scheme://[host][:port][/...] with a sane host.
Result<ParsedUrl> ParseOutboundUrl(std::string_view url);

// Classifies one numeric address: "" when public, else the reason ("link-local", "loopback",
// "private (RFC 1918)", ...). `blocked_always` tells whether allow_private cannot lift it.
std::string ClassifyAddress(const std::string& ip, bool* blocked_always);

// OK when `url` may be called under `policy`; InvalidArgument (or Unavailable when the name does
// not resolve) naming policy.what and scheme://host otherwise.
Status CheckOutboundUrl(std::string_view url, const UrlPolicy& policy);

}  // namespace strata::net
