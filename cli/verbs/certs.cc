// strata certs: a private CA and one TLS certificate per service, made with the OpenSSL library.
//
//   strata certs --out var/certs --ca-name "Strata dev CA" --service detect:fog-1,10.0.0.5
//                --service identify --service mqtt [--key-type ec|rsa] [--days 825] [--force]
// Writes DIR/ca.pem + DIR/ca.key and DIR/<name>.pem + DIR/<name>.key (keys 0600). Every service
// certificate has SAN IP:127.0.0.1, DNS:localhost, DNS:<name> plus the listed extra names or
// IPs, and is usable as server and client certificate. Idempotent: an existing CA is reused
// (never overwritten without --force) and existing service certificates are kept; --force
// regenerates everything.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstdio>
#include <memory>

#include "verbs.h"

namespace strata::cli {
namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

struct Options {
  std::string out, ca_name = "Strata CA", key_type = "ec";
  std::vector<std::string> services;
  int days = 825;
  bool force = false;
};

bool Exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

Result<PKey> NewKey(const std::string& type) {
  EVP_PKEY* k = type == "rsa" ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (!k) return InternalError("OpenSSL could not generate a " + type + " key");
  return PKey(k, EVP_PKEY_free);
}

// Writes PEM through a 0600 temporary file and rename.
template <typename WriteFn>
Status WritePem(const std::string& path, mode_t mode, WriteFn write) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError("cannot write " + path);
  FILE* f = ::fdopen(fd, "w");
  bool ok = f && write(f) == 1;
  if (f) ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return UnavailableError("cannot write " + path);
  }
  return Status::Ok();
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return InvalidArgumentError("bad certificate extension '" + value + "'");
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::Ok() : InternalError("cannot add extension");
}

// A certificate for `key` named `cn`, signed by (issuer, issuer_key) or self-signed when
// issuer is null.
Result<Cert> MakeCert(EVP_PKEY* key, const std::string& cn, int days, X509* issuer,
                      EVP_PKEY* issuer_key, const std::string& san) {
  Cert c(X509_new(), X509_free);
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return InternalError("no randomness");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -300);  // tolerate small clock skew
  X509_time_adj_ex(X509_getm_notAfter(c.get()), days, 0, nullptr);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Strata"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(signer));
  STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_subject_key_identifier, "hash"));
  if (!issuer) {
    STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_authority_key_identifier, "keyid:always"));
    STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    STRATA_RETURN_IF_ERROR(
        AddExt(c.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
    STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth"));
    STRATA_RETURN_IF_ERROR(AddExt(c.get(), signer, NID_subject_alt_name, san));
  }
  if (X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0)
    return InternalError("OpenSSL could not sign the certificate for '" + cn + "'");
  return c;
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool SafeSanName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '*' ||
          c == ':' || c == '_'))
      return false;
  return true;
}

Result<std::pair<std::string, std::string>> ParseService(const std::string& spec) {
  size_t colon = spec.find(':');
  std::string name = spec.substr(0, colon);
  static const std::string kNameChars = "abcdefghijklmnopqrstuvwxyz0123456789-_.";
  if (name.empty() || name.find_first_not_of(kNameChars) != std::string::npos)
    return InvalidArgumentError("--service '" + spec + "': name must match [a-z0-9._-]+");
  std::string san = "IP:127.0.0.1,DNS:localhost,DNS:" + name;
  if (colon != std::string::npos) {
    std::string rest = spec.substr(colon + 1);
    size_t i = 0;
    while (i <= rest.size()) {
      size_t j = rest.find(',', i);
      if (j == std::string::npos) j = rest.size();
      std::string item = rest.substr(i, j - i);
      if (!SafeSanName(item))
        return InvalidArgumentError("--service '" + spec + "': bad SAN '" + item + "'");
      san += (IsIp(item) ? ",IP:" : ",DNS:") + item;
      i = j + 1;
    }
  }
  return std::make_pair(name, san);
}

Result<PKey> LoadKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return NotFoundError("cannot read " + path);
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!k) return InvalidArgumentError(path + " is not a PEM private key");
  return PKey(k, EVP_PKEY_free);
}

