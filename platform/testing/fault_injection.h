// Test-only fault injection (platform/testing): making process creation fail,
// interrupting system calls with a storm of signals, and choosing the pid the
// next child gets. Kept in platform/ so that nothing else includes an OS
// header. Linux implementations (seccomp, setitimer, PID namespaces).
#ifndef PROCSPEC_PLATFORM_TESTING_FAULT_INJECTION_H_
#define PROCSPEC_PLATFORM_TESTING_FAULT_INJECTION_H_

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::testing {

// Irreversibly makes every later attempt of the calling process to create a
// process (fork, vfork, clone without CLONE_THREAD) fail with EAGAIN, as
// RLIMIT_NPROC does for an unprivileged user (root ignores RLIMIT_NPROC, so a
// test running as root cannot use it). clone3 fails with ENOSYS, so that the C
// library falls back to clone, which the filter can inspect; threads can still
// be created. A seccomp filter; Unimplemented where the OS cannot filter system
// calls. For a test's child only: the filter is inherited by every descendant.
absl::Status DenyProcessCreation();
// As DenyProcessCreation, for fork() only: a clone that shares the caller's
// memory (a thread, posix_spawn's vfork-style clone) is still allowed, so a
// process spawned afterwards runs and inherits the filter, and its own forks
// fail with EAGAIN.
absl::Status DenyForking();

// Irreversibly makes every later attempt of the calling process to create a
// thread (clone with CLONE_THREAD) fail with EAGAIN, as RLIMIT_NPROC or
// RLIMIT_AS make pthread_create fail; clone3 fails with ENOSYS, as above.
// Processes can still be created. A seccomp filter; Unimplemented where the OS
// cannot filter system calls. For a test's child only.
absl::Status DenyThreadCreation();

// An interval timer that interrupts this process with a signal (SIGALRM, with
// a handler that does nothing, installed without SA_RESTART so that blocking
// calls fail with EINTR) every `period` while the object lives. The previous
// disposition and timer are restored on destruction. One at a time per
// process. Forked children do not inherit the timer.
class SignalStorm {
 public:
  static absl::StatusOr<std::unique_ptr<SignalStorm>> Start(
      absl::Duration period);
  SignalStorm(const SignalStorm&) = delete;
  SignalStorm& operator=(const SignalStorm&) = delete;
  ~SignalStorm();

  // A descriptor that receives one byte per signal delivered (the handler
  // writes it; bytes beyond the pipe's capacity are dropped). Blocking reads.
  NativeHandle ticks() const { return ticks_.read.get(); }
  // Blocks the storm's signal in the calling thread, so that the signals go to
  // the process's other threads (e.g. the one under test).
  static absl::Status BlockInThisThread();

 private:
  SignalStorm() = default;
  PipeEnds ticks_;
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

// Runs `body` as process 1 of a new PID namespace (a grandchild of this
// process: a child unshares CLONE_NEWPID and forks it), waits for it and
// returns its exit status (exit code `body`'s return value & 0xff; `body` must
// not return 254). Processes `body` starts are in the namespace and are killed
// when it ends. Unavailable (naming why) if the OS refuses a new PID namespace.
// `body` runs in a forked copy of this process and must not return into the
// caller's frames: it ends with _exit.
absl::StatusOr<ExitStatus> RunInNewPidNamespace(absl::FunctionRef<int()> body);

// In a process whose PID namespace it may administer (e.g. process 1 of
// RunInNewPidNamespace): the next process created in the namespace gets `pid`,
// if that pid is free (writes pid - 1 to /proc/sys/kernel/ns_last_pid).
absl::Status SetNextPid(Pid pid);

// Whether this host lets a test create a PID namespace and choose the next pid
// in it (probed once, by forking): the host capability "pid_namespace".
bool CanChooseNextPid();

}  // namespace procspec::platform::testing

#endif  // PROCSPEC_PLATFORM_TESTING_FAULT_INJECTION_H_
