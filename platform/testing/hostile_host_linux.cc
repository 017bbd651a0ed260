// hostile_host.h on Linux (the calls are POSIX's).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/platform.h"
#include "platform/testing/hostile_host.h"
#include "platform/testing/linux_testing.h"

namespace procspec::platform::testing {
namespace {

using linux_testing::Errno;

// The write end of the reaper's report pipe; -1 until installed.
int g_reaped_write = -1;

void ReapEveryChild(int) {
  const int saved_errno = errno;
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
    const char byte = 1;
    (void)!write(g_reaped_write, &byte, 1);
  }
  errno = saved_errno;
}

}  // namespace

absl::StatusOr<UniqueHandle> InstallChildReaper() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Errno("pipe2");
  // Blocking reads for the caller; the handler's writes stay non-blocking.
  fcntl(fds[0], F_SETFL, 0);
  g_reaped_write = fds[1];
  struct sigaction action = {};
  action.sa_handler = ReapEveryChild;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGCHLD, &action, nullptr) != 0)
    return Errno("sigaction(SIGCHLD)");
  return UniqueHandle(fds[0]);
}

absl::Status IgnoreChildExits() {
  struct sigaction action = {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGCHLD, &action, nullptr) != 0)
    return Errno("sigaction(SIGCHLD, SIG_IGN)");
  return absl::OkStatus();
}

absl::Status SetDescriptorLimit(int limit) {
  const rlimit value = {static_cast<rlim_t>(limit), static_cast<rlim_t>(limit)};
  if (setrlimit(RLIMIT_NOFILE, &value) != 0)
    return Errno(absl::StrCat("setrlimit(RLIMIT_NOFILE, ", limit, ")"));
  return absl::OkStatus();
}

void ExecProgram(const std::vector<std::string>& argv) {
  std::vector<char*> pointers;
  for (const std::string& arg : argv)
    pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  FlushStandardStreams();
  execvp(pointers[0], pointers.data());
  _exit(127);
}

absl::StatusOr<Pid> ForkGrandchildBlockedOn(NativeHandle gate) {
  FlushStandardStreams();
  const pid_t pid = fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    char byte;
    while (read(static_cast<int>(gate), &byte, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  return pid;
}

}  // namespace procspec::platform::testing
