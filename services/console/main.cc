// strata-console: the web console backend (docs/services/console.md). Besides the flags every
// service has, --web-dir DIR serves the UI from a directory instead of the embedded copy.
#include <cstring>
#include <string>
#include <vector>

#include "console_config.h"
#include "console_service.h"
#include "strata/transport/service.h"

int main(int argc, char** argv) {
  using namespace strata;
  // --web-dir DIR / --web-dir=DIR is ours; everything else goes to the shared flag parser.
  std::string web_dir;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--web-dir") == 0 && i + 1 < argc) {
      web_dir = argv[++i];
    } else if (std::strncmp(argv[i], "--web-dir=", 10) == 0) {
      web_dir = argv[i] + 10;
    } else {
      rest.push_back(argv[i]);
    }
  }
  ServiceArgs args = ParseServiceArgs(static_cast<int>(rest.size()), rest.data(), "console",
                                      "strata-console: web console backend (also: --web-dir DIR)");
  auto root = LoadServiceConfig(args);
  if (!root.ok()) return ExitWithError(args.service, root.status());
  console::Options opts;
  Status s = console::ParseConfig(*root, args, &opts);
  if (!s.ok()) return ExitWithError(args.service, s);
  if (!web_dir.empty()) opts.console.web_dir = web_dir;
  auto service = console::ConsoleService::Create(opts, console::ConsoleUiBundle());
  if (!service.ok()) return ExitWithError(args.service, service.status());
  (*service)->Start();
  int code = RunService(args, (*service)->server());
  (*service)->Stop();
  return code;
}
