// ParentWatch over a descriptor that becomes readable when the parent ends: the
// read end of a pipe whose only write end the parent holds ("posix"), or a
// pidfd of the parent ("linux").
#ifndef PROCSPEC_PLATFORM_POSIX_PARENT_WATCH_H_
#define PROCSPEC_PLATFORM_POSIX_PARENT_WATCH_H_

#include <atomic>
#include <utility>

#include "platform/platform.h"
#include "platform/posix/internal/fork_registry.h"

namespace procspec::platform::posix {

class SentinelParentWatch : public ParentWatch {
 public:
  SentinelParentWatch(Pid parent, internal::RegisteredHandle sentinel)
      : parent_(parent), sentinel_(std::move(sentinel)) {}

  Pid pid() const override { return parent_; }
  bool IsAlive() override;
  NativeHandle sentinel() const override { return sentinel_.get(); }

 private:
  const Pid parent_;
  const internal::RegisteredHandle sentinel_;
  // Sticky: a parent that has gone does not come back, and the pid may be
  // reused.
  std::atomic<bool> alive_{true};
};

}  // namespace procspec::platform::posix

#endif  // PROCSPEC_PLATFORM_POSIX_PARENT_WATCH_H_
