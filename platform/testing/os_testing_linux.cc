// os_testing on Linux: /proc for descriptors and processes, prctl for the
// subreaper.
#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/linux_testing.h"
#include "platform/testing/os_testing.h"

extern char** environ;

namespace procspec::platform::testing {
namespace {

using linux_testing::Errno;

std::optional<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::optional<std::string> ReadLink(const std::string& path) {
  char buffer[PATH_MAX];
  const ssize_t size = readlink(path.c_str(), buffer, sizeof(buffer));
  if (size < 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(size));
}

// The numeric entries of a /proc directory.
absl::StatusOr<std::vector<std::int64_t>> NumericEntries(
    const std::string& path, int* listing_fd = nullptr) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return Errno(absl::StrCat("opendir ", path));
  if (listing_fd != nullptr) *listing_fd = dirfd(dir);
  std::vector<std::int64_t> numbers;
  while (const dirent* entry = readdir(dir)) {
    std::int64_t number;
    if (absl::SimpleAtoi(entry->d_name, &number)) numbers.push_back(number);
  }
  closedir(dir);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// The fields of /proc/<pid>/stat that tests need. The command name is in
// parentheses and may itself contain spaces and parentheses, so the fields
// after it are found from the last ')'.
struct Stat {
  std::string command;
  char state = '?';
  Pid parent = 0;
};

std::optional<Stat> ReadStat(Pid pid) {
  std::optional<std::string> text =
      ReadTextFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!text.has_value()) return std::nullopt;
  const std::size_t open = text->find('(');
  const std::size_t close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return std::nullopt;
  Stat stat;
  stat.command = text->substr(open + 1, close - open - 1);
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(*text).substr(close + 1), ' ', absl::SkipEmpty());
  if (fields.size() < 2 || fields[0].size() != 1) return std::nullopt;
  stat.state = fields[0][0];
  if (!absl::SimpleAtoi(fields[1], &stat.parent)) return std::nullopt;
  return stat;
}

ProcessState StateFromCode(char code) {
  switch (code) {
    case 'Z':
      return ProcessState::kZombie;
    case 'X':  // Dead: being removed this instant.
      return ProcessState::kGone;
    default:
      return ProcessState::kRunning;
  }
}

// This process's children, from the per-thread "children" files (a child
// belongs to the thread that forked it). Nullopt if the kernel has no such
// files (CONFIG_PROC_CHILDREN).
std::optional<std::vector<Pid>> ChildrenFromTaskFiles() {
  absl::StatusOr<std::vector<std::int64_t>> tasks =
      NumericEntries("/proc/self/task");
  if (!tasks.ok()) return std::nullopt;
  std::vector<Pid> children;
  for (std::int64_t task : *tasks) {
    std::optional<std::string> text =
        ReadTextFile(absl::StrCat("/proc/self/task/", task, "/children"));
    if (!text.has_value()) {
      if (task == getpid()) return std::nullopt;
      continue;  // A thread that has just ended.
    }
    for (absl::string_view word :
         absl::StrSplit(*text, ' ', absl::SkipWhitespace())) {
      Pid pid;
      if (absl::SimpleAtoi(word, &pid)) children.push_back(pid);
    }
  }
  return children;
}

absl::StatusOr<std::vector<Pid>> ChildrenFromProcScan() {
  absl::StatusOr<std::vector<std::int64_t>> pids = NumericEntries("/proc");
  if (!pids.ok()) return pids.status();
  std::vector<Pid> children;
  const Pid self = getpid();
  for (std::int64_t pid : *pids) {
    std::optional<Stat> stat = ReadStat(pid);
    if (stat.has_value() && stat->parent == self) children.push_back(pid);
  }
  return children;
}

}  // namespace

absl::StatusOr<std::vector<NativeHandle>> OpenDescriptors() {
  int listing_fd = -1;
  absl::StatusOr<std::vector<std::int64_t>> fds =
      NumericEntries("/proc/self/fd", &listing_fd);
  if (!fds.ok()) return fds.status();
  std::vector<NativeHandle> handles;
  for (std::int64_t fd : *fds) {
    // The directory stream that listed /proc/self/fd was open while listing it.
    if (fd != listing_fd) handles.push_back(static_cast<NativeHandle>(fd));
  }
  return handles;
}

std::string DescribeDescriptor(NativeHandle handle) {
  std::optional<std::string> target =
      ReadLink(absl::StrCat("/proc/self/fd/", handle));
  if (!target.has_value()) return "";
  if (*target == "anon_inode:[pidfd]") {
    // All pidfds share one name; the process it refers to tells two apart.
    std::optional<std::string> info =
        ReadTextFile(absl::StrCat("/proc/self/fdinfo/", handle));
    if (info.has_value()) {
      for (absl::string_view line : absl::StrSplit(*info, '\n')) {
        if (absl::ConsumePrefix(&line, "Pid:")) {
          absl::StrAppend(&*target, " pid ", absl::StripAsciiWhitespace(line));
        }
      }
    }
  }
  return *target;
}

