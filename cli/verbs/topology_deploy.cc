// strata deploy k8s FILE -o DIR: Kubernetes / KubeEdge manifests for a topology
// (orchestrator/topology/k8s.h): apply with `kubectl apply -k DIR`.
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
  auto files =
      topology::GenerateManifests(*t, {.namespace_name = a.namespace_name, .image = a.image});
  if (!files.ok()) return Fail(files.status().message(), 1);
  Status s = topology::WriteManifests(*files, a.out_dir);
  if (!s.ok()) return Fail(s.message(), 1);
  size_t objects = 0;
  for (const auto& f : *files) objects += f.objects.size();
  std::printf("wrote %zu files (%zu objects) to %s; apply with: kubectl apply -k %s\n",
              files->size(), objects, a.out_dir.c_str(), a.out_dir.c_str());
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
