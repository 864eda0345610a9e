// BoundedTaskQueue: cpp-httplib's connection queue with a bound.
//
// `workers` threads serve connections; up to `max_queue` more wait. Beyond that a connection is
// handed to a single shedding thread that marks it (IsShedding() is true on that thread) so the
// server answers 503 at once instead of queueing without limit (httplib's default pool is
// unbounded). GuardedServer (guarded_server.h) uses TryEnqueue instead. Thread-safety: enqueue/shutdown may be called from any thread.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "strata/metrics/metrics.h"

namespace strata::http {

class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(int workers, int max_queue, metrics::Counter shed_counter,
                   metrics::Gauge queue_gauge);
  ~BoundedTaskQueue() override;
  void enqueue(std::function<void()> fn) override;
  // Queues `fn` if a worker is idle or the queue has room; false (and `fn` dropped) otherwise.
  // Used by GuardedServer, which answers 503 itself instead of using the shedding thread.
  bool TryEnqueue(std::function<void()> fn);
  void shutdown() override;
  // True while the calling thread is serving a shed connection.
  static bool IsShedding();

 private:
  void WorkerLoop();
  void ShedLoop();

  const size_t max_queue_;
  const size_t workers_;
  std::mutex mu_;
  std::condition_variable cv_, shed_cv_, space_cv_;
  std::deque<std::function<void()>> jobs_, shed_jobs_;
  bool stopping_ = false;
  size_t idle_ = 0;     // workers waiting for a job
  size_t running_ = 0;  // workers running a job
  std::vector<std::thread> threads_;
  metrics::Counter shed_counter_;
  metrics::Gauge queue_gauge_;
};

}  // namespace strata::http
