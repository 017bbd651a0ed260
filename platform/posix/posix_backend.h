// The "posix" backend: POSIX.1-2008 calls only, so that it is where a BSD or
// macOS port starts.
//
// A child's sentinel is the read end of a pipe whose only write end lives in
// the child: the child's exit closes it, poll() reports end of file, and
// waitpid(pid, WNOHANG) reaps. The child's parent watch is the mirror image: a
// pipe whose only write end the parent holds.
//
// `Fork` is written once here as a sequence of hooks; the "linux" backend
// overrides the hooks where Linux has something better (pidfds, pipe2,
// PR_SET_PDEATHSIG).
#ifndef PROCSPEC_PLATFORM_POSIX_POSIX_BACKEND_H_
#define PROCSPEC_PLATFORM_POSIX_POSIX_BACKEND_H_

#include <spawn.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::posix {

// The descriptors made before fork() for one child; a backend leaves the ones
// it does not need empty. The parent keeps `sentinel_read` and `watch_write`,
// the child the other two.
struct ForkPlumbing {
  // readable (end of file) once the child has exited
  UniqueHandle sentinel_read;
  UniqueHandle sentinel_write;  // held by the child until it exits
  UniqueHandle watch_read;   // the child's parent watch: end of file once the
                             // parent is gone
  UniqueHandle watch_write;  // held by the parent
};

