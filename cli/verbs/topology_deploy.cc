// strata deploy k8s FILE -o DIR: Kubernetes / KubeEdge manifests for a topology
// (orchestrator/topology/k8s.h): apply with `kubectl apply -k DIR`. With authentication on (the
// default: pods listen on 0.0.0.0) it first writes the signing key, tokens and MQTT passwords to
// DIR/secrets/ and the Secrets that carry them to DIR/secrets.yaml (0600).
#include <cstdio>
#include <memory>

#include "topology/k8s.h"
#include "verbs.h"

namespace strata::cli {
namespace {

struct DeployArgs {
  std::string file, out_dir;
  std::string namespace_name, image;
};

int RunK8s(const DeployArgs& a) {
  auto t = topology::LoadTopology(a.file);
  if (!t.ok()) return Fail(t.status().message(), 2);
  std::unique_ptr<topology::AuthMaterial> auth;
  if (topology::AuthOn(*t, /*non_loopback=*/true)) {  // pods listen on 0.0.0.0
    const std::string dir = a.out_dir + "/secrets";
    auto m = topology::WriteAuthMaterial(
        *t, dir, [&](const std::string& broker) { return dir + "/mqtt-" + broker; });
    if (!m.ok()) return Fail(m.status().message(), 1);
    auth = std::make_unique<topology::AuthMaterial>(std::move(m).value());
  }
  auto files = topology::GenerateManifests(
      *t, {.namespace_name = a.namespace_name, .image = a.image, .auth = auth.get()});
  if (!files.ok()) return Fail(files.status().message(), 1);
  Status s = topology::WriteManifests(*files, a.out_dir);
  if (!s.ok()) return Fail(s.message(), 1);
  size_t objects = 0;
  for (const auto& f : *files) objects += f.objects.size();
  std::printf("wrote %zu files (%zu objects) to %s; apply with: kubectl apply -k %s\n",
              files->size(), objects, a.out_dir.c_str(), a.out_dir.c_str());
  if (auth)
    std::printf(
        "authentication on: Secrets with the signing key, %zu service tokens and MQTT passwords "
        "are in %s/secrets.yaml, their source files in %s/ (all 0600; re-runs reuse the key and "
        "passwords); keep both out of version control. Operator token: %s\n",
        t->services.size(), a.out_dir.c_str(), auth->dir.c_str(),
        auth->token_files.count("operator") ? auth->token_files.at("operator").c_str() : "-");
  else
    std::printf(
        "authentication off (security.auth: off): every service has server.auth "
        "{enabled: false}\n");
  return 0;
}

}  // namespace

void RegisterDeploy(CLI::App& app, Context& ctx) {
  auto* deploy = app.add_subcommand("deploy", "Generate deployment manifests for a topology");
  deploy->require_subcommand(1);
  auto a = std::make_shared<DeployArgs>();
  auto* k8s = deploy->add_subcommand(
      "k8s", "Kubernetes/KubeEdge: Deployment + Service + ConfigMap per service, tier affinity");
  k8s->add_option("file", a->file, "Topology file")->required();
  k8s->add_option("-o,--out", a->out_dir, "Output directory")->required();
  k8s->add_option("--namespace", a->namespace_name, "Override kubernetes.namespace");
  k8s->add_option("--image", a->image, "Override kubernetes.image (the strata image)");
  k8s->callback([&ctx, a] { ctx.action = [a] { return RunK8s(*a); }; });
}

}  // namespace strata::cli
