// strata token keygen|issue|verify: signing keys and signed service tokens (docs/security.md).
//
//   strata token keygen --out var/keys              # create (0600) or append a key (rotation)
//   strata token issue --key-file var/keys --sub detect --tier fog --ttl 24h [--out detect.token]
//   strata token verify --key-file var/keys --token-file detect.token   # prints the claims
//   strata token mqtt --out var/mqtt-auth [--prefix strata]   # mosquitto passwd + acl files
// Secrets are read from and written to files only (never argv); tokens print to stdout only
// when --out is not given.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "strata/core/config.h"
#include "transport/service_token.h"
#include "verbs.h"
#if STRATA_CLI_TOPOLOGY
#include "topology/mqtt_acl.h"
#endif

namespace strata::cli {
namespace {

// Appends `text` to `path`, creating it 0600 (and tightening an existing file to 0600).
Status AppendPrivate(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot open " + path + " for writing");
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return UnavailableError("cannot write " + path);
  return Status::Ok();
}

// Writes `text` to `path` (0600) through a temporary file and rename, so a reader (a client
// re-reading its token file) never sees half a token.
Status WritePrivateAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  STRATA_RETURN_IF_ERROR(AppendPrivate(tmp, text));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return UnavailableError("cannot write " + path);
  return Status::Ok();
}

int Keygen(const std::string& out) {
  auto existing = auth::StatFile(out);
  if (existing.ok()) {
    auto keys = auth::KeySet::LoadFile(out);
    if (!keys.ok()) return Fail("refusing to append to an invalid key file: " + keys.status().message());
  }
  auto line = auth::NewKeyLine();
  if (!line.ok()) return Fail(line.status().message());
  Status s = AppendPrivate(out, *line);
  if (!s.ok()) return Fail(s.message());
  auto keys = auth::KeySet::LoadFile(out);
  if (!keys.ok()) return Fail(keys.status().message());
  std::fprintf(stderr, "%s key '%s' to %s (%zu key(s); the newest signs, all verify)\n",
               existing.ok() ? "appended" : "wrote", keys->Newest()->kid.c_str(), out.c_str(),
               keys->keys().size());
  return 0;
}

struct IssueOptions {
  std::string key_file, sub, tier, ttl = "24h", out;
};

int Issue(const IssueOptions& o) {
  auto ttl = ParseDuration(o.ttl);
  if (!ttl.ok()) return Fail("--ttl: " + ttl.status().message(), 2);
  auto keys = auth::KeySet::LoadFile(o.key_file);
  if (!keys.ok()) return Fail(keys.status().message());
  auto token = auth::IssueToken(*keys, o.sub, o.tier,
                                std::chrono::duration_cast<std::chrono::seconds>(*ttl));
  if (!token.ok()) return Fail(token.status().message(), 2);
  if (o.out.empty()) {
    std::printf("%s\n", token->c_str());
    return 0;
  }
  Status s = WritePrivateAtomic(o.out, *token + "\n");
  if (!s.ok()) return Fail(s.message());
  std::fprintf(stderr, "wrote a token for '%s' to %s\n", o.sub.c_str(), o.out.c_str());
  return 0;
}

int Verify(const std::string& key_file, const std::string& token_file) {
  std::string token;
  if (token_file.empty() || token_file == "-") {
    std::getline(std::cin, token);
  } else {
    std::ifstream in(token_file);
    if (!in) return Fail("cannot read " + token_file);
    std::getline(in, token);
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  auto keys = auth::KeySet::LoadFile(key_file);
  if (!keys.ok()) return Fail(keys.status().message());
  auto claims = auth::VerifyToken(token, *keys);
  if (!claims.ok()) return Fail(claims.status().message());
  nlohmann::json j = {{"sub", claims->sub}, {"tier", claims->tier}, {"iat", claims->iat},
                      {"exp", claims->exp}, {"kid", claims->kid}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

#if STRATA_CLI_TOPOLOGY
int MqttAuth(const std::string& out, const std::string& prefix) {
  auto files = topology::WriteMqttAuth(out, topology::DefaultPrincipals(prefix));
  if (!files.ok()) return Fail(files.status().message());
  std::printf("wrote %s and %s (mosquitto: allow_anonymous false, password_file, acl_file)\n",
              files->password_file.c_str(), files->acl_file.c_str());
  for (const std::string& f : files->password_files) std::printf("password  %s\n", f.c_str());
  return 0;
}
#endif

}  // namespace

void RegisterToken(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("token", "Signing keys and signed service tokens");
  cmd->require_subcommand(1);

  auto keygen_out = std::make_shared<std::string>();
  auto* keygen = cmd->add_subcommand("keygen", "Create a key file (0600) or append a new key");
  keygen->add_option("--out", *keygen_out, "Key file")->required();
  keygen->callback([&ctx, keygen_out] { ctx.action = [keygen_out] { return Keygen(*keygen_out); }; });

  auto io = std::make_shared<IssueOptions>();
  auto* issue = cmd->add_subcommand("issue", "Print (or --out) a token signed with the newest key");
  issue->add_option("--key-file", io->key_file, "Key file")->required();
  issue->add_option("--sub", io->sub, "Principal, e.g. the service name")->required();
  issue->add_option("--tier", io->tier, "Tier of the principal (edge|roof|fog|cloud)");
  issue->add_option("--ttl", io->ttl, "Lifetime, e.g. 1h, 24h, 30d")->capture_default_str();
  issue->add_option("--out", io->out, "Write the token to this file (0600) instead of stdout");
  issue->callback([&ctx, io] { ctx.action = [io] { return Issue(*io); }; });

  auto vk = std::make_shared<std::pair<std::string, std::string>>();
  auto* verify = cmd->add_subcommand("verify", "Check a token and print its claims");
  verify->add_option("--key-file", vk->first, "Key file")->required();
  verify->add_option("--token-file", vk->second, "Token file (default: stdin)");
  verify->callback([&ctx, vk] { ctx.action = [vk] { return Verify(vk->first, vk->second); }; });
#if STRATA_CLI_TOPOLOGY
  auto mq = std::make_shared<std::pair<std::string, std::string>>("", "strata");
  auto* mqtt = cmd->add_subcommand(
      "mqtt", "Write mosquitto password_file + acl_file and a password file per principal");
  mqtt->add_option("--out", mq->first, "Directory (0700); for `strata up`: <state>/config/<broker>-auth")
      ->required();
  mqtt->add_option("--prefix", mq->second, "Topic prefix")->capture_default_str();
  mqtt->callback([&ctx, mq] { ctx.action = [mq] { return MqttAuth(mq->first, mq->second); }; });
#endif
}

}  // namespace strata::cli
