// The console's web UI files: either embedded in the binary (each file gzip -9 -n compressed,
// all of them in one blob linked with .incbin, see pack_assets.cmake) or read from a directory
// (--web-dir / console.web_dir, for UI development).
//
// Embedded files are sent as stored with `Content-Encoding: gzip` when the request's
// Accept-Encoding allows gzip, otherwise inflated with zlib. Every answer carries an ETag
// (If-None-Match → 304) and Cache-Control: `assets/*` (content-hashed by Vite) are immutable,
// everything else (index.html) is no-cache. Paths with '.'/'..' segments, backslashes or NULs
// are rejected (400); with no UI at all, `/` serves a page explaining how to build it.
// Thread-safety: immutable after construction; Serve() is safe from any thread.
//
//   AssetStore ui = AssetStore::Embedded(ConsoleUiBundle());
//   server.Route("GET", "/assets/{rest...}", [&](const http::Request& r) {
//     return ui.Serve(r, "assets/" + r.PathParam("rest"));
//   });
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "strata/transport/http.h"

namespace strata::console {

// One packed file: `size` gzip bytes at `offset` in the bundle's blob.
struct EmbeddedAsset {
  const char* path;  // relative to the dist dir, '/'-separated, e.g. "assets/index-3f2a.js"
  size_t offset;
  size_t size;
  const char* content_type;
  const char* etag;  // quoted, from the file's SHA-256
};

struct EmbeddedBundle {
  const unsigned char* blob = nullptr;
  size_t blob_size = 0;
  const EmbeddedAsset* assets = nullptr;
  size_t count = 0;
};

// The UI built by the strata_console_ui target (empty when npm was unavailable at configure).
EmbeddedBundle ConsoleUiBundle();

// Content-Type for a file name by extension (application/octet-stream when unknown).
std::string ContentTypeFor(std::string_view path);
// Inflates gzip data; InvalidArgument when it is not valid gzip.
Result<std::string> Gunzip(std::string_view gz);

class AssetStore {
 public:
  static AssetStore Embedded(const EmbeddedBundle& bundle);
  // Serves files under `dir`; NotFound when it is not a directory.
  static Result<AssetStore> Directory(const std::string& dir);

  // Answers GET for `rel` ("" = index.html), e.g. "assets/app.js".
  Result<http::Response> Serve(const http::Request& req, std::string rel) const;
  // Files directly under the root ("index.html", "favicon.ico"): served without a token.
  std::vector<std::string> RootFiles() const;
  bool empty() const { return dir_.empty() && files_.empty(); }

 private:
  Result<http::Response> ServeEmbedded(const http::Request& req, const std::string& rel) const;
  Result<http::Response> ServeFile(const http::Request& req, const std::string& rel) const;

  std::string dir_;  // directory mode when non-empty
  std::string_view blob_;
  std::map<std::string, const EmbeddedAsset*, std::less<>> files_;
};

}  // namespace strata::console
