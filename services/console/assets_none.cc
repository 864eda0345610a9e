// ConsoleUiBundle() when the UI was not built (no npm at configure time): no files, so `/`
// serves the built-in page that explains how to build the UI (see assets.cc).
#include "assets.h"

namespace strata::console {

EmbeddedBundle ConsoleUiBundle() { return {}; }

}  // namespace strata::console
