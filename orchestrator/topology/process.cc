// Fork/exec with a prefixed log pump (see process.h).
#include "topology/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace strata::topology {

namespace {
std::mutex& StderrMutex() {
  static auto* mu = new std::mutex;  // leaked on purpose: pumps may outlive static destruction
  return *mu;
}
}  // namespace

void WriteStderrLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(StderrMutex());
  std::string out = line + "\n";
  ssize_t unused = write(STDERR_FILENO, out.data(), out.size());
  (void)unused;
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          const LogOptions& log) {
  if (argv.empty()) return InvalidArgumentError("empty command line");
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return UnavailableError("pipe: " + std::string(strerror(errno)));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return UnavailableError("pipe: " + std::string(strerror(errno)));
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
    return UnavailableError("fork: " + std::string(strerror(errno)));
  }
  if (pid == 0) {  // child: async-signal-safe calls only
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    // Nothing else of the launcher's (earlier children's log files, sockets) leaks into the
    // child: every fd >= 3 closes on exec (err[1] stays usable until then).
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    execv(cargv[0], cargv.data());
    int e = errno;
    ssize_t unused = write(err[1], &e, sizeof e);
    (void)unused;
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  int exec_errno = 0;
  ssize_t n = read(err[0], &exec_errno, sizeof exec_errno);  // EOF (0) = exec succeeded
  close(err[0]);
  std::unique_ptr<ChildProcess> p(new ChildProcess);
  p->pid_ = pid;
  if (n == sizeof exec_errno) {
    close(out[0]);
    waitpid(pid, nullptr, 0);
    p->pid_ = -1;
    return UnavailableError("cannot execute '" + argv[0] + "': " + strerror(exec_errno));
  }
  p->pump_ = std::thread(&ChildProcess::Pump, p.get(), out[0], log);
  return p;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
  }
  FinishPump();
}

void ChildProcess::Pump(int fd, LogOptions log) {
  std::ofstream file;
  if (!log.log_file.empty()) file.open(log.log_file, std::ios::app);
  std::string partial;
  auto emit = [&](const std::string& line) {
    if (log.echo) WriteStderrLine(log.prefix + line);
    if (file) file << line << '\n' << std::flush;
    std::lock_guard<std::mutex> lock(mu_);
    last_.push_back(line);
    if (last_.size() > 20) last_.pop_front();
  };
  char buf[4096];
  while (true) {
    pollfd pfd{fd, POLLIN, 0};
    int r = poll(&pfd, 1, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      if (exited_) break;  // child gone and pipe idle (a grandchild may still hold it)
      continue;
    }
    ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    partial.append(buf, static_cast<size_t>(got));
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      std::string line = partial.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      emit(line);
      partial.erase(0, nl + 1);
    }
  }
  if (!partial.empty()) emit(partial);
  close(fd);
}

void ChildProcess::FinishPump() {
  exited_ = true;
  if (pump_.joinable()) pump_.join();
}

std::optional<int> ChildProcess::Poll() {
  if (exit_code_ || pid_ <= 0) return exit_code_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  if (r < 0) {
    exit_code_ = -1;
  } else if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code_ = 128 + WTERMSIG(status);
  } else {
    return std::nullopt;  // stopped/continued: still alive
  }
  FinishPump();
  return exit_code_;
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto code = Poll()) return code;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && !exit_code_) kill(pid_, sig);
}

std::vector<std::string> ChildProcess::LastLines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {last_.begin(), last_.end()};
}

std::string ChildProcess::LastLine() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = last_.rbegin(); it != last_.rend(); ++it)
    if (!it->empty()) return *it;
  return "(no output)";
}

bool LoopbackPortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace strata::topology
