// BoundedTaskQueue implementation: see task_queue.h.
#include "task_queue.h"

namespace strata::http {
namespace {
thread_local bool t_shedding = false;
constexpr size_t kMaxShedQueue = 1024;
}  // namespace

BoundedTaskQueue::BoundedTaskQueue(int workers, int max_queue, metrics::Counter shed_counter,
                                   metrics::Gauge queue_gauge)
    : max_queue_(static_cast<size_t>(max_queue)),
      workers_(static_cast<size_t>(workers)),
      shed_counter_(shed_counter),
      queue_gauge_(queue_gauge) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  threads_.emplace_back([this] { ShedLoop(); });
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

bool BoundedTaskQueue::IsShedding() { return t_shedding; }

void BoundedTaskQueue::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  if (jobs_.size() < max_queue_ + idle_) {
    jobs_.push_back(std::move(fn));
    queue_gauge_.Set(static_cast<double>(jobs_.size()));
    cv_.notify_one();
    return;
  }
  // Over the bound: the connection still has to be answered (and closed), but quickly.
  space_cv_.wait(lock, [&] { return shed_jobs_.size() < kMaxShedQueue || stopping_; });
  shed_jobs_.push_back(std::move(fn));
  shed_counter_.Inc();
  shed_cv_.notify_one();
}

bool BoundedTaskQueue::TryEnqueue(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  // Capacity counts workers not running a job (not merely those already waiting on the condition
  // variable), so a worker thread that is slow to be scheduled does not turn a job into a 503.
  if (stopping_ || jobs_.size() >= max_queue_ + (workers_ - running_)) {
    shed_counter_.Inc();
    return false;
  }
  jobs_.push_back(std::move(fn));
  queue_gauge_.Set(static_cast<double>(jobs_.size()));
  cv_.notify_one();
  return true;
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  shed_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void BoundedTaskQueue::WorkerLoop() {
  bool ran = false;
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      if (ran) --running_;
      ran = false;
      ++idle_;
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping and drained: in-flight work is finished
      fn = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
      ran = true;
      queue_gauge_.Set(static_cast<double>(jobs_.size()));
    }
    fn();
  }
}

void BoundedTaskQueue::ShedLoop() {
  t_shedding = true;
  while (true) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      shed_cv_.wait(lock, [&] { return stopping_ || !shed_jobs_.empty(); });
      if (shed_jobs_.empty()) return;
      fn = std::move(shed_jobs_.front());
      shed_jobs_.pop_front();
      space_cv_.notify_one();
    }
    fn();
  }
}

}  // namespace strata::http
