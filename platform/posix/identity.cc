// Process identity and the standard streams.
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "platform/platform.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/posix_io.h"

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

namespace {

struct RecordedPath {
  std::mutex mu;
  bool recorded = false;
  std::string path;
};

RecordedPath& Recorded() {
  static auto* recorded = new RecordedPath();
  return *recorded;
}

bool IsExecutableFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

std::string CurrentDirectory() {
  std::string buffer(PATH_MAX, '\0');
  if (getcwd(buffer.data(), buffer.size()) == nullptr) return "";
  buffer.resize(std::strlen(buffer.c_str()));
  return buffer;
}

std::string Absolute(const std::string& path, const std::string& cwd) {
  if (!path.empty() && path[0] == '/') return path;
  if (cwd.empty()) return "";
  return cwd == "/" ? "/" + path : cwd + "/" + path;
}

}  // namespace

namespace internal {

std::string ResolveProgramPath(std::string_view argv0, std::string_view cwd,
                               std::optional<std::string_view> path_variable) {
  const std::string name(argv0);
  const std::string directory(cwd);
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return Absolute(name, directory);
  // POSIX: an unset PATH searches an implementation-defined path; CPython
  // uses os.defpath, "/bin:/usr/bin".
  const std::string_view search = path_variable.value_or("/bin:/usr/bin");
  std::size_t start = 0;
  while (start <= search.size()) {
    std::size_t end = search.find(':', start);
    if (end == std::string_view::npos) end = search.size();
    // An empty entry is the current directory.
    const std::string entry =
        end > start ? std::string(search.substr(start, end - start)) : ".";
    const std::string candidate = Absolute(entry + "/" + name, directory);
    if (!candidate.empty() && IsExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace internal

void RecordProgramPath(const char* argv0) {
  if (argv0 == nullptr) return;
  RecordedPath& recorded = Recorded();
  std::lock_guard<std::mutex> lock(recorded.mu);
  if (recorded.recorded) return;
  recorded.recorded = true;
  const char* path = std::getenv("PATH");
  recorded.path = internal::ResolveProgramPath(
      argv0, CurrentDirectory(),
      path == nullptr ? std::nullopt : std::optional<std::string_view>(path));
}

std::string ProgramPath() {
  RecordedPath& recorded = Recorded();
  std::lock_guard<std::mutex> lock(recorded.mu);
  return recorded.path;
}

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

}  // namespace procspec::platform