bool IsOpen(NativeHandle handle) {
  return fcntl(static_cast<int>(handle), F_GETFD) >= 0;
}

absl::StatusOr<bool> IsCloseOnExec(NativeHandle handle) {
  const int flags = fcntl(static_cast<int>(handle), F_GETFD);
  if (flags < 0) return Errno(absl::StrCat("fcntl(", handle, ", F_GETFD)"));
  return (flags & FD_CLOEXEC) != 0;
}

std::string_view ProcessStateName(ProcessState state) {
  switch (state) {
    case ProcessState::kRunning:
      return "running";
    case ProcessState::kZombie:
      return "zombie";
    case ProcessState::kGone:
      return "gone";
  }
  return "unknown";
}

absl::StatusOr<std::vector<ChildInfo>> ListChildren() {
  std::vector<Pid> pids;
  if (std::optional<std::vector<Pid>> from_tasks = ChildrenFromTaskFiles()) {
    pids = *std::move(from_tasks);
  } else {
    absl::StatusOr<std::vector<Pid>> scanned = ChildrenFromProcScan();
    if (!scanned.ok()) return scanned.status();
    pids = *std::move(scanned);
  }
  std::sort(pids.begin(), pids.end());
  std::vector<ChildInfo> children;
  for (Pid pid : pids) {
    std::optional<Stat> stat = ReadStat(pid);
    if (!stat.has_value()) continue;  // Reaped by another thread meanwhile.
    const ProcessState state = StateFromCode(stat->state);
    if (state == ProcessState::kGone) continue;
    children.push_back(
        ChildInfo{.pid = pid, .state = state, .command = stat->command});
  }
  return children;
}

ProcessState StateOf(Pid pid) {
  std::optional<Stat> stat = ReadStat(pid);
  return stat.has_value() ? StateFromCode(stat->state) : ProcessState::kGone;
}

absl::StatusOr<Pid> ParentOf(Pid pid) {
  std::optional<Stat> stat = ReadStat(pid);
  if (!stat.has_value())
    return absl::NotFoundError(absl::StrCat("no process ", pid));
  return stat->parent;
}

std::vector<std::string> HostCapabilities() {
  std::vector<std::string> capabilities;
  if (access("/proc/self/stat", R_OK) == 0 &&
      access("/proc/self/fd", R_OK) == 0) {
    capabilities.push_back("proc_fs");
  }
  int subreaper = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0) {
    capabilities.push_back("child_subreaper");
  }
  if (CanChooseNextPid()) capabilities.push_back("pid_namespace");
  return capabilities;
}

absl::Status BecomeChildSubreaper() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    if (errno == EINVAL)
      return absl::UnimplementedError("this kernel has no child subreapers");
    return Errno("prctl(PR_SET_CHILD_SUBREAPER)");
  }
  return absl::OkStatus();
}

