// ChildProcess for POSIX: waits on a sentinel descriptor, reaps with
// waitpid(pid), signals with kill(pid). The "linux" backend reuses it with a
// pidfd as the sentinel.
#ifndef PROCSPEC_PLATFORM_POSIX_CHILD_PROCESS_H_
#define PROCSPEC_PLATFORM_POSIX_CHILD_PROCESS_H_

#include <mutex>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/internal/fork_registry.h"
#include "platform/platform.h"

namespace procspec::platform::posix {

class PosixChildProcess : public ChildProcess {
 public:
  // `sentinel` becomes readable when the child exits. `parent_watch` (may be
  // empty) is the write end of the child's parent-watch pipe: closed when the
  // child is reaped, as nobody reads it any more, or when this object is
  // destroyed.
  PosixChildProcess(Pid pid, internal::RegisteredHandle sentinel,
                    internal::RegisteredHandle parent_watch);

  Pid pid() const override { return pid_; }
  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override;
  absl::Status SendSignal(Signal signal) override;
  NativeHandle sentinel() const override { return sentinel_.get(); }

 protected:
  // Sends `signal_number` to the child, which is not reaped: `mu_` is held, and
  // reaping takes it.
  virtual absl::Status DeliverLocked(int signal_number);

 private:
  // FailedPrecondition in a process other than the one that forked the child.
  absl::Status CheckCreator() const;
  // waitpid(pid, WNOHANG): caches and returns the status if the child has
  // ended.
  absl::StatusOr<std::optional<ExitStatus>> TryReapLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Blocks until the child is reapable, without reaping it (waitid with
  // WNOWAIT), so that any number of threads may do it at once without the lock.
  absl::Status AwaitReapable() const;

  const Pid pid_;
  const Pid creator_;
  const internal::RegisteredHandle sentinel_;

  // A std::mutex rather than absl::Mutex: the system abseil is built without
  // ThreadSanitizer annotations, so TSan could not see absl::Mutex order the
  // accesses it guards.
  std::mutex mu_;
  std::optional<ExitStatus> status_ ABSL_GUARDED_BY(mu_);
  internal::RegisteredHandle parent_watch_ ABSL_GUARDED_BY(mu_);
};

}  // namespace procspec::platform::posix

#endif  // PROCSPEC_PLATFORM_POSIX_CHILD_PROCESS_H_
