// The floors of the Windows benches: a bare CreateProcessW of a program and a
// wait for its exit; a kernel semaphore's release and wait; an anonymous
// pipe's write and read (floor_windows.cc, the only file of the Windows bench
// that calls the OS).
#ifndef PROCSPEC_BENCH_FLOOR_WINDOWS_H_
#define PROCSPEC_BENCH_FLOOR_WINDOWS_H_

#include <string>

namespace procspec::bench::floor {

// CreateProcessW of `program` with the argument `argument`, nothing inherited,
// then WaitForSingleObject and GetExitCodeProcess: its exit code, or -1 on a
// failure.
int CreateProcessAndWait(const std::string& program,
                         const std::string& argument);

// The primitives a Lock and a Queue stand on, timed within one process:
// `iterations` ReleaseSemaphore + WaitForSingleObject pairs on an anonymous
// semaphore; `iterations` WriteFile + ReadFile pairs of `size` bytes on an
// anonymous pipe (CreatePipe). Each returns the nanoseconds per pair, or -1
// on a failure.
double SemaphoreReleaseWaitNanos(int iterations);
double PipeWriteReadNanos(int iterations, int size);

}  // namespace procspec::bench::floor

#endif  // PROCSPEC_BENCH_FLOOR_WINDOWS_H_
