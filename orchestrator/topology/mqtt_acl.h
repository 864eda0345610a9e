// MQTT authentication and per-principal topic ACLs for mosquitto (docs/security.md).
//
// Generates what mosquitto 2.0 reads: a password_file ("user:$7$101$<salt>$<hash>" lines,
// PBKDF2-SHA512 exactly as mosquitto_passwd writes them, computed with OpenSSL so no password
// ever passes through argv) and an acl_file ("user <name>" + "topic read|write|readwrite <filter>"
// blocks). Every principal gets a random password written to <dir>/<name>.password (0600) for
// the service to read. allow_anonymous is false, so a client without credentials is refused; a
// publish outside a principal's ACL is silently dropped by the broker (MQTT 3.1.1 has no error
// for it), a subscribe outside it receives nothing.
// Thread-safety: pure functions; WriteMqttAuth writes files in `dir` only.
//
//   STRATA_ASSIGN_OR_RETURN(MqttAuthFiles f, WriteMqttAuth("var/mqtt-auth", DefaultPrincipals()));
//   conf << MosquittoAuthLines("var/mqtt-auth");  // "allow_anonymous false\npassword_file ..."
#pragma once

#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::topology {

struct MqttPrincipal {
  std::string name;                    // MQTT username, [a-z0-9_-]{1,64}
  std::vector<std::string> publish;    // topic filters it may publish to ("write")
  std::vector<std::string> subscribe;  // topic filters it may receive from ("read")
};

// Strata's services and what they publish/subscribe under `prefix` (default "strata"):
// identify → <p>/camera/+/face; notify → <p>/camera/+/alert and .../alert/snapshot;
// segment → reads <p>/seg/+/events[/+], writes <p>/seg/+/changes, <p>/seg/+/receipts/+ and
// <p>/node/+/availability;
// federate → <p>/fl/#; reader (dashboards, console, `strata surveil`) → reads <p>/#.
std::vector<MqttPrincipal> DefaultPrincipals(const std::string& prefix = "strata");

// One password_file line for (user, password) with a fresh random salt.
Result<std::string> MosquittoPasswordLine(const std::string& user, const std::string& password);
// The acl_file text for `principals`.
Result<std::string> RenderAclFile(const std::vector<MqttPrincipal>& principals);

struct MqttAuthFiles {
  std::string password_file, acl_file;
  std::vector<std::string> password_files;  // <dir>/<name>.password, in principals order
};

// Writes <dir>/passwd, <dir>/acl and <dir>/<name>.password (all 0600; dir 0700; when run as
// root, dir, passwd and acl are chowned to the `mosquitto` user, which mosquitto switches to
// before reading them; <dir>'s parents must be traversable by it). Existing
// <name>.password files are kept (their passwords reused), so re-running does not break running
// clients; new principals get new random passwords.
Result<MqttAuthFiles> WriteMqttAuth(const std::string& dir,
                                    const std::vector<MqttPrincipal>& principals);

// mosquitto.conf lines enabling the files in `dir` ("allow_anonymous false", password_file,
// acl_file) when <dir>/passwd and <dir>/acl exist; otherwise "allow_anonymous true" (the
// loopback-only default of `strata up`).
std::string MosquittoAuthLines(const std::string& dir);

}  // namespace strata::topology
