// Kubernetes / KubeEdge manifests for a Topology (`strata deploy k8s`). Per service: a ConfigMap
// with its config (references resolved to in-cluster DNS names, `${detect.url}` →
// http://detect:8080), a Deployment (probes on /healthz and /readyz, resource requests/limits,
// config and data volumes, non-root) and a Service; per broker a mosquitto ConfigMap, Deployment
// and Service. Tiers become node affinity on `strata.io/tier`; edge and roof tiers also require
// KubeEdge edge nodes (`node-role.kubernetes.io/edge`) and tolerate their taint; the topology
// node is a preferred `strata.io/node`. Emulated links are not applied (real networks are).
// Pods listen on 0.0.0.0, so `security.auth: auto` means on here: pass the credentials
// (WriteAuthMaterial) and secrets.yaml holds Secrets — the signing key, a token (and MQTT
// password) per service, mosquitto passwd + acl per broker — mounted read-only at
// /etc/strata-auth (services) and /mosquitto/auth (brokers); configs point at those paths.
// `security.auth: off` writes `server.auth: {enabled: false}` explicitly instead.
// Thread-safety: pure functions.
//
//   STRATA_ASSIGN_OR_RETURN(auto files, GenerateManifests(topology, {}));
//   STRATA_RETURN_IF_ERROR(WriteManifests(files, "out/k8s"));
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "topology/auth.h"
#include "topology/topology.h"

namespace strata::topology {

struct ManifestFile {
  std::string name;                             // e.g. "detect.yaml"
  std::vector<nlohmann::ordered_json> objects;  // Kubernetes objects, in apply order
  std::string yaml;                             // the file's text (documents separated by ---)
  bool secret = false;                          // holds secret values: written 0600
};

// Overrides of the topology's `kubernetes:` section ("" / 0 = keep).
struct K8sOverrides {
  std::string namespace_name, image;
  const AuthMaterial* auth = nullptr;  // required when AuthOn(t, true)
};

// Files: namespace.yaml, [secrets.yaml,] one <unit>.yaml per broker and service,
// kustomization.yaml. FailedPrecondition when auth is on and o.auth is missing.
Result<std::vector<ManifestFile>> GenerateManifests(const Topology& t, const K8sOverrides& o);
// Writes the files into `dir` (created). Unavailable on I/O errors.
Status WriteManifests(const std::vector<ManifestFile>& files, const std::string& dir);

// JSON → block YAML: strings that would read as another type are quoted, multi-line strings
// become literal blocks.
std::string ToYaml(const nlohmann::ordered_json& value);

// Internal to k8s.cc (k8s_auth.cc): where the mounted credentials are, the pod volumes and
// mounts that put them there, and the Secret objects (secrets.yaml).
inline constexpr const char* kServiceAuthDir = "/etc/strata-auth";
inline constexpr const char* kBrokerAuthDir = "/mosquitto/auth";
CredentialPaths K8sCredentialPaths(const Topology& t, const Service& s, const AuthMaterial& m);
void AddServiceAuthVolume(const Service& s, nlohmann::ordered_json* container,
                          nlohmann::ordered_json* volumes);
void AddBrokerAuthVolume(const Broker& b, nlohmann::ordered_json* container,
                         nlohmann::ordered_json* volumes);
ManifestFile AuthSecrets(const Topology& t, const AuthMaterial& m);

}  // namespace strata::topology
