// The explicit registry of `strata` verbs: each verb lives in cli/verbs/<verb>.cc and exposes one
// Register function; RegisterAllVerbs (registry.cc) lists them. No static self-registration.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "strata/core/status.h"

namespace strata::cli {

struct Context {
  std::string log_level = "warn";
  std::string log_format = "text";
  // Set by the chosen verb's callback; returns the process exit code (0 ok, 1 failure, 2 usage).
  std::function<int()> action;
};

void RegisterVersion(CLI::App& app, Context& ctx);
void RegisterHealth(CLI::App& app, Context& ctx);
void RegisterConfig(CLI::App& app, Context& ctx);
void RegisterToken(CLI::App& app, Context& ctx);  // token.cc (src/transport/service_token.h)
void RegisterCerts(CLI::App& app, Context& ctx);  // certs.cc (OpenSSL)
void RegisterSegment(CLI::App& app, Context& ctx);  // segment.cc (+ segment_*.cc, svg.cc)
void RegisterSurveil(CLI::App& app, Context& ctx);  // surveil.cc (+ surveil_*.cc)
void RegisterExperiment(CLI::App& app, Context& ctx);  // experiment.cc (placement)
void RegisterFederate(CLI::App& app, Context& ctx);  // federate.cc (+ federate_report.cc, svg.cc)
void RegisterLink(CLI::App& app, Context& ctx);  // link.cc (orchestrator/link)
void RegisterUp(CLI::App& app, Context& ctx);      // topology_up.cc (orchestrator/topology)
void RegisterStatus(CLI::App& app, Context& ctx);  // topology_status.cc
void RegisterDown(CLI::App& app, Context& ctx);    // topology_status.cc
void RegisterDeploy(CLI::App& app, Context& ctx);  // topology_deploy.cc
void RegisterChaos(CLI::App& app, Context& ctx);   // chaos.cc (orchestrator/chaos, svg.cc)
void RegisterSoak(CLI::App& app, Context& ctx);    // soak.cc (orchestrator/chaos/soak*, svg.cc)

inline void RegisterAllVerbs(CLI::App& app, Context& ctx) {
  RegisterVersion(app, ctx);
  RegisterHealth(app, ctx);
  RegisterConfig(app, ctx);
  RegisterToken(app, ctx);
  RegisterCerts(app, ctx);
#if STRATA_CLI_SEGMENT
  RegisterSegment(app, ctx);
#endif
#if STRATA_CLI_SURVEIL
  RegisterSurveil(app, ctx);
#endif
#if STRATA_CLI_EXPERIMENT
  RegisterExperiment(app, ctx);
#endif
#if STRATA_CLI_FEDERATE
  RegisterFederate(app, ctx);
#endif
#if STRATA_CLI_LINK
  RegisterLink(app, ctx);
#endif
#if STRATA_CLI_TOPOLOGY
  RegisterUp(app, ctx);
  RegisterStatus(app, ctx);
  RegisterDown(app, ctx);
  RegisterDeploy(app, ctx);
#endif
#if STRATA_CLI_CHAOS
  RegisterChaos(app, ctx);
#endif
#if STRATA_CLI_SOAK
  RegisterSoak(app, ctx);
#endif
}

// Prints "strata: error: <message>" on stderr and returns `code`.
int Fail(const std::string& message, int code = 1);
// Writes `text` to `path` (replacing it); Unavailable "cannot write PATH" when it could not.
Status WriteText(const std::string& path, const std::string& text);

}  // namespace strata::cli
