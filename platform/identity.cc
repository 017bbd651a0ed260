// Process identity and the standard streams.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <iostream>

#include "absl/status/status.h"
#include "platform/internal/errors.h"
#include "platform/platform.h"

namespace procspec::platform {

namespace {

// getpid() is a system call (0.1 to 0.6 us in a VM), and procspec asks for
// its pid on every start(), join(), signal and lock operation (a forkserver
// start+join asked 33 times). So the answer is cached, and forgotten in every
// child by a pthread_atfork handler, which fork() runs (the library only
// forks with fork()). A process made without fork()'s handlers (a raw clone()
// or _Fork()) that went on to use procspec would see its parent's pid.
std::atomic<Pid> g_pid{0};

void ForgetPidInChild() { g_pid.store(0, std::memory_order_relaxed); }

}  // namespace

Pid CurrentPid() {
  Pid pid = g_pid.load(std::memory_order_relaxed);
  if (pid != 0) return pid;
  // Registered before the first answer is cached, so no child keeps it.
  static const bool registered =
      pthread_atfork(nullptr, nullptr, &ForgetPidInChild) == 0;
  pid = getpid();
  if (registered) g_pid.store(pid, std::memory_order_relaxed);
  return pid;
}

namespace internal {
std::atomic<std::uint64_t> fork_generation{0};
}  // namespace internal

namespace {

// In the child, on the forking thread, before fork() returns there: the only
// thread of the new process.
void CountForkInChild() {
  internal::fork_generation.fetch_add(1, std::memory_order_relaxed);
}

// Before main, in every binary that reads ForkGeneration() (the inline
// function refers to fork_generation, which links this file in). Fails only
// with ENOMEM; the generation then stays put, as without a fork.
const bool fork_counter_registered =
    pthread_atfork(nullptr, nullptr, &CountForkInChild) == 0;

}  // namespace

int CpuCount() {
  // CPython's os.cpu_count(): the CPUs online, not the ones this process may
  // run on.
  const long count = sysconf(_SC_NPROCESSORS_ONLN);
  return count < 1 ? 1 : static_cast<int>(count);
}

absl::Status RedirectStdinToNull() {
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return internal::ErrnoError(errno, "open /dev/null");
  if (null_fd == STDIN_FILENO) {
    // Standard input was closed, so open() reused 0; a standard stream must
    // survive exec.
    if (fcntl(STDIN_FILENO, F_SETFD, 0) < 0)
      return internal::ErrnoError(errno, "fcntl");
  } else {
    int result;
    do {
      result = dup2(null_fd, STDIN_FILENO);
    } while (result < 0 && errno == EINTR);
    const int saved_errno = errno;
    close(null_fd);
    if (result < 0) return internal::ErrnoError(saved_errno, "dup2");
  }
  // A stream that hit end of file or an error on the old input would keep
  // reporting it.
  clearerr(stdin);
  std::cin.clear();
  return absl::OkStatus();
}

void ExitImmediately(int code) { _exit(code); }

void FlushStandardStreams() {
  // C++ streams first: with sync_with_stdio (the default) they write through
  // stdio, and otherwise they have buffers of their own that stdio knows
  // nothing about.
  std::cout.flush();
  std::cerr.flush();
  std::clog.flush();
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace procspec::platform
