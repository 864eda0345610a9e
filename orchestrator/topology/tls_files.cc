// WriteTlsMaterial (see auth.h): the CA and one certificate per service and broker, made by
// `strata certs` (cli/verbs/certs.cc) under <dir>, plus a copy of each broker's files where its
// mosquitto can read them. Only paths and unit names go into the argv; no key bytes.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "strata/testing/fixtures.h"
#include "topology/auth.h"

namespace strata::topology {

namespace fs = std::filesystem;

Result<TlsMaterial> WriteTlsMaterial(
    const Topology& t, const std::string& dir, const std::string& strata_bin,
    const std::function<std::string(const std::string& broker)>& broker_dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir).parent_path(), ec);
  TlsMaterial m{.dir = dir, .ca_file = dir + "/ca.pem"};
  std::vector<std::string> argv = {strata_bin, "certs",     "--out",
                                   dir,        "--ca-name", "Strata CA for topology " + t.name};
  auto add = [&](const std::string& name, const std::string& host) -> Status {
    if (name == "ca")
      return InvalidArgumentError(
          "security.tls: a unit named 'ca' would overwrite the CA "
          "certificate; rename it");
    argv.insert(argv.end(), {"--service", host.empty() ? name : name + ":" + host});
    m.certs[name] = {dir + "/" + name + ".pem", dir + "/" + name + ".key"};
    return Status::Ok();
  };
  for (const Service& s : t.services) STRATA_RETURN_IF_ERROR(add(s.name, NonLoopbackHost(s)));
  for (const Broker& b : t.brokers) STRATA_RETURN_IF_ERROR(add(b.name, ""));
  STRATA_ASSIGN_OR_RETURN(testing::RunResult r, testing::Run(argv, std::chrono::seconds(60)));
  if (r.exit_code != 0)
    return UnavailableError("`strata certs --out " + dir + "` failed (exit " +
                            std::to_string(r.exit_code) + "): " + r.err);
  if (::chmod(dir.c_str(), 0700) != 0) return UnavailableError("cannot chmod " + dir);
  for (const Broker& b : t.brokers) {
    const std::string bdir = broker_dir(b.name);
    fs::create_directories(bdir, ec);
    if (ec || ::chmod(bdir.c_str(), 0700) != 0) return UnavailableError("cannot create " + bdir);
    const auto& [cert, key] = m.certs[b.name];
    const std::vector<std::pair<std::string, std::string>> copies = {
        {m.ca_file, bdir + "/ca.pem"}, {cert, bdir + "/server.pem"}, {key, bdir + "/server.key"}};
    for (const auto& [from, to] : copies) {
      fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
      if (ec || ::chmod(to.c_str(), 0600) != 0)
        return UnavailableError("cannot copy " + from + " to " + to);
    }
    if (::geteuid() == 0) {  // mosquitto drops root for its own user before reading these
      if (const passwd* pw = ::getpwnam("mosquitto")) {
        for (const std::string& p : {bdir, copies[0].second, copies[1].second, copies[2].second})
          if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            return UnavailableError("cannot chown " + p + " to mosquitto");
      }
    }
  }
  return m;
}

}  // namespace strata::topology
