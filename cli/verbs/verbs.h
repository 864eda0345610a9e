// The explicit registry of `strata` verbs: each verb lives in cli/verbs/<verb>.cc and exposes one
// Register function; RegisterAllVerbs (registry.cc) lists them. No static self-registration.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

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
void RegisterSegment(CLI::App& app, Context& ctx);  // segment.cc (+ segment_*.cc, svg.cc)

inline void RegisterAllVerbs(CLI::App& app, Context& ctx) {
  RegisterVersion(app, ctx);
  RegisterHealth(app, ctx);
  RegisterConfig(app, ctx);
#if STRATA_CLI_SEGMENT
  RegisterSegment(app, ctx);
#endif
}

// Prints "strata: error: <message>" on stderr and returns `code`.
int Fail(const std::string& message, int code = 1);

}  // namespace strata::cli
