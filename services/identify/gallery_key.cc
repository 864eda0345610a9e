// Gallery key file: create (O_EXCL, 0600) or read (see gallery_key.h).
#include "gallery_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "strata/vision/gallery.h"

namespace strata::identify_service {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  int e = errno;
  std::string msg = what + " gallery key file '" + path + "': " + std::strerror(e);
  return e == EACCES || e == EPERM ? PermissionDeniedError(msg) : InternalError(msg);
}

Result<std::vector<uint8_t>> Create(const std::string& path) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", path);
  std::vector<uint8_t> key = vision::GenerateGalleryKey();
  ssize_t n = ::write(fd, key.data(), key.size());
  bool ok = n == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return IoError("cannot write", path);
  }
  return key;
}

}  // namespace

Result<std::vector<uint8_t>> LoadOrCreateGalleryKey(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Create(path);
  if (fd < 0) return IoError("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError("cannot stat", path);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return InvalidArgumentError("gallery key file '" + path +
                                "' is readable by group or others: chmod 600 it");
  }
  std::vector<uint8_t> key(vision::kGalleryKeyBytes + 1);
  ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(vision::kGalleryKeyBytes))
    return InvalidArgumentError("gallery key file '" + path + "' must hold exactly 32 bytes");
  key.resize(vision::kGalleryKeyBytes);
  return key;
}

}  // namespace strata::identify_service
