// The floors' system calls (see floor.h). Linux: /proc/self/exe names the
// executable; everything else is POSIX.
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/floor.h"

extern char** environ;

namespace procspec::bench::floor {

std::int64_t MonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

void Spin(std::int64_t nanos) {
  const std::int64_t until = MonotonicNanos() + nanos;
  while (MonotonicNanos() < until) {
  }
}

std::int64_t* SharedStamp() {
  static std::int64_t* const slot = [] {
    void* page = mmap(nullptr, sizeof(std::int64_t), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return page == MAP_FAILED ? nullptr : static_cast<std::int64_t*>(page);
  }();
  return slot;
}

void StampAndExit(std::int64_t spin_nanos) {
  Spin(spin_nanos);
  __atomic_store_n(SharedStamp(), MonotonicNanos(), __ATOMIC_SEQ_CST);
  _exit(0);
}

void ExitNow() { _exit(0); }

int WaitPid(std::int64_t pid) {
  int status = 0;
  pid_t got;
  do {
    got = waitpid(static_cast<pid_t>(pid), &status, 0);
  } while (got < 0 && errno == EINTR);
  if (got != pid) return -1000;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

bool AwaitExitNoReap(std::int64_t pid) {
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

std::int64_t ForkExitChild() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  return pid;
}

std::int64_t ForkAndRun(const std::function<void()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  return pid;
}

int ForkExitWait() {
  const std::int64_t pid = ForkExitChild();
  return pid < 0 ? -1 : WaitPid(pid);
}

int SpawnWait(const std::string& path, const std::string& flag) {
  std::string arg0 = path, arg1 = flag;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid;
  if (posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv, environ) != 0)
    return -1;
  return WaitPid(pid);
}

bool MakePipe(int* read_end, int* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  *read_end = fds[0];
  *write_end = fds[1];
  return true;
}

void Close(int fd) { close(fd); }

bool WriteBytes(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool ReadBytes(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

long ReadSome(int fd, char* data, std::size_t size) {
  ssize_t n;
  do {
    n = read(fd, data, size);
  } while (n < 0 && errno == EINTR);
  return static_cast<long>(n);
}

std::size_t PipeBuf() { return PIPE_BUF; }

bool WriteByte(int fd) {
  const char byte = 1;
  ssize_t n;
  do {
    n = write(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

bool ReadByte(int fd) {
  char byte;
  ssize_t n;
  do {
    n = read(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

void SignalReadyAndBlock(int ready) {
  WriteByte(ready);
  while (true) pause();
}

std::int64_t ForkBlockedChild(int ready) {
  const pid_t pid = fork();
  if (pid == 0) SignalReadyAndBlock(ready);
  return pid;
}

int TerminateAndWait(std::int64_t pid) {
  if (kill(static_cast<pid_t>(pid), SIGTERM) != 0) return -1000;
  return WaitPid(pid);
}

std::int32_t* NewSharedLockWord() {
  void* page = mmap(nullptr, sizeof(std::int32_t), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return page == MAP_FAILED ? nullptr : static_cast<std::int32_t*>(page);
}

namespace {

void FutexWait(std::int32_t* word, std::int32_t expected) {
  syscall(SYS_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void FutexWake(std::int32_t* word) {
  syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

}  // namespace

// 0: free; 1: taken; 2: taken, maybe with waiters.
void FutexLock(std::int32_t* word) {
  std::int32_t c = 0;
  if (__atomic_compare_exchange_n(word, &c, 1, false, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED)) {
    return;
  }
  if (c != 2) c = __atomic_exchange_n(word, 2, __ATOMIC_ACQUIRE);
  while (c != 0) {
    FutexWait(word, 2);
    c = __atomic_exchange_n(word, 2, __ATOMIC_ACQUIRE);
  }
}

void FutexUnlock(std::int32_t* word) {
  if (__atomic_fetch_sub(word, 1, __ATOMIC_RELEASE) != 1) {
    __atomic_store_n(word, 0, __ATOMIC_RELEASE);
    FutexWake(word);
  }
}

std::string SelfPath() {
  std::string path(PATH_MAX, '\0');
  const ssize_t length = readlink("/proc/self/exe", path.data(), path.size());
  if (length < 0) return "";
  path.resize(static_cast<std::size_t>(length));
  return path;
}

std::int64_t RunForNumber(const std::vector<std::string>& argv) {
  std::vector<std::string> copies = argv;
  std::vector<char*> args;
  for (std::string& arg : copies) args.push_back(arg.data());
  args.push_back(nullptr);
  int out_read, out_write;
  if (args.size() < 2 || !MakePipe(&out_read, &out_write)) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_write, STDOUT_FILENO);
  pid_t pid;
  const int error =
      posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_write);
  if (error != 0) {
    close(out_read);
    return -1;
  }
  std::string text;
  char buffer[256];
  long n;
  while ((n = ReadSome(out_read, buffer, sizeof(buffer))) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  close(out_read);
  if (WaitPid(pid) != 0 || text.empty()) return -1;
  return std::strtoll(text.c_str(), nullptr, 10);
}

bool RaiseDescriptorLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  limit.rlim_cur = limit.rlim_max;
  return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

}  // namespace procspec::bench::floor
