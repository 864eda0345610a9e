// WriteAuthMaterial and LocalPaths (see auth.h): the signing key, one token per service and the
// operator, and the mosquitto files per broker, all 0600 in 0700 directories.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "topology/auth.h"
#include "transport/service_token.h"

namespace strata::topology {

namespace {

Status WritePrivate(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot write " + path);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return UnavailableError("cannot write " + path);
  }
  return Status::Ok();
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path);
  if (!in) return UnavailableError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<AuthMaterial> WriteAuthMaterial(
    const Topology& t, const std::string& dir,
    const std::function<std::string(const std::string& broker)>& mqtt_dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::chmod(dir.c_str(), 0700) != 0) return UnavailableError("cannot create " + dir);
  AuthMaterial m{.dir = dir, .key_file = dir + "/signing.key"};
  auto existing = auth::KeySet::LoadFile(m.key_file);
  if (existing.ok()) {  // a re-run keeps the key: tokens handed out earlier stay valid
    STRATA_ASSIGN_OR_RETURN(m.key_text, ReadAll(m.key_file));
    if (::chmod(m.key_file.c_str(), 0600) != 0)
      return UnavailableError("cannot chmod " + m.key_file);
  } else {
    STRATA_ASSIGN_OR_RETURN(m.key_text, auth::NewKeyLine());
    m.key_text = "# signing key written by strata for topology '" + t.name + "'\n" + m.key_text;
    STRATA_RETURN_IF_ERROR(WritePrivate(m.key_file, m.key_text));
  }
  STRATA_ASSIGN_OR_RETURN(auth::KeySet keys, auth::KeySet::Parse(m.key_text, m.key_file));
  auto issue = [&](const std::string& sub, const std::string& tier) -> Status {
    STRATA_ASSIGN_OR_RETURN(std::string token,
                            auth::IssueToken(keys, sub, tier, t.security.token_ttl));
    const std::string path = dir + "/" + sub + ".token";
    STRATA_RETURN_IF_ERROR(WritePrivate(path, token + "\n"));
    m.tokens[sub] = token;
    m.token_files[sub] = path;
    return Status::Ok();
  };
  for (const Service& s : t.services) {
    const Node* n = t.FindNode(s.node);
    STRATA_RETURN_IF_ERROR(issue(s.name, n ? n->tier : ""));
  }
  if (!t.FindService(kOperatorPrincipal))
    STRATA_RETURN_IF_ERROR(issue(std::string(kOperatorPrincipal), "cloud"));
  if (t.brokers.empty()) return m;
  STRATA_ASSIGN_OR_RETURN(std::vector<MqttPrincipal> principals, MqttPrincipals(t));
  if (principals.empty()) return m;  // no service uses MQTT: brokers stay as they were
  for (const Broker& b : t.brokers) {
    const std::string bdir = mqtt_dir(b.name);
    std::filesystem::create_directories(std::filesystem::path(bdir).parent_path(), ec);
    STRATA_ASSIGN_OR_RETURN(MqttAuthFiles f, WriteMqttAuth(bdir, principals));
    BrokerAuth ba{.dir = bdir};
    STRATA_ASSIGN_OR_RETURN(ba.passwd_text, ReadAll(f.password_file));
    STRATA_ASSIGN_OR_RETURN(ba.acl_text, ReadAll(f.acl_file));
    for (size_t i = 0; i < principals.size() && i < f.password_files.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(std::string pw, ReadAll(f.password_files[i]));
      ba.passwords[principals[i].name] = Trimmed(pw);
      ba.password_files[principals[i].name] = f.password_files[i];
    }
    m.brokers[b.name] = std::move(ba);
  }
  return m;
}

CredentialPaths LocalPaths(const AuthMaterial& m, const Topology& t, const Service& s) {
  CredentialPaths p{.key_file = m.key_file};
  if (auto it = m.token_files.find(s.name); it != m.token_files.end()) p.token_file = it->second;
  if (auto b = m.brokers.find(BrokerOf(t, s)); b != m.brokers.end())
    if (auto it = b->second.password_files.find(s.name); it != b->second.password_files.end())
      p.mqtt_password_file = it->second;
  return p;
}

}  // namespace strata::topology
