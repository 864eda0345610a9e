// AssetStore, Gunzip and the content-type table (see assets.h).
#include "assets.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace strata::console {
namespace {

constexpr const char* kImmutable = "public, max-age=31536000, immutable";

constexpr std::string_view kNotBuilt = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>strata-console</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>strata-console</h1>
<p>The web UI was not built into this binary (npm was not found when CMake configured the build).
The API works: <a href="./api/v1/overview">api/v1/overview</a>,
<a href="./api/v1/services">api/v1/services</a>.</p>
<p>To build the UI: install Node.js and npm, then re-run
<code>cmake -S . -B build</code> and <code>cmake --build build --target strata-console</code>.
For UI development, run <code>strata-console --web-dir web/console/dist</code> instead.</p>
</body></html>
)";

bool AcceptsGzip(const http::Request& req) {
  std::string ae = req.Header("accept-encoding");
  std::transform(ae.begin(), ae.end(), ae.begin(), ::tolower);
  ae.erase(std::remove(ae.begin(), ae.end(), ' '), ae.end());
  size_t p = ae.find("gzip");
  if (p == std::string::npos) return false;
  return ae.compare(p + 4, 4, ";q=0") != 0 || ae.compare(p + 4, 6, ";q=0.") == 0;
}

// Rejects traversal and odd paths; "" means index.html.
Status CheckPath(const std::string& rel) {
  if (rel.find('\\') != std::string::npos || rel.find('\0') != std::string::npos)
    return InvalidArgumentError("asset path must not contain backslashes or NUL bytes");
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    std::string_view seg = std::string_view(rel).substr(pos, slash - pos);
    if (seg == ".." || seg == ".")
      return InvalidArgumentError("asset path must not contain '.' or '..' segments");
    pos = slash + 1;
  }
  return Status::Ok();
}

std::string CacheControl(const std::string& rel) {
  return rel.rfind("assets/", 0) == 0 ? kImmutable : "no-cache";
}

http::Response NotModified(const std::string& etag, const std::string& rel) {
  http::Response r = http::Response::Text("", "text/plain", 304);
  r.headers = {{"ETag", etag}, {"Cache-Control", CacheControl(rel)}};
  return r;
}

}  // namespace

std::string ContentTypeFor(std::string_view path) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"txt", "text/plain; charset=utf-8"},
      {"wasm", "application/wasm"},
      {"webmanifest", "application/manifest+json"}};
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  std::string ext(path.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

Result<std::string> Gunzip(std::string_view gz) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return InternalError("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated input
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return InvalidArgumentError("not valid gzip data");
  return out;
}

AssetStore AssetStore::Embedded(const EmbeddedBundle& bundle) {
  AssetStore s;
  s.blob_ = std::string_view(reinterpret_cast<const char*>(bundle.blob), bundle.blob_size);
  for (size_t i = 0; i < bundle.count; ++i) s.files_[bundle.assets[i].path] = &bundle.assets[i];
  return s;
}

Result<AssetStore> AssetStore::Directory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return NotFoundError("web_dir '" + dir + "' is not a directory");
  AssetStore s;
  s.dir_ = std::filesystem::canonical(dir, ec).string();
  if (ec) return NotFoundError("web_dir '" + dir + "': " + ec.message());
  return s;
}

std::vector<std::string> AssetStore::RootFiles() const {
  std::vector<std::string> out;
  if (!dir_.empty()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec))
      if (e.is_regular_file()) out.push_back(e.path().filename().string());
  }
  for (const auto& [path, asset] : files_)
    if (path.find('/') == std::string::npos) out.push_back(path);
  return out;
}

Result<http::Response> AssetStore::Serve(const http::Request& req, std::string rel) const {
  if (rel.empty()) rel = "index.html";
  STRATA_RETURN_IF_ERROR(CheckPath(rel));
  if (!dir_.empty()) return ServeFile(req, rel);
  if (files_.empty() && rel == "index.html") {
    http::Response r = http::Response::Text(std::string(kNotBuilt), "text/html; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  return ServeEmbedded(req, rel);
}

Result<http::Response> AssetStore::ServeEmbedded(const http::Request& req,
                                                 const std::string& rel) const {
  auto it = files_.find(rel);
  if (it == files_.end()) return NotFoundError("no UI file '" + rel + "'");
  const EmbeddedAsset& a = *it->second;
  if (a.offset > blob_.size() || a.size > blob_.size() - a.offset)
    return InternalError("embedded asset '" + rel + "' lies outside the blob");
  std::string etag = a.etag;
  if (req.Header("if-none-match") == etag) return NotModified(etag, rel);
  std::string_view gz = blob_.substr(a.offset, a.size);
  http::Response r;
  if (AcceptsGzip(req)) {
    r = http::Response::Bytes(std::string(gz), a.content_type);
    r.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    STRATA_ASSIGN_OR_RETURN(std::string plain, Gunzip(gz));
    r = http::Response::Bytes(std::move(plain), a.content_type);
  }
  r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", CacheControl(rel));
  return r;
}

Result<http::Response> AssetStore::ServeFile(const http::Request& req,
                                             const std::string& rel) const {
  std::string path = dir_ + "/" + rel;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return NotFoundError("no UI file '" + rel + "'");
  std::string etag =
      "W/\"" + std::to_string(st.st_size) + "-" +
      std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec) +
      "\"";
  if (req.Header("if-none-match") == etag) return NotModified(etag, rel);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return NotFoundError("cannot read UI file '" + rel + "'");
  http::Response r = http::Response::Bytes(ss.str(), ContentTypeFor(rel));
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", CacheControl(rel));
  return r;
}

}  // namespace strata::console
