// The "windows" backend: Win32 processes for the spawn start method.
//
// Windows has no fork(): `Spawn` is the only way to start a child (a
// CreateProcessW of this executable, CPython's spawn start method on
// Windows), and `Fork` and the fork-server calls fail with Unimplemented.
// A child's sentinel is its process handle, which becomes signalled when it
// exits; its exit code is read with GetExitCodeProcess and stays readable for
// as long as the handle is open (Windows has no zombies to reap). terminate()
// and kill() are TerminateProcess with CPython's exit code 0x10000, reported
// as -SIGTERM. The child's parent watch is a handle on the parent process
// that the parent passes it; die_with_parent puts the child in a job object
// that the parent holds and that kills it when the parent's handle closes.
//
// Shared memory is an anonymous file mapping; its semaphores and mutexes are
// kernel objects (shared_memory.cc).
#ifndef PROCSPEC_PLATFORM_WINDOWS_WINDOWS_BACKEND_H_
#define PROCSPEC_PLATFORM_WINDOWS_WINDOWS_BACKEND_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::windows {

class WindowsBackend : public Backend {
 public:
  std::string_view name() const override { return "windows"; }
  absl::StatusOr<std::unique_ptr<ChildProcess>> Fork(
      const ForkOptions& options,
      absl::FunctionRef<int(ChildContext&)> child_main) override;
  bool SupportsFork() const override { return false; }
  bool SupportsDieWithParent() const override { return true; }
  absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const SpawnOptions& options) override;
  absl::StatusOr<ChildContext> AdoptSpawned(std::string_view handoff,
                                            Pid parent,
                                            bool die_with_parent) override;
  absl::StatusOr<std::unique_ptr<ForkServer>> ForkForkServer(
      ServedChildMain child_main) override;
  absl::StatusOr<std::unique_ptr<ForkServer>> SpawnForkServer(
      std::string payload, std::vector<std::string> argv) override;
  [[noreturn]] void ServeForks(UniqueHandle channel,
                               ServedChildMain child_main) override;
  absl::StatusOr<UniqueHandle> CreateSharedMemory(std::size_t size) override;
  // A one-instance named pipe, its read end overlapped (io.cc).
  absl::StatusOr<PipeEnds> MakePipe() override;
  // Unused: the Windows semaphores and mutexes are kernel objects
  // (shared_memory.cc), not the POSIX objects these wait on.
  bool WaitSemaphoreUntil(void* semaphore, absl::Time deadline) override;
  int LockMutexUntil(void* mutex, absl::Time deadline) override;
};

Backend& WindowsBackendInstance();

// The command line CreateProcessW gets for `argv`: each argument quoted as
// the C runtime's parser (CommandLineToArgvW) reads it back unchanged.
std::wstring QuoteCommandLine(const std::vector<std::string>& argv);

}  // namespace procspec::platform::windows

#endif  // PROCSPEC_PLATFORM_WINDOWS_WINDOWS_BACKEND_H_
