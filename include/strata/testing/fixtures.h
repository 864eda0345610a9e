// Test fixtures that start real things: a mosquitto broker on a free loopback port, a throwaway
// self-signed TLS certificate, a temporary directory. Used by tests and benchmarks only.
// Thread-safety: each fixture object is used by one test thread.
//
//   STRATA_ASSIGN_OR_RETURN(auto broker, testing::MosquittoBroker::Start());
//   Connect(broker->uri());
//   broker->Restart();  // same port, clients reconnect
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::testing {

// A free TCP port on 127.0.0.1 (bound and released; racy in theory, fine on a test machine).
Result<int> FreeLoopbackPort();

// Polls until a TCP connect to 127.0.0.1:port succeeds or the timeout passes.
Status WaitForPort(int port, std::chrono::milliseconds timeout);

class TempDir {
 public:
  TempDir();  // creates a fresh directory under $TMPDIR
  ~TempDir();  // removes it recursively
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct BrokerOptions {
  bool persistence = false;       // mosquitto's own persistence (saved on SIGTERM only)
  std::string extra_config;       // appended to the generated mosquitto.conf
};

class MosquittoBroker {
 public:
  // Unavailable when mosquitto is not installed or does not come up within 5 s.
  static Result<std::unique_ptr<MosquittoBroker>> Start(const BrokerOptions& options = {});
  ~MosquittoBroker();

  int port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  // Stops the broker with `signal` (SIGTERM or SIGKILL) and waits for it to exit.
  void Stop(int signal = 15);
  // Starts it again on the same port.
  Status Restart();
  bool running() const { return pid_ > 0; }

 private:
  MosquittoBroker() = default;
  Status Launch();
  BrokerOptions options_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

struct TlsFiles {
  std::string cert_file, key_file;
};

// Generates a self-signed certificate for 127.0.0.1/localhost with the openssl CLI into `dir`.
Result<TlsFiles> MakeSelfSignedCert(const std::string& dir);

}  // namespace strata::testing

namespace strata::testing {

// A child process with stdout and stderr captured to files; killed (SIGKILL) on destruction if
// still running.
class Subprocess {
 public:
  // Starts argv[0] (a path) with argv; Unavailable when it cannot be started.
  static Result<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env = {});
  ~Subprocess();
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit up to `timeout`; returns the exit code (128+signal when killed), or
  // DeadlineExceeded.
  Result<int> Wait(std::chrono::milliseconds timeout);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Subprocess() = default;
  TempDir dir_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Runs a command to completion (bounded by `timeout`), capturing output.
struct RunResult {
  int exit_code = -1;
  std::string out, err;
};
Result<RunResult> Run(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Reads an integer port from `path` once it exists (written by a service's --port-file).
Result<int> WaitForPortFile(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace strata::testing
