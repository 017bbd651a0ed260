// fault_injection on Linux: seccomp, setitimer and PID namespaces.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/linux_testing.h"

namespace procspec::platform::testing {
namespace {

using linux_testing::Errno;

// RunInNewPidNamespace's intermediate child: the OS refused the namespace.
constexpr int kNoNamespace = 254;

// The storm's tick pipe (write end, non-blocking), read by the handler.
std::atomic<int> g_tick_fd{-1};

void OnStormSignal(int) {
  const int saved_errno = errno;
  const int fd = g_tick_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    const char byte = 't';
    // Full pipe: the tick is dropped (EAGAIN); nothing else can fail here.
    (void)!write(fd, &byte, 1);
  }
  errno = saved_errno;
}

ExitStatus FromWaitStatus(int status) {
  if (WIFSIGNALED(status)) return {.signaled = true, .value = WTERMSIG(status)};
  return {.signaled = false, .value = WEXITSTATUS(status)};
}

absl::StatusOr<int> WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Errno(absl::StrCat("waitpid(", pid, ")"));
  }
  return status;
}

#ifdef PROCSPEC_SECCOMP_ARCH
// Which process-creating calls a clone filter refuses (with EAGAIN).
struct CloneDenial {
  // fork() and vfork(), where the architecture has them.
  bool fork_calls;
  // clone() is refused when its flags have `flag` set (deny_when_set) or
  // clear (!deny_when_set).
  std::uint32_t flag;
  bool deny_when_set;
};

// Installs a seccomp filter that refuses the calls `denial` names. clone's
// flags are its first argument (the low 32 bits hold CLONE_THREAD and
// CLONE_VM); clone3's are behind a pointer a filter cannot follow, so clone3
// always reports ENOSYS and the C library retries with clone.
absl::Status InstallCloneFilter(CloneDenial denial) {
#ifndef SYS_clone3
#define SYS_clone3 435  // The same number on every architecture.
#endif
#ifdef SYS_fork
  constexpr std::uint32_t kFork = SYS_fork;
#else
  constexpr std::uint32_t kFork = 0xffffffff;  // No such call here.
#endif
#ifdef SYS_vfork
  constexpr std::uint32_t kVfork = SYS_vfork;
#else
  constexpr std::uint32_t kVfork = 0xffffffff;
#endif
  constexpr std::uint32_t kDeny =
      SECCOMP_RET_ERRNO | (EAGAIN & SECCOMP_RET_DATA);
  constexpr std::uint32_t kNoClone3 =
      SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
  std::vector<sock_filter> filter = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROCSPEC_SECCOMP_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kNoClone3),
  };
  if (denial.fork_calls) {
    // Jump offsets count from the next instruction: to the kDeny return.
    filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kFork, 4, 0));
    filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kVfork, 3, 0));
  }
  // Not clone: to the final allow.
  filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3));
  filter.push_back(
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args)));
  const std::uint8_t to_deny = denial.deny_when_set ? 0 : 1;
  const std::uint8_t to_allow = denial.deny_when_set ? 1 : 0;
  filter.push_back(
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, denial.flag, to_deny, to_allow));
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, kDeny));
  filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return linux_testing::InstallSeccompFilter(absl::MakeSpan(filter));
}
#endif  // PROCSPEC_SECCOMP_ARCH

absl::Status DenyClone(std::string_view caller, CloneDenial denial) {
#ifdef PROCSPEC_SECCOMP_ARCH
  (void)caller;
  return InstallCloneFilter(denial);
#else
  (void)denial;
  return absl::UnimplementedError(
      absl::StrCat(caller, ": unknown architecture"));
#endif
}

}  // namespace

absl::Status DenyProcessCreation() {
  // fork, vfork, and clone without CLONE_THREAD.
  return DenyClone(
      "DenyProcessCreation",
      {.fork_calls = true, .flag = CLONE_THREAD, .deny_when_set = false});
}

absl::Status DenyThreadCreation() {
  // clone with CLONE_THREAD; fork and vfork stay allowed.
  return DenyClone(
      "DenyThreadCreation",
      {.fork_calls = false, .flag = CLONE_THREAD, .deny_when_set = true});
}

