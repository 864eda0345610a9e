// Helpers for the security matrix (tests/security): a raw HTTP/1.1 client that sends exactly the
// Authorization header it is given, a set of credentials (right, none, wrong signature, expired,
// other principal, other tier, foreign key) made with the service-token library from a key file
// in a TempDir, a real service binary started on port 0, and a scanner that looks for secret
// strings in any text (logs, bodies, /proc/<pid>/cmdline).
// Thread-safety: one harness per test thread.
//
//   SecurityHarness h;                      // keys + tokens + static token in h.dir()
//   auto svc = h.StartService("hello", "");  // real build/bin/strata-hello with server.auth
//   RawResponse r = RawRequest(svc->port, "GET", "/api/v1/hello", h.creds()[0].header);
//   EXPECT_EQ(FindSecret(svc->proc->Stderr(), h.secrets()), "");
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/testing/fixtures.h"

namespace strata::security_test {

struct RawResponse {
  int status = 0;  // 0 when no status line arrived
  std::string content_type;
  std::string www_authenticate;
  std::string body;
};

// One request on a fresh connection (Connection: close); reads until EOF, the Content-Length is
// satisfied or ~1.5 s pass (a streaming answer keeps only what arrived). `auth` is the whole
// Authorization header value, "" = no header. POST/PUT send `body` as application/json.
RawResponse RawRequest(int port, const std::string& method, const std::string& path,
                       const std::string& auth, const std::string& body = "");

// The same with any body type (e.g. image/jpeg).
RawResponse RawRequestTyped(int port, const std::string& method, const std::string& path,
                            const std::string& body, const std::string& content_type,
                            const std::string& auth = "");

struct Credential {
  std::string name;    // "none", "wrong-signature", ...
  std::string header;  // Authorization value ("" = none)
  int want = 0;        // 401 / 403, or 0 = must be let through (neither 401 nor 403)
};

// A running service binary.
struct RunningService {
  std::unique_ptr<testing::Subprocess> proc;
  int port = 0;
};

class SecurityHarness {
 public:
  // Generates the key file (two keys: the signer and one older that still verifies), the tokens
  // and a static admin token file. Allow list: ["ops", "tier:cloud"].
  SecurityHarness();
  const testing::TempDir& dir() const { return dir_; }
  const std::vector<Credential>& creds() const { return creds_; }
  // Every string that must never be seen outside the key/token files: full tokens, their
  // signatures, key hex, raw key bytes, base64/base64url of the key bytes, the static token.
  const std::vector<std::string>& secrets() const { return secrets_; }
  const std::string& right_header() const { return right_header_; }
  std::string error() const { return error_; }  // non-empty when set-up failed

  // The `server:` section with auth on (key_file, allow, static token_file, no throttling).
  std::string ServerYaml(bool metrics_public = false) const;
  // Starts build/bin/strata-<service> --port 0 with `config_yaml` (written to the TempDir) and
  // --data-dir <tmp>/<service>-data; waits for the port file (15 s).
  Result<RunningService> StartService(const std::string& service, const std::string& config_yaml,
                                      const std::vector<std::string>& extra_args = {}) const;

 private:
  testing::TempDir dir_;
  std::vector<Credential> creds_;
  std::vector<std::string> secrets_;
  std::string right_header_;
  std::string error_;
};

// The forms a raw key may leak in: the bytes, hex (both cases, and 24-char head/tail), base64 and
// base64url (40-char heads). For raw keys of >= 16 bytes.
std::vector<std::string> SecretForms(const std::string& raw);

// The first of `secrets` found in `text` (shortened for the message), "" when none is.
std::string FindSecret(const std::string& text, const std::vector<std::string>& secrets);

// /proc/<pid>/cmdline with NULs turned into spaces ("" when unreadable).
std::string ProcCmdline(int pid);

}  // namespace strata::security_test
