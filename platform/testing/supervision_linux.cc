#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "platform/platform.h"
#include "platform/testing/supervision.h"

extern char** environ;

namespace procspec::platform::testing {
namespace {

absl::Status ErrnoStatus(int error, const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus result;
  if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.value = WTERMSIG(status);
  } else {
    result.value = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace

absl::StatusOr<HostDescription> DescribeHost() {
  utsname name;
  if (uname(&name) != 0) return ErrnoStatus(errno, "uname");
  return HostDescription{name.sysname, name.release, name.machine};
}

// Waits for the program to end without reaping it (so that its pid, which is
// also its group's id, cannot be reused before the group is killed), then
// closes the write end of `ended_signal_`.
struct WatchedProgram::Waiter {
  std::thread thread;
};

absl::StatusOr<std::unique_ptr<WatchedProgram>> WatchedProgram::Start(
    const std::vector<std::string>& argv, bool stdout_to_stderr) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  absl::StatusOr<PipeEnds> progress = MakePipe();
  if (!progress.ok()) return progress.status();
  absl::StatusOr<PipeEnds> ended = MakePipe();
  if (!ended.ok()) return ended.status();

  // dup2 onto another number clears close-on-exec on the copy only, so the
  // program inherits exactly this one end.
  const int write_end = static_cast<int>(progress->write.get());
  const int child_fd = write_end == 3 ? 4 : 3;
  std::vector<std::string> args = argv;
  for (std::string& arg : args) {
    arg = absl::StrReplaceAll(
        arg, {{kProgressFdPlaceholder, std::to_string(child_fd)}});
  }
  std::vector<char*> raw;
  for (std::string& arg : args) raw.push_back(arg.data());
  raw.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  if (stdout_to_stderr)
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end, child_fd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);  // a group of its own
  pid_t pid = 0;
  const int error =
      posix_spawn(&pid, raw[0], &actions, &attributes, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(error)));
  }
  std::unique_ptr<WatchedProgram> program(new WatchedProgram);
  program->pid_ = pid;
  progress->write.reset();
  program->progress_ = std::move(progress->read);
  program->ended_signal_ = std::move(ended->read);
  program->waiter_ = std::make_unique<Waiter>();
  program->waiter_->thread =
      std::thread([pid, end = std::move(ended->write)]() mutable {
        siginfo_t info;
        while (waitid(P_PID, static_cast<id_t>(pid), &info,
                      WEXITED | WNOWAIT) != 0 &&
               errno == EINTR) {
        }
        end.reset();
      });
  return program;
}

WatchedProgram::~WatchedProgram() { (void)KillGroupAndReap(); }

absl::StatusOr<ExitStatus> WatchedProgram::KillGroupAndReap() {
  if (reaped_) return status_;
  // Not reaped yet, so the group's id is still this program's and cannot
  // name anyone else's processes.
  if (killpg(pid_, SIGKILL) != 0 && errno != ESRCH && errno != EPERM) {
    return ErrnoStatus(errno, "killpg");
  }
  if (waiter_ != nullptr && waiter_->thread.joinable()) waiter_->thread.join();
  int status = 0;
  pid_t reaped;
  while ((reaped = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  if (reaped < 0) return ErrnoStatus(errno, "waitpid");
  reaped_ = true;
  ended_ = true;
  status_ = FromWaitStatus(status);
  return status_;
}

absl::StatusOr<UniqueHandle> AdoptProgressDescriptor(int fd) {
  const int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0)
    return ErrnoStatus(errno, "progress descriptor");
  return UniqueHandle(fd);
}

}  // namespace procspec::platform::testing