absl::Status DenyForking() {
  // fork, vfork, and clone without CLONE_VM (posix_spawn's clone shares
  // memory and stays allowed).
  return DenyClone(
      "DenyForking",
      {.fork_calls = true, .flag = CLONE_VM, .deny_when_set = false});
}

struct SignalStorm::Saved {
  struct sigaction action = {};
  itimerval timer = {};
};

absl::StatusOr<std::unique_ptr<SignalStorm>> SignalStorm::Start(
    absl::Duration period) {
  if (g_tick_fd.load() >= 0)
    return absl::FailedPreconditionError("a SignalStorm is already running");
  std::unique_ptr<SignalStorm> storm(new SignalStorm());
  storm->saved_ = std::make_unique<Saved>();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
  storm->ticks_.read.reset(fds[0]);
  storm->ticks_.write.reset(fds[1]);
  if (fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) return Errno("fcntl");
  g_tick_fd.store(fds[1]);
  struct sigaction action = {};
  action.sa_handler = OnStormSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // No SA_RESTART: interrupted calls fail with EINTR.
  if (sigaction(SIGALRM, &action, &storm->saved_->action) != 0) {
    g_tick_fd.store(-1);
    return Errno("sigaction(SIGALRM)");
  }
  const timeval interval = absl::ToTimeval(period);
  const itimerval timer = {.it_interval = interval, .it_value = interval};
  if (setitimer(ITIMER_REAL, &timer, &storm->saved_->timer) != 0) {
    const absl::Status error = Errno("setitimer");
    sigaction(SIGALRM, &storm->saved_->action, nullptr);
    g_tick_fd.store(-1);
    return error;
  }
  return storm;
}

SignalStorm::~SignalStorm() {
  if (saved_ == nullptr) return;
  setitimer(ITIMER_REAL, &saved_->timer, nullptr);
  // Ignoring the signal discards one still pending, which the restored
  // disposition (by default: terminate) would otherwise receive.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGALRM, &ignore, nullptr);
  sigaction(SIGALRM, &saved_->action, nullptr);
  g_tick_fd.store(-1);
}

absl::Status SignalStorm::BlockInThisThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  if (const int error = pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0) {
    errno = error;
    return Errno("pthread_sigmask");
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> RunInNewPidNamespace(absl::FunctionRef<int()> body) {
  const pid_t outer = fork();
  if (outer < 0) return Errno("fork");
  if (outer == 0) {
    if (unshare(CLONE_NEWPID) != 0) _exit(kNoNamespace);
    const pid_t init = fork();
    if (init < 0) _exit(kNoNamespace);
    if (init == 0) _exit(body() & 0xff);
    int status = 0;
    while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
      signal(WTERMSIG(status), SIG_DFL);
      kill(getpid(), WTERMSIG(status));
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 255);
  }
  absl::StatusOr<int> status = WaitFor(outer);
  if (!status.ok()) return status.status();
  const ExitStatus exit = FromWaitStatus(*status);
  if (!exit.signaled && exit.value == kNoNamespace) {
    return absl::UnavailableError(
        "the OS refused a new PID namespace (unshare(CLONE_NEWPID))");
  }
  return exit;
}

absl::Status SetNextPid(Pid pid) {
  const int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open /proc/sys/kernel/ns_last_pid");
  const std::string text = absl::StrCat(pid - 1);
  ssize_t written;
  do {
    written = write(fd, text.data(), text.size());
  } while (written < 0 && errno == EINTR);
  const absl::Status status = written < 0
                                  ? Errno("write /proc/sys/kernel/ns_last_pid")
                                  : absl::OkStatus();
  close(fd);
  return status;
}

bool CanChooseNextPid() {
  static const bool can = [] {
    constexpr Pid kChosen = 77;
    absl::StatusOr<ExitStatus> probe = RunInNewPidNamespace([] {
      if (!SetNextPid(kChosen).ok()) return 1;
      const pid_t child = fork();
      if (child < 0) return 2;
      if (child == 0) _exit(0);
      int status;
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      return child == kChosen ? 0 : 3;
    });
    return probe.ok() && *probe == ExitStatus{.signaled = false, .value = 0};
  }();
  return can;
}

}  // namespace procspec::platform::testing
