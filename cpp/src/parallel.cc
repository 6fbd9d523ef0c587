// SPDX-License-Identifier: MIT
#include "ocrai/parallel.h"

#include "ocrai/cpu.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ocrai {
namespace {

/// One parallel_for call: chunks are claimed through `next`; `remaining` counts chunks not
/// yet finished (run or skipped), and the caller waits for it to reach zero.
struct Job {
  const std::function<void(std::int64_t, std::int64_t)>* fn = nullptr;
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t grain = 1;
  std::int64_t chunks = 0;
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> remaining{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards error and the wake-up of the caller
  std::condition_variable finished;
  std::exception_ptr error;

  /// Claims and runs chunks until none is left. Returns when this thread finds no chunk.
  void work() {
    for (;;) {
      const std::int64_t chunk = next.fetch_add(1, std::memory_order_relaxed);
      if (chunk >= chunks) return;
      if (!failed.load(std::memory_order_relaxed)) {
        const std::int64_t lo = begin + chunk * grain;
        const std::int64_t hi = std::min(end, lo + grain);
        try {
          (*fn)(lo, hi);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!error) error = std::current_exception();
          failed.store(true, std::memory_order_relaxed);
        }
      }
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex);
        finished.notify_all();
      }
    }
  }

  bool exhausted() const { return next.load(std::memory_order_relaxed) >= chunks; }
};

}  // namespace

struct ThreadPool::Impl {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Job>> queue;
  bool stopping = false;
  std::vector<std::thread> workers;

  void worker_loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [this] { return stopping || !queue.empty(); });
        if (stopping) return;
        job = queue.front();
        // A job whose chunks are all claimed needs no more helpers.
        if (job->exhausted()) {
          queue.pop_front();
          continue;
        }
      }
      job->work();
      std::lock_guard<std::mutex> lock(mutex);
      if (!queue.empty() && queue.front() == job) queue.pop_front();
    }
  }
};

ThreadPool::ThreadPool(int threads) : impl_(std::make_unique<Impl>()) {
  if (threads < 1 || threads > kMaxThreads) {
    throw std::invalid_argument("ThreadPool: threads must be in [1, " +
                                std::to_string(kMaxThreads) + "], got " + std::to_string(threads));
  }
  impl_->workers.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) {
    impl_->workers.emplace_back([impl = impl_.get()] { impl->worker_loop(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  for (auto& t : impl_->workers) t.join();
}

int ThreadPool::size() const { return static_cast<int>(impl_->workers.size()) + 1; }

std::int64_t ThreadPool::even_grain(std::int64_t count, int parts, std::int64_t min_grain) {
  const std::int64_t p = std::max(1, parts);
  const std::int64_t even = (count + p - 1) / p;
  return std::max({even, min_grain, std::int64_t{1}});
}

void ThreadPool::parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                              const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (end <= begin) return;
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t chunks = (end - begin + grain - 1) / grain;
  if (chunks == 1 || impl_->workers.empty()) {
    // Nothing to share: run inline, exceptions propagate as they are.
    for (std::int64_t lo = begin; lo < end; lo += grain) fn(lo, std::min(end, lo + grain));
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->begin = begin;
  job->end = end;
  job->grain = grain;
  job->chunks = chunks;
  job->remaining.store(chunks, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->queue.push_back(job);
  }
  impl_->wake.notify_all();
  job->work();  // the caller always works on its own job
  {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->finished.wait(lock, [&] { return job->remaining.load(std::memory_order_acquire) == 0; });
  }
  {
    // Drop the job from the queue if no worker got to it (they would only pop it).
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto& q = impl_->queue;
    q.erase(std::remove(q.begin(), q.end(), job), q.end());
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace ocrai
