// The "linux" backend: the "posix" backend with Linux's better tools where they
// exist.
//  - A pidfd is the sentinel and the wait handle: it becomes readable exactly
//  when the child is
//    reapable, and pidfd_send_signal can never reach a process that reused the
//    pid.
//  - pipe2(O_CLOEXEC): pipes are close-on-exec atomically, so making one needs
//  no lock.
//  - The parent watch is a pidfd of the parent, opened by the child; no pipe
//  stays open in the
//    parent per child.
//  - die_with_parent is a thread in the child blocked on a pidfd of the parent
//    (readable once the whole parent process has ended; PR_SET_PDEATHSIG would
//    fire when the forking *thread* ends).
//  - A forked child waits for the parent's go-ahead before it runs anything:
//    the child's pidfd can only be opened after fork(), and if that fails the
//    parent kills the child before any target has run.
// On a kernel without pidfds (before 5.3) sentinels and parent watches fall
// back to pipes.
#ifndef PROCSPEC_PLATFORM_LINUX_LINUX_BACKEND_H_
#define PROCSPEC_PLATFORM_LINUX_LINUX_BACKEND_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/posix/posix_backend.h"

namespace procspec::platform::linux_backend {

class LinuxBackend final : public posix::PosixBackend {
 public:
  LinuxBackend();

  std::string_view name() const override { return "linux"; }
  absl::StatusOr<PipeEnds> MakePipe() override;
  // memfd_create(MFD_CLOEXEC): never has a name.
  absl::StatusOr<UniqueHandle> CreateSharedMemory(std::size_t size) override;
  // A pidfd: the fork server sends it to the requester (SCM_RIGHTS), whose
  // signals then cannot reach a process that reused the pid.
  UniqueHandle OpenProcessHandle(Pid pid) override;
  int SignalProcessHandle(NativeHandle handle, int signal_number) override;
  // sem_clockwait and pthread_mutex_clocklock on CLOCK_MONOTONIC (glibc
  // 2.30): a step of the wall clock does not change the timeout.
  bool WaitSemaphoreUntil(void* sem, absl::Time deadline) override;
  int LockMutexUntil(void* mutex, absl::Time deadline) override;
  // A process-shared futex (FUTEX_WAIT_BITSET on CLOCK_MONOTONIC, FUTEX_WAKE).
  bool HasWordWaits() const override { return true; }
  int WaitWordUntil(const void* word, std::uint32_t expected,
                    absl::Time deadline) override;
  void WakeWord(const void* word) override;
  // Field 20 (num_threads) of /proc/self/stat, as CPython 3.12 reads it.
  std::optional<int> ThreadCount() const override;

 protected:
  absl::StatusOr<PipeEnds> MakePipeLocked() override;
  bool AdoptCanFailAfterFork() const override;
  // The /proc/self/exe link: the running file, whatever argv[0] said.
  absl::StatusOr<std::string> OwnExecutable() override;
  // glibc's posix_spawn_file_actions_addclosefrom_np: one action, no scan.
  int AddCloseFromAction(posix_spawn_file_actions_t* actions,
                         int lowest) override;
  absl::StatusOr<posix::ForkPlumbing> PrepareLocked(
      const ForkOptions& options) override;
  absl::StatusOr<std::unique_ptr<ChildProcess>> AdoptLocked(
      Pid child, posix::ForkPlumbing& plumbing) override;
  absl::Status ArmDieWithParentLocked(Pid parent,
                                      posix::ForkPlumbing& plumbing) override;
  absl::StatusOr<std::unique_ptr<ParentWatch>> WatchParentLocked(
      Pid parent, posix::ForkPlumbing& plumbing) override;

 private:
  // Whether this kernel has pidfd_open (probed once).
  const bool has_pidfd_;
};

// The process-wide "linux" backend.
Backend& LinuxBackendInstance();

}  // namespace procspec::platform::linux_backend

#endif  // PROCSPEC_PLATFORM_LINUX_LINUX_BACKEND_H_
