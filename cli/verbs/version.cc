// strata version [--json]: prints the version and what this build was made with.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "strata/version.h"
#include "verbs.h"

namespace strata::cli {

void RegisterVersion(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("version", "Print the version of this build");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Machine-readable output");
  cmd->callback([&ctx, json] {
    ctx.action = [json] {
      nlohmann::json j = {{"name", "strata"},
                          {"version", kVersion},
                          {"compiler", __VERSION__},
                          {"cxx_standard", __cplusplus}};
      if (*json) {
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("strata %s (g++ %s, C++%ld)\n", kVersion, __VERSION__, __cplusplus / 100 % 100);
      }
      return 0;
    };
  });
}

}  // namespace strata::cli
