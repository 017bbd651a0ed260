// ChildProcess for POSIX: reaps with waitpid(pid), signals with kill(pid), and
// waits on a sentinel descriptor. The "linux" backend reuses it with a pidfd as
// the sentinel.
//
// waitpid(pid, WNOHANG) is the truth about the child; a sentinel pipe is only
// a hint. The child holds the pipe's write end, so its exit closes it, but an
// exec or a loop that closes descriptors closes it early, and a grandchild
// that inherited it keeps it open after the child has ended. So polls never
// look at it, a wait without deadline blocks in waitid() on the child itself,
// and a bounded wait whose sentinel fired early goes on with a helper thread
// blocked in waitid(WNOWAIT) on the child, which writes a byte to a pipe when
// the child is reapable (event-driven, no polling loop).
#ifndef PROCSPEC_PLATFORM_POSIX_CHILD_PROCESS_H_
#define PROCSPEC_PLATFORM_POSIX_CHILD_PROCESS_H_

#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/posix/internal/fork_registry.h"

namespace procspec::platform::posix {

class PosixChildProcess : public ChildProcess {
 public:
  // `sentinel` becomes readable when the child exits. `parent_watch` (may be
  // empty) is the write end of the child's parent-watch pipe: closed when the
  // child is reaped, as nobody reads it any more, or when this object is
  // destroyed.
  PosixChildProcess(Pid pid, internal::RegisteredHandle sentinel,
                    internal::RegisteredHandle parent_watch);
  // Leaves a helper thread still waiting for a running child to it: the
  // thread owns all it touches.
  ~PosixChildProcess() override;

  Pid pid() const override { return pid_; }
  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override;
  absl::Status SendSignal(Signal signal) override;
  // Once the sentinel pipe has fired early (see above), its descriptor is
  // made to refer to the helper thread's pipe (same number), so that a caller
  // polling it (connection.wait, a fork server's loop) waits for the child's
  // exit instead of finding it readable at once.
  NativeHandle sentinel() const override { return sentinel_.get(); }

 protected:
  // Sends `signal_number` to the child, which is not reaped: `mu_` is held, and
  // reaping takes it.
  virtual absl::Status DeliverLocked(int signal_number);
  // Whether the sentinel becomes readable exactly when the child can be reaped
  // (a pidfd), so that waits may rely on it alone.
  virtual bool SentinelIsExact() const { return false; }
  // waitpid(pid, WNOHANG): caches and returns the status if the child has
  // ended, including a child someone else reaped (ECHILD).
  absl::StatusOr<std::optional<ExitStatus>> TryReapLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A std::mutex rather than absl::Mutex: the system abseil is built without
  // ThreadSanitizer annotations, so TSan could not see absl::Mutex order the
  // accesses it guards.
  std::mutex mu_;

 private:
  // FailedPrecondition in a process other than the one that forked the child.
  absl::Status CheckCreator() const;
  // Blocks until the child is reapable, without reaping it (waitid with
  // WNOWAIT), so that any number of threads may do it at once without the lock.
  absl::Status AwaitReapable() const;
  // Reaps the child once AwaitReapable or an exact event said it can be.
  absl::StatusOr<std::optional<ExitStatus>> ReapAfterEvent();
  // The read end of a pipe that gets a byte once the child is reapable (or
  // gone), from a helper thread started on the first call.
  absl::StatusOr<NativeHandle> ExitEventLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Pid pid_;
  const Pid creator_;
  const internal::RegisteredHandle sentinel_;

  std::optional<ExitStatus> status_ ABSL_GUARDED_BY(mu_);
  internal::RegisteredHandle parent_watch_ ABSL_GUARDED_BY(mu_);
  internal::RegisteredHandle exit_event_ ABSL_GUARDED_BY(mu_);
  // The helper thread behind `exit_event_`; joined once the child is reaped
  // (it ends as soon as the child is reapable or gone).
  std::unique_ptr<std::thread> exit_waiter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace procspec::platform::posix

#endif  // PROCSPEC_PLATFORM_POSIX_CHILD_PROCESS_H_