absl::Status SignalPid(Pid pid, int signal_number) {
  if (kill(static_cast<pid_t>(pid), signal_number) != 0) {
    return Errno(absl::StrCat("kill(", pid, ", ", signal_number, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> ReapPid(Pid pid) {
  int wait_status = 0;
  while (waitpid(static_cast<pid_t>(pid), &wait_status, 0) < 0) {
    if (errno != EINTR) return Errno(absl::StrCat("waitpid(", pid, ")"));
  }
  if (WIFSIGNALED(wait_status))
    return ExitStatus{.signaled = true, .value = WTERMSIG(wait_status)};
  return ExitStatus{.signaled = false, .value = WEXITSTATUS(wait_status)};
}

absl::Status IgnoreSignal(int signal_number) {
  struct sigaction action = {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  if (sigaction(signal_number, &action, nullptr) != 0) {
    return Errno(absl::StrCat("sigaction(", signal_number, ", SIG_IGN)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char* resolved = realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return Errno(absl::StrCat("realpath ", path));
  std::string result(resolved);
  free(resolved);
  return result;
}

int ChildSignalNumber() { return SIGCHLD; }

namespace {
extern "C" void ReapAllChildren(int) {
  const int saved_errno = errno;
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  errno = saved_errno;
}
}  // namespace

absl::Status InstallReapAllHandler() {
  struct sigaction action = {};
  action.sa_handler = ReapAllChildren;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(SIGCHLD, &action, nullptr) != 0)
    return Errno("sigaction(SIGCHLD)");
  return absl::OkStatus();
}

absl::Status SetDescriptorLimit(long soft, long hard) {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Errno("getrlimit");
  if (soft >= 0) limit.rlim_cur = static_cast<rlim_t>(soft);
  if (hard >= 0) limit.rlim_max = static_cast<rlim_t>(hard);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return Errno("setrlimit");
  return absl::OkStatus();
}

absl::StatusOr<std::pair<long, long>> DescriptorLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return Errno("getrlimit");
  return std::make_pair(static_cast<long>(limit.rlim_cur),
                        static_cast<long>(limit.rlim_max));
}

absl::StatusOr<NativeHandle> OpenInheritable(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd < 0) return Errno(absl::StrCat("open ", path));
  return fd;
}

absl::StatusOr<Pid> ForkUntilEndOfFile(NativeHandle gate,
                                       NativeHandle close_first) {
  const pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    if (close_first != kInvalidHandle) close(static_cast<int>(close_first));
    char byte;
    while (true) {
      const ssize_t got = read(static_cast<int>(gate), &byte, 1);
      if (got == 0 || (got < 0 && errno != EINTR)) break;
    }
    _exit(0);
  }
  return pid;
}

absl::Status AwaitExitWithoutReaping(Pid pid) {
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return Errno(absl::StrCat("waitid(", pid, ")"));
  }
  return absl::OkStatus();
}

absl::Status DenySignalSending() {
#ifdef PROCSPEC_SECCOMP_ARCH
  constexpr std::uint32_t kArch = PROCSPEC_SECCOMP_ARCH;
#else
  return absl::UnimplementedError("DenySignalSending: unknown architecture");
#endif
#ifdef PROCSPEC_SECCOMP_ARCH
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424  // The same number on every architecture.
#endif
  constexpr std::uint32_t kDeny =
      SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  // Any other architecture is let through unchanged (it cannot happen here,
  // but a filter must decide); the listed calls fail with EPERM.
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 5, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tkill, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigqueueinfo, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_tgsigqueueinfo, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kDeny),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return linux_testing::InstallSeccompFilter(filter);
#endif
}

void DieBySignal(int signal_number) {
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal_number, &action, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal_number);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  raise(signal_number);
  // A signal whose default action is not to terminate (SIGCHLD, ...) lands
  // here.
  std::abort();
}

int SegvSignalNumber() { return SIGSEGV; }
int AbortSignalNumber() { return SIGABRT; }
int KillSignalNumber() { return SIGKILL; }

absl::StatusOr<std::string> CurrentExecutable() {
  std::optional<std::string> path = ReadLink("/proc/self/exe");
  if (!path.has_value()) return Errno("readlink /proc/self/exe");
  return *path;
}

absl::StatusOr<ExitStatus> SpawnAndWait(const std::vector<std::string>& argv) {
  if (argv.empty())
    return absl::InvalidArgumentError("SpawnAndWait: empty argv");
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  const int spawn_error = posix_spawn(&pid, argv[0].c_str(), nullptr, nullptr,
                                      args.data(), environ);
  if (spawn_error != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(spawn_error)));
  }
  return ReapPid(pid);
}

absl::StatusOr<ExitStatus> ForkExitAndWait() {
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(std::strerror(errno));
  if (pid == 0) _exit(0);
  return ReapPid(pid);
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Time deadline) {
  if (argv.empty()) return absl::InvalidArgumentError("RunCommand: empty argv");
  absl::StatusOr<PipeEnds> out = MakePipe();
  if (!out.ok()) return out.status();
  absl::StatusOr<PipeEnds> err = MakePipe();
  if (!err.ok()) return err.status();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  // dup2 clears close-on-exec on the target, so the pipes become the child's
  // stdout and stderr while every other pipe end closes at exec.
  posix_spawn_file_actions_adddup2(&actions, static_cast<int>(out->write.get()),
                                   STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, static_cast<int>(err->write.get()),
                                   STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  const int spawn_error = posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr,
                                       args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(spawn_error)));
  }
  out->write.reset();
  err->write.reset();

  CommandResult result;
  UniqueHandle* streams[] = {&out->read, &err->read};
  std::string* sinks[] = {&result.out, &result.err};
  bool timed_out = false;
  while (!timed_out && (streams[0]->valid() || streams[1]->valid())) {
    std::vector<NativeHandle> open;
    std::vector<int> which;
    for (int i = 0; i < 2; ++i) {
      if (streams[i]->valid()) {
        open.push_back(streams[i]->get());
        which.push_back(i);
      }
    }
    absl::StatusOr<std::vector<std::size_t>> ready =
        WaitReadable(open, deadline);
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      timed_out = true;
      break;
    }
    for (std::size_t index : *ready) {
      const int i = which[index];
      absl::StatusOr<std::string> chunk = ReadSome(streams[i]->get(), 65536);
      if (!chunk.ok() || chunk->empty()) {
        streams[i]->reset();
      } else {
        *sinks[i] += *chunk;
      }
    }
  }
  if (timed_out) kill(pid, SIGKILL);
  absl::StatusOr<ExitStatus> status = ReapPid(pid);
  if (!status.ok()) return status.status();
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(argv[0], " was still running at the deadline"));
  }
  result.status = *status;
  return result;
}

void SetEnv(const std::string& name, const std::string& value) {
  setenv(name.c_str(), value.c_str(), 1);
}

std::optional<std::string> GetEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace procspec::platform::testing
