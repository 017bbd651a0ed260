// Lock and Queue on Windows beside the primitives they stand on, in the same
// run: a Lock's acquire()+release() beside a kernel semaphore's
// ReleaseSemaphore+WaitForSingleObject, and a Queue's put()+get() of a small
// item beside a WriteFile+ReadFile of as many bytes on an anonymous pipe. All
// within one process and uncontended: the cost of the calls themselves.
//   ./bazelw run --config=windows -c opt //bench:windows_sync_bench --
//   [iterations] [rounds]
// Prints, per measurement, the nanoseconds per pair of each round and their
// median.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/floor_windows.h"
#include "process/process.h"
#include "process/queue.h"
#include "process/synchronize.h"

namespace {

// Nanoseconds per call of `once`, over `iterations` calls.
double NanosPer(const std::function<bool()>& once, int iterations) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    if (!once()) return -1;
  }
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now() - start)
             .count() /
         iterations;
}

void Report(const char* name, const std::function<double()>& round,
            int rounds) {
  std::vector<double> nanos;
  std::printf("%-52s", name);
  for (int i = 0; i < rounds; ++i) {
    const double value = round();
    if (value < 0) {
      std::fprintf(stderr, "\n%s failed\n", name);
      std::exit(1);
    }
    nanos.push_back(value);
    std::printf(" %8.0f", value);
  }
  std::sort(nanos.begin(), nanos.end());
  std::printf("  median %8.0f ns\n", nanos[nanos.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20000;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
  absl::StatusOr<procspec::Queue> queue = procspec::Queue::Create();
  if (!lock.ok() || !queue.ok()) {
    std::fprintf(stderr, "cannot create a Lock or a Queue\n");
    return 1;
  }
  // The item: an int, whose frame and body are a few bytes; the pipe floor
  // writes and reads as many bytes as the Queue's record of it.
  constexpr int kRecordBytes = 16;
  std::printf("%d pairs per round, ns per pair:\n", iterations);
  Report(
      "bare ReleaseSemaphore + WaitForSingleObject",
      [&] {
        return procspec::bench::floor::SemaphoreReleaseWaitNanos(iterations);
      },
      rounds);
  Report(
      "procspec Lock acquire() + release()",
      [&] {
        return NanosPer(
            [&] {
              return static_cast<bool>(lock->acquire()) && lock->release().ok();
            },
            iterations);
      },
      rounds);
  Report(
      "bare WriteFile + ReadFile, 16 bytes, anonymous pipe",
      [&] {
        return procspec::bench::floor::PipeWriteReadNanos(iterations,
                                                          kRecordBytes);
      },
      rounds);
  Report(
      "procspec Queue put(int) + get<int>()",
      [&] {
        int i = 0;
        return NanosPer(
            [&] {
              return queue->put(++i).ok() &&
                     queue->get<int>().value_or(-1) == i;
            },
            iterations);
      },
      rounds);
  return 0;
}
