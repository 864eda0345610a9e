// ObjectPool: a fixed set of objects that are not thread-safe (OpenCV detectors, face encoders)
// shared by request threads: Acquire() blocks until one is free and returns a lease that gives it
// back when it goes out of scope. The pool owns the objects; T may be incomplete where the pool is
// declared (as a member) as long as it is complete where Add/Acquire are used.
// Thread-safety: Add before sharing; Acquire from any thread.
//
//   ObjectPool<Pipeline> pool;
//   pool.Add(std::make_unique<Pipeline>(...));  // once per instance, at start-up
//   auto p = pool.Acquire();                     // waits while all are in use
//   p->detector->Detect(frame);
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace strata {

template <typename T>
class ObjectPool {
 public:
  class Lease {
   public:
    Lease(ObjectPool* pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}
    Lease(Lease&& other) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (item_) pool_->Return(std::move(item_));
    }
    T* operator->() const { return item_.get(); }
    T& operator*() const { return *item_; }

   private:
    ObjectPool* pool_;
    std::unique_ptr<T> item_;
  };

  void Add(std::unique_ptr<T> item) { Return(std::move(item)); }

  Lease Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !free_.empty(); });
    std::unique_ptr<T> item = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(item));
  }

 private:
  void Return(std::unique_ptr<T> item) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(item));
    }
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<T>> free_;
};

}  // namespace strata
