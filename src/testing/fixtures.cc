#include "strata/testing/fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace strata::testing {

Result<int> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return UnavailableError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return UnavailableError("bind() failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

Status WaitForPort(int port, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return UnavailableError("nothing listening on 127.0.0.1:" + std::to_string(port));
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "strata-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  path_ = p ? p : tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::unique_ptr<MosquittoBroker>> MosquittoBroker::Start(const BrokerOptions& options) {
  const char* candidates[] = {"/usr/sbin/mosquitto", "/usr/bin/mosquitto"};
  bool found = false;
  for (const char* c : candidates) found |= access(c, X_OK) == 0;
  if (!found) return UnavailableError("mosquitto is not installed (run scripts/install-deps.sh)");
  std::unique_ptr<MosquittoBroker> b(new MosquittoBroker());
  b->options_ = options;
  STRATA_ASSIGN_OR_RETURN(b->port_, FreeLoopbackPort());
  STRATA_RETURN_IF_ERROR(b->Launch());
  return b;
}

Status MosquittoBroker::Launch() {
  std::string conf = dir_.File("mosquitto.conf");
  {
    std::ofstream out(conf);
    out << "listener " << port_ << " 127.0.0.1\n"
        << "allow_anonymous true\n"
        << "persistence " << (options_.persistence ? "true" : "false") << "\n"
        << "persistence_location " << dir_.path() << "/\n"
        << "log_dest stderr\nlog_type error\n"
        << options_.extra_config << "\n";
  }
  const char* bin = access("/usr/sbin/mosquitto", X_OK) == 0 ? "/usr/sbin/mosquitto"
                                                              : "/usr/bin/mosquitto";
  pid_t pid = fork();
  if (pid < 0) return UnavailableError("fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(bin, bin, "-c", conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
  Status s = WaitForPort(port_, std::chrono::seconds(5));
  if (!s.ok()) {
    Stop(SIGKILL);
    return UnavailableError("mosquitto did not start on port " + std::to_string(port_));
  }
  return Status::Ok();
}

void MosquittoBroker::Stop(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

Status MosquittoBroker::Restart() {
  Stop();
  // The port may linger briefly in TIME_WAIT; mosquitto sets SO_REUSEADDR, so retry a little.
  for (int i = 0; i < 20; ++i) {
    Status s = Launch();
    if (s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return UnavailableError("mosquitto did not restart on port " + std::to_string(port_));
}

MosquittoBroker::~MosquittoBroker() { Stop(); }

Result<TlsFiles> MakeSelfSignedCert(const std::string& dir) {
  TlsFiles f{dir + "/cert.pem", dir + "/key.pem"};
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                    "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
                    f.key_file + "' -out '" + f.cert_file + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0)
    return UnavailableError("openssl could not generate a self-signed certificate");
  return f;
}

}  // namespace strata::testing

namespace strata::testing {

Result<std::unique_ptr<Subprocess>> Subprocess::Start(const std::vector<std::string>& argv,
                                                      const std::vector<std::string>& env) {
  if (argv.empty()) return InvalidArgumentError("empty argv");
  if (access(argv[0].c_str(), X_OK) != 0)
    return UnavailableError("not executable: " + argv[0]);
  std::unique_ptr<Subprocess> p(new Subprocess());
  std::string out = p->dir_.File("stdout"), err = p->dir_.File("stderr");
  pid_t pid = fork();
  if (pid < 0) return UnavailableError("fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    freopen(out.c_str(), "w", stdout);
    freopen(err.c_str(), "w", stderr);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  p->pid_ = pid;
  return p;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && exit_code_ < 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0 && exit_code_ < 0) kill(pid_, sig);
}

Result<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() > until)
      return DeadlineExceededError("process " + std::to_string(pid_) + " still running");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

static std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Subprocess::Stdout() const { return ReadAll(dir_.File("stdout")); }
std::string Subprocess::Stderr() const { return ReadAll(dir_.File("stderr")); }

Result<RunResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  STRATA_ASSIGN_OR_RETURN(auto p, Subprocess::Start(argv));
  STRATA_ASSIGN_OR_RETURN(int code, p->Wait(timeout));
  return RunResult{code, p->Stdout(), p->Stderr()};
}

Result<int> WaitForPortFile(const std::string& path, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in(path);
    int port = 0;
    if (in >> port && port > 0) return port;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return DeadlineExceededError("no port written to " + path);
}

}  // namespace strata::testing
