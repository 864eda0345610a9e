// Authentication on every link of a topology (`security:` block, docs/topology.md "Security"):
// who calls whom, the credentials `strata up` and `strata deploy k8s` issue, and the keys they
// inject into each service's generated config.
//  - Callers: a service is called by every service whose config references it (${svc.url|host|
//    port}), by every console and by the operator (principal "operator").
//  - Credentials (WriteAuthMaterial): one signing key (service_token.h key file), one token per
//    service (sub = service name, tier = its node's tier, exp = security.token_ttl) plus the
//    operator's, and per broker mosquitto passwd + acl + one password per MQTT principal
//    (mqtt_acl.h; each service that references a broker is a principal named after it).
//  - Config (InjectAuth): server.auth {enabled, key_file, allow: callers}; `token_file` in every
//    section that holds a ${svc.url} reference (an HTTP uplink); `username` + `password_file` in
//    every section that holds a ${broker.uri} reference; console.upstream_token_file. Keys the
//    config already sets are kept.
// Secrets are written to 0600 files only, never to argv, logs or Status messages.
// TLS (`security.tls`, same auto rule; tls_files.cc): WriteTlsMaterial runs `strata certs` for a
// CA + one certificate per service and broker under <dir> (keys 0600; reused on re-runs) and
// InjectTls adds server.tls {cert_file, key_file}, `ca_file` in the same sections as token_file /
// username, and console.upstream_ca_file. The launcher then hands out https:// and mqtts:// urls.
// Thread-safety: pure functions, except Write*Material, which write files in their dirs.
//
//   if (AuthOn(t, LocalBindsNonLoopback(t))) {
//     STRATA_ASSIGN_OR_RETURN(AuthMaterial m, WriteAuthMaterial(t, "var/up/auth", mqtt_dir_of));
//     STRATA_ASSIGN_OR_RETURN(std::string yaml, InjectAuth(t, svc, LocalPaths(m, svc, t)));
//   }
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"
#include "topology/mqtt_acl.h"
#include "topology/topology.h"

namespace strata::topology {

inline constexpr std::string_view kOperatorPrincipal = "operator";

// security.auth on → true, off → false, auto → `non_loopback`.
bool AuthOn(const Topology& t, bool non_loopback);
// `strata up` binds every service to 127.0.0.1 unless its `args:` pass another --host.
bool LocalBindsNonLoopback(const Topology& t);

// Principals allowed to call `s`: referencing services (topology order), consoles, "operator".
std::vector<std::string> Callers(const Topology& t, const Service& s);
// The first broker `s` references, or "".
std::string BrokerOf(const Topology& t, const Service& s);
// One MQTT principal per service that references a broker (ACL by its type: identify, notify,
// segment, federate as DefaultPrincipals; any other type reads <prefix>/#), "replay" (publishes
// events for segments: `strata segment replay`) when a segment uses MQTT, plus "operator" (reads
// <prefix>/#). The prefix is the `prefix` key of the service's MQTT section, or "strata".
Result<std::vector<MqttPrincipal>> MqttPrincipals(const Topology& t);

// Where one service finds its credentials (paths as the service sees them).
struct CredentialPaths {
  std::string key_file;            // the signing key (verifies incoming tokens)
  std::string token_file;          // its own token (outgoing HTTP calls)
  std::string mqtt_password_file;  // its MQTT password ("" = no broker)
};

// `s.config_yaml` (references unresolved) with the auth keys above added.
Result<std::string> InjectAuth(const Topology& t, const Service& s, const CredentialPaths& p);

struct BrokerAuth {
  std::string dir, passwd_text, acl_text;
  std::map<std::string, std::string> passwords, password_files;  // principal → value / path
};

struct AuthMaterial {
  std::string dir, key_file, key_text;
  std::map<std::string, std::string> tokens, token_files;  // principal → token / path
  std::map<std::string, BrokerAuth> brokers;               // broker name → its files
};

// Creates `dir` (0700); reuses <dir>/signing.key when it parses, else writes a new one (0600);
// issues <dir>/<service>.token and <dir>/operator.token (0600, atomically replaced); writes
// WriteMqttAuth(mqtt_dir(broker)) for every broker (passwords reused across runs).
Result<AuthMaterial> WriteAuthMaterial(
    const Topology& t, const std::string& dir,
    const std::function<std::string(const std::string& broker)>& mqtt_dir);

// Paths of `s`'s credentials inside `m` (strata up: the files themselves).
CredentialPaths LocalPaths(const AuthMaterial& m, const Topology& t, const Service& s);

// ---- TLS ----

// security.tls on → true, off → false, auto → `non_loopback` (the rule of AuthOn).
bool TlsOn(const Topology& t, bool non_loopback);
// The non-loopback --host a service's `args:` pass, or "" (it binds 127.0.0.1).
std::string NonLoopbackHost(const Service& s);

struct TlsMaterial {
  std::string dir, ca_file;
  std::map<std::string, std::pair<std::string, std::string>> certs;  // unit → {cert, key}
};

// Runs `<strata_bin> certs --out <dir> --service <unit>[:<host>]...` (idempotent: the CA and
// every certificate it verifies are kept) for every service and broker; then copies each
// broker's cert, key and the CA into broker_dir(broker) (0700; handed to the mosquitto user when
// we are root, as mosquitto reads them after dropping privileges). A unit named "ca" is refused.
Result<TlsMaterial> WriteTlsMaterial(
    const Topology& t, const std::string& dir, const std::string& strata_bin,
    const std::function<std::string(const std::string& broker)>& broker_dir);

struct TlsPaths {
  std::string ca_file, cert_file, key_file;  // cert/key: "" = no server.tls
};

// `s.config_yaml` (references unresolved) with server.tls, ca_file in every section holding a
// ${svc.url} or ${broker.uri} reference, and console.upstream_ca_file. Keys already set are kept.
Result<std::string> InjectTls(const Topology& t, const Service& s, const TlsPaths& p);

}  // namespace strata::topology
