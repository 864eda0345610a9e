// ChildProcess: one supervised program started by `strata up`. stdout and stderr go through one
// pipe; a pump thread prefixes every line with the unit's name ("detect   | ...") on our stderr,
// appends it to a log file and keeps the last lines for error messages. The child gets its own
// process group (a terminal's Ctrl-C reaches only `strata up`, which stops children in order),
// default signal mask and dispositions, and PR_SET_PDEATHSIG=SIGTERM so it never outlives a
// killed launcher.
// Thread-safety: Start/Poll/Signal/Wait from one thread (the launcher's main thread: the death
// signal follows the thread that forked); LastLines is safe from any thread.
//
//   auto p = ChildProcess::Start({"/bin/strata-hello", "--port", "0"}, "hello", "logs/hello.log");
//   if (auto code = (*p)->Poll()) ...  // exited with *code
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "strata/core/status.h"

namespace strata::topology {

struct LogOptions {
  std::string prefix;    // printed before each line, e.g. "detect   | "
  std::string log_file;  // appended to; "" = none
  bool echo = true;      // write prefixed lines to our stderr
};

class ChildProcess {
 public:
  // Unavailable when the program cannot be executed (missing binary: the error names it).
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const LogOptions& log);
  ~ChildProcess();  // SIGKILLs a child still running, reaps it, joins the pump

  pid_t pid() const { return pid_; }
  // Exit code once exited (128 + signal when killed), without blocking; nullopt while running.
  std::optional<int> Poll();
  // Blocks up to `timeout`; the exit code, or nullopt if still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Signal(int sig);
  // The last lines the child wrote (at most 20), oldest first.
  std::vector<std::string> LastLines() const;
  std::string LastLine() const;

 private:
  ChildProcess() = default;
  void Pump(int fd, LogOptions log);
  void FinishPump();

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::thread pump_;
  std::atomic<bool> exited_{false};
  mutable std::mutex mu_;
  std::deque<std::string> last_;
};

// Serialises whole lines written to our stderr by pumps and the launcher.
void WriteStderrLine(const std::string& line);

// True when something accepts TCP connections on 127.0.0.1:port (brokers, link proxies).
bool LoopbackPortOpen(int port);

}  // namespace strata::topology