class PosixBackend : public Backend {
 public:
  std::string_view name() const override { return "posix"; }
  absl::StatusOr<std::unique_ptr<ChildProcess>> Fork(
      const ForkOptions& options,
      absl::FunctionRef<int(ChildContext&)> child_main) final;
  bool SupportsDieWithParent() const override { return true; }
  absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const SpawnOptions& options) final;
  absl::StatusOr<ChildContext> AdoptSpawned(std::string_view handoff,
                                            Pid parent,
                                            bool die_with_parent) final;
  absl::StatusOr<std::unique_ptr<ForkServer>> ForkForkServer(
      ServedChildMain child_main) final;
  absl::StatusOr<std::unique_ptr<ForkServer>> SpawnForkServer(
      std::string payload, std::vector<std::string> argv) final;
  [[noreturn]] void ServeForks(UniqueHandle channel,
                               ServedChildMain child_main) final;
  absl::StatusOr<UniqueHandle> CreateSharedMemory(std::size_t size) override;
  // pipe() then FD_CLOEXEC under internal::ForkMutex().
  absl::StatusOr<PipeEnds> MakePipe() override;
  // POSIX's only timed waits, on the realtime clock (timed_waits.cc):
  // sem_timedwait and pthread_mutex_timedlock.
  bool WaitSemaphoreUntil(void* semaphore, absl::Time deadline) override;
  int LockMutexUntil(void* mutex, absl::Time deadline) override;

  // ---- For the fork server (fork_server.cc)

  // `Fork`, except that the child's ParentWatch watches `parent` (not the
  // forking process) through `watch`, a descriptor that becomes readable when
  // `parent` has gone, and `options.die_with_parent` kills the child when
  // `parent` dies. For a fork server's children.
  absl::StatusOr<std::unique_ptr<ChildProcess>> ForkForRequester(
      Pid parent, UniqueHandle watch, const ForkOptions& options,
      absl::FunctionRef<int(ChildContext&)> child_main);
  // A close-on-exec pipe; requires internal::ForkMutex().
  absl::StatusOr<PipeEnds> MakePipeForForkServerLocked() {
    return MakePipeLocked();
  }
  // A close-on-exec handle on `pid`, an unreaped child of this process,
  // through which any process holding it can signal the child without the risk
  // of pid reuse; invalid where the OS has none (the default: POSIX has none).
  virtual UniqueHandle OpenProcessHandle(Pid pid);
  // Sends `signal_number` through a handle from OpenProcessHandle: 0, or an
  // errno value.
  virtual int SignalProcessHandle(NativeHandle handle, int signal_number);

 protected:
  // The hooks of `Fork`. Each runs with internal::ForkMutex() held, so no other
  // thread of this process forks, or creates or closes a backend descriptor,
  // meanwhile.

  // A close-on-exec pipe.
  virtual absl::StatusOr<PipeEnds> MakePipeLocked();
  // Whether AdoptLocked can fail after fork() (it needs something it can only
  // make then). If so, `Fork` makes the child wait for a go-ahead (a byte on a
  // pipe made before fork()) before it runs anything, and kills it while it
  // still waits if AdoptLocked fails: a failed start has run no target.
  virtual bool AdoptCanFailAfterFork() const { return false; }
  // Before fork(): the descriptors a new child needs.
  virtual absl::StatusOr<ForkPlumbing> PrepareLocked(
      const ForkOptions& options);
  // In the parent after fork(): the ChildProcess for `child`. If this fails,
  // `Fork` kills and reaps the child, as nothing else could.
  virtual absl::StatusOr<std::unique_ptr<ChildProcess>> AdoptLocked(
      Pid child, ForkPlumbing& plumbing);
  // In the child after fork(), if ForkOptions::die_with_parent: arranges for
  // this process to be killed with SIGKILL when `parent` ends.
  virtual absl::Status ArmDieWithParentLocked(Pid parent,
                                              ForkPlumbing& plumbing);
  // In the child after fork(): starts a thread that kills this process
  // (SIGKILL) once `handle` is readable (a parent watch's read end: end of
  // file when the watched process has gone). The thread reads a duplicate.
  static absl::Status KillSelfWhenReadableLocked(NativeHandle handle);
  // How many threads KillSelfWhenReadableLocked has started in this process
  // (0 or 1): they hold no lock, so the fork warning need not count them.
  static int WatcherThreads();
  // In the child after fork(): the watch on `parent`.
  virtual absl::StatusOr<std::unique_ptr<ParentWatch>> WatchParentLocked(
      Pid parent, ForkPlumbing& plumbing);
  // The path of this process's executable, for Spawn. POSIX has no call for
  // it; the default is what RecordProgramPath found from argv[0] at Init (no
  // /proc: macOS has none, the BSDs mount it optionally), and only for a
  // program that never called Init the /proc/self/exe link, where there is
  // one. A backend with a better source overrides it (linux: /proc/self/exe;
  // sysctl KERN_PROC_PATHNAME, _NSGetExecutablePath).
  virtual absl::StatusOr<std::string> OwnExecutable();
  // Adds to `actions` what closes, in a spawned process, every descriptor
  // numbered `lowest` or above that would otherwise cross the exec. 0, or an
  // errno value. The default finds them one by one (POSIX has no "close
  // from" action); a backend whose C library has one overrides it.
  virtual int AddCloseFromAction(posix_spawn_file_actions_t* actions,
                                 int lowest);

 private:
  // A fork server's requester, whom a child it forks watches instead of the
  // server.
  struct Requester {
    Pid pid = 0;
    UniqueHandle watch;
  };
  absl::StatusOr<std::unique_ptr<ChildProcess>> ForkImpl(
      const ForkOptions& options, Requester* requester,
      absl::FunctionRef<int(ChildContext&)> child_main);
  // The child's side of `Fork`, from fork() to _exit().
  // `go_ahead`, if valid, is the read end of the pipe the parent writes one
  // byte to once it manages the child; end of file means it gave up.
  [[noreturn]] void RunChild(std::unique_lock<std::mutex>& lock, Pid parent,
                             const ForkOptions& options, ForkPlumbing& plumbing,
                             UniqueHandle go_ahead, Requester* requester,
                             absl::FunctionRef<int(ChildContext&)> child_main);
};

// Writes `data` to a pipe whose reader may have gone, without a SIGPIPE; OK
// if the reader has gone.
absl::Status WriteToChild(int fd, std::string_view data);

// The process-wide "posix" backend.
Backend& PosixBackendInstance();

}  // namespace procspec::platform::posix

#endif  // PROCSPEC_PLATFORM_POSIX_POSIX_BACKEND_H_