Result<Cert> LoadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return NotFoundError("cannot read " + path);
  X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!c) return InvalidArgumentError(path + " is not a PEM certificate");
  return Cert(c, X509_free);
}

Status WriteKeyAndCert(const std::string& base, EVP_PKEY* key, X509* cert) {
  STRATA_RETURN_IF_ERROR(WritePem(base + ".key", 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  }));
  return WritePem(base + ".pem", 0644, [&](FILE* f) { return PEM_write_X509(f, cert); });
}

int Run(const Options& o) {
  if (::mkdir(o.out.c_str(), 0700) != 0 && errno != EEXIST)
    return Fail("cannot create directory " + o.out);
  std::vector<std::pair<std::string, std::string>> services;
  for (const std::string& spec : o.services) {
    auto s = ParseService(spec);
    if (!s.ok()) return Fail(s.status().message(), 2);
    services.push_back(*s);
  }
  const std::string ca_base = o.out + "/ca";
  bool ca_exists = Exists(ca_base + ".pem") && Exists(ca_base + ".key");
  PKey ca_key(nullptr, EVP_PKEY_free);
  Cert ca(nullptr, X509_free);
  if (ca_exists && !o.force) {
    auto k = LoadKey(ca_base + ".key");
    auto c = LoadCert(ca_base + ".pem");
    if (!k.ok()) return Fail(k.status().message());
    if (!c.ok()) return Fail(c.status().message());
    if (X509_check_private_key(c->get(), k->get()) != 1)
      return Fail(ca_base + ".key does not match " + ca_base + ".pem (use --force to start over)");
    ca_key = std::move(k).value();
    ca = std::move(c).value();
    std::printf("kept CA       %s.pem\n", ca_base.c_str());
  } else {
    auto k = NewKey(o.key_type);
    if (!k.ok()) return Fail(k.status().message());
    auto c = MakeCert(k->get(), o.ca_name, o.days + 365, nullptr, nullptr, "");
    if (!c.ok()) return Fail(c.status().message());
    Status s = WriteKeyAndCert(ca_base, k->get(), c->get());
    if (!s.ok()) return Fail(s.message());
    ca_key = std::move(k).value();
    ca = std::move(c).value();
    std::printf("wrote CA      %s.pem (key %s.key, 0600)\n", ca_base.c_str(), ca_base.c_str());
  }
  for (const auto& [name, san] : services) {
    const std::string base = o.out + "/" + name;
    if (!o.force && Exists(base + ".pem") && Exists(base + ".key")) {
      auto c = LoadCert(base + ".pem");
      if (c.ok() && X509_verify(c->get(), ca_key.get()) == 1) {
        std::printf("kept service  %s.pem\n", base.c_str());
        continue;
      }
      // Signed by another CA (e.g. the CA was regenerated): reissue below.
    }
    auto k = NewKey(o.key_type);
    if (!k.ok()) return Fail(k.status().message());
    auto c = MakeCert(k->get(), name, o.days, ca.get(), ca_key.get(), san);
    if (!c.ok()) return Fail(c.status().message());
    Status s = WriteKeyAndCert(base, k->get(), c->get());
    if (!s.ok()) return Fail(s.message());
    std::printf("wrote service %s.pem (%s)\n", base.c_str(), san.c_str());
  }
  return 0;
}

}  // namespace

void RegisterCerts(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("certs", "Generate a private CA and per-service TLS certificates");
  cmd->add_option("--out", o->out, "Output directory (created 0700)")->required();
  cmd->add_option("--ca-name", o->ca_name, "Common name of the CA")->capture_default_str();
  cmd->add_option("--service", o->services,
                  "NAME[:SAN,SAN...] (repeatable); SANs are DNS names or IP addresses");
  cmd->add_option("--key-type", o->key_type, "ec (P-256) or rsa (2048)")
      ->check(CLI::IsMember({"ec", "rsa"}))
      ->capture_default_str();
  cmd->add_option("--days", o->days, "Validity of service certificates")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "Regenerate the CA and every certificate");
  cmd->callback([&ctx, o] { ctx.action = [o] { return Run(*o); }; });
}

}  // namespace strata::cli
