// SPDX-License-Identifier: MIT
#pragma once
/// A small fixed-size thread pool for striping work across the cores of one pipeline.
///
/// Ownership model: a `ThreadPool` owns `size() - 1` worker threads for its whole life; the
/// thread that calls `parallel_for` is always the last participant, so a pool of size 1 has
/// no worker and runs everything on the caller. Several threads may call `parallel_for` on
/// one pool at once: their jobs queue up, idle workers help the oldest job first, and every
/// caller keeps working on its own job, so no call can wait on work that nobody runs.
/// Destroying the pool joins the workers; no `parallel_for` may be running then.

#include <cstdint>
#include <functional>
#include <memory>

namespace ocrai {

class ThreadPool {
 public:
  /// A pool of `threads` participants (the calling thread included); at least 1.
  /// Throws std::invalid_argument for fewer.
  explicit ThreadPool(int threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  /// Participants: the workers plus the calling thread.
  int size() const;

  /// Calls `fn(lo, hi)` on consecutive chunks of [begin, end), each `grain` items long (the
  /// last one may be shorter; a grain below 1 counts as 1). Chunks are claimed one at a time
  /// by the caller and any idle worker, so uneven chunks balance themselves. Returns when
  /// every chunk has run. When a chunk throws, chunks not yet started are skipped, and the
  /// first exception is rethrown here after the running ones finish.
  void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain,
                    const std::function<void(std::int64_t, std::int64_t)>& fn);

  /// A grain that splits `count` items into about `parts` equal chunks of at least
  /// `min_grain` items: what row striping of an image wants.
  static std::int64_t even_grain(std::int64_t count, int parts, std::int64_t min_grain);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocrai
