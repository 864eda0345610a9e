// The gallery's master key file: 32 raw bytes, created with mode 0600 on first start (from
// vision::GenerateGalleryKey) and read on every later start. The key is never logged, never put in
// argv and never echoed in errors.
// Thread-safety: a free function; call it once at start-up.
//
//   STRATA_ASSIGN_OR_RETURN(std::vector<uint8_t> key, LoadOrCreateGalleryKey("var/gallery.key"));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::identify_service {

// Reads `path`, or creates it (and its parent directory) with a fresh key when it does not exist.
// InvalidArgument when the file does not hold exactly 32 bytes or is readable by group/others;
// PermissionDenied/Internal when it cannot be read or written.
Result<std::vector<uint8_t>> LoadOrCreateGalleryKey(const std::string& path);

}  // namespace strata::identify_service
