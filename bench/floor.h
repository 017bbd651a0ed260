// The physical floors the benchmarks compare procspec with: the bare system
// calls each operation cannot do without (fork + _exit + waitpid, posix_spawn +
// waitpid, kill + waitpid, ...). The only file of bench/ that calls the OS
// (floor_linux.cc); bench/ is a leaf, like conformance/, and nothing in the
// library depends on it.
#ifndef PROCSPEC_BENCH_FLOOR_H_
#define PROCSPEC_BENCH_FLOOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace procspec::bench::floor {

// CLOCK_MONOTONIC in nanoseconds, the clock both a child's exit stamp and the
// parent's wake-up are read from.
std::int64_t MonotonicNanos();

// Busy-waits (on the CPU, no sleep) for `nanos`: a child that has just started
// gives its parent time to block in join()/waitpid() before it exits.
void Spin(std::int64_t nanos);

// One 64-bit slot in memory shared with every child forked after the first
// call (MAP_SHARED | MAP_ANONYMOUS), for the child's exit stamp. Call it
// before procspec::Init, so that a fork server and its children share it too.
std::int64_t* SharedStamp();

// The child's side of a wake-up measurement: spins `spin_nanos`, writes
// MonotonicNanos() to SharedStamp() and _exits with 0 at once.
[[noreturn]] void StampAndExit(std::int64_t spin_nanos);

// _exit(0): a child that ends at once, without atexit handlers.
[[noreturn]] void ExitNow();

// fork(); the child _exits with 0 at once; waitpid. The exit code (-1 on a
// failure).
int ForkExitWait();

// fork(); the child _exits with 0 at once. Returns its pid (-1 on a failure).
std::int64_t ForkExitChild();

// fork(); the child runs `body` and _exits with 0. Its pid (-1 on a failure).
std::int64_t ForkAndRun(const std::function<void()>& body);

// A blocking waitpid of `pid`; its exit code, -N for a death by signal N, or
// -1000 on a failure.
int WaitPid(std::int64_t pid);

// Blocks until child `pid` has exited, without reaping it (waitid with
// WEXITED | WNOWAIT): the kernel's own wake-up of a parent waiting for a
// child, which leaves the child for its owner to reap. False on a failure.
bool AwaitExitNoReap(std::int64_t pid);

// posix_spawn of `path` with the arguments {path, flag} and this environment,
// then waitpid: the exit code (as WaitPid).
int SpawnWait(const std::string& path, const std::string& flag);

// All of `size` bytes to `fd`; false on a failure.
bool WriteBytes(int fd, const char* data, std::size_t size);
// Exactly `size` bytes from `fd`; false on a failure or end of file.
bool ReadBytes(int fd, char* data, std::size_t size);
// What one read() of up to `size` bytes returns (0 at end of file, -1 on a
// failure).
long ReadSome(int fd, char* data, std::size_t size);
// PIPE_BUF: the largest write a pipe keeps whole.
std::size_t PipeBuf();

// A close-on-exec pipe; false on a failure.
bool MakePipe(int* read_end, int* write_end);
void Close(int fd);
// One byte through a pipe; false on a failure or end of file.
bool WriteByte(int fd);
bool ReadByte(int fd);

// A child that writes one byte to `ready` and then blocks until a signal
// ends it (pause(), no timer).
[[noreturn]] void SignalReadyAndBlock(int ready);
// fork(); the child runs SignalReadyAndBlock(ready). Its pid (-1 on a
// failure).
std::int64_t ForkBlockedChild(int ready);
// kill(pid, SIGTERM) then waitpid: the exit code (as WaitPid).
int TerminateAndWait(std::int64_t pid);

// A lock word (0: free) in memory shared with every child forked after the
// call (a MAP_SHARED page of its own; never unmapped). nullptr on a failure.
std::int32_t* NewSharedLockWord();
// A futex mutex on that word (Drepper's "Futexes Are Tricky", mutex 2): one
// compare-and-swap to take it free, one atomic decrement to give it back
// uncontended; FUTEX_WAIT/FUTEX_WAKE (process-shared) otherwise. It has no
// owner: any process may unlock it, as procspec::Lock.
void FutexLock(std::int32_t* word);
void FutexUnlock(std::int32_t* word);

// The path of this executable (/proc/self/exe).
std::string SelfPath();

// Runs `argv` (argv[0] the program's path) with its standard output on a
// pipe, waits for it, and returns the integer it printed; -1 if it could not
// be started, did not exit with 0 or printed no number.
std::int64_t RunForNumber(const std::vector<std::string>& argv);

// Raises this process's soft limit of open descriptors to its hard limit (a
// thousand children at once need a pidfd and a pipe each). False on a
// failure.
bool RaiseDescriptorLimit();

}  // namespace procspec::bench::floor

#endif  // PROCSPEC_BENCH_FLOOR_H_
