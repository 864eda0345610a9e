// strata: the command-line entry point. Verbs are registered in cli/verbs/verbs.h.
#include <cstdio>
#include <fstream>

#include "strata/core/logging.h"
#include "strata/version.h"
#include "verbs/verbs.h"

namespace strata::cli {
int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "strata: error: %s\n", message.c_str());
  return code;
}
Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return UnavailableError("cannot write " + path);
  return Status::Ok();
}
}  // namespace strata::cli

int main(int argc, char** argv) {
  using namespace strata::cli;
  CLI::App app{"Strata: AI microservices across edge, fog and cloud.\n"
               "Run 'strata <verb> --help' for the options of a verb.",
               "strata"};
  app.set_version_flag("--version", std::string(strata::kVersion));
  app.require_subcommand(1);
  Context ctx;
  app.add_option("-v,--log-level", ctx.log_level, "trace|debug|info|warn|error|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", ctx.log_format, "text|json")
      ->check(CLI::IsMember({"text", "json"}));
  RegisterAllVerbs(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (argc == 1) {  // bare `strata`: show the verbs rather than a terse error
      std::fputs(app.help().c_str(), stderr);
      return 2;
    }
    return Fail(std::string(e.what()) + " (run 'strata --help')", 2);
  }
  strata::Status s = strata::InitLogging({.level = ctx.log_level, .format = ctx.log_format});
  if (!s.ok()) return Fail(s.message(), 2);
  return ctx.action ? ctx.action() : 0;
}
