// Logging setup: spdlog to stderr as text (human) or JSON lines (machines), one line per event.
//
// Call InitLogging once at process start; then log with spdlog::info(...) etc. Secrets (tokens,
// passwords, keys) are never passed to the logger: log their presence, not their value.
// Thread-safety: InitLogging is not thread-safe; logging afterwards is.
//
//   STRATA_RETURN_IF_ERROR(InitLogging({.level = "debug", .format = "json", .name = "detect"}));
#pragma once

#include <string>

#include "strata/core/status.h"

namespace strata {

struct LogOptions {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text | json
  std::string name = "strata";  // service or tool name, included in every line
};

// InvalidArgument for an unknown level or format.
Status InitLogging(const LogOptions& options);

}  // namespace strata
