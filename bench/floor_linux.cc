// The floors' system calls (see floor.h). Linux: /proc/self/exe names the
// executable; everything else is POSIX.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <string>

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

std::int64_t ForkExitChild() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  return pid;
}

int ForkExitWait() {
  const std::int64_t pid = ForkExitChild();
  return pid < 0 ? -1 : WaitPid(pid);
}

std::int64_t ForkStampChild(std::int64_t spin_nanos) {
  const pid_t pid = fork();
  if (pid == 0) StampAndExit(spin_nanos);
  return pid;
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

std::string SelfPath() {
  std::string path(PATH_MAX, '\0');
  const ssize_t length = readlink("/proc/self/exe", path.data(), path.size());
  if (length < 0) return "";
  path.resize(static_cast<std::size_t>(length));
  return path;
}

}  // namespace procspec::bench::floor
