// A guard for a descendant that is re-parented to the test (orphans, and the
// parent_process tests): the other child helpers are in child_testing.h.
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_ORPHAN_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_ORPHAN_TESTING_H_

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"

namespace conformance::testing {

// A descendant that is expected to be re-parented to this test process (a
// child subreaper): when the scope ends, kills it and, if it is then this
// process's child, reaps it. Declare it before the KillOnExit of the
// descendant's parent, so that the parent has been reaped (and the orphan
// re-parented) by the time this runs. Call Forget() once the test has reaped
// it.
class OrphanGuard {
 public:
  OrphanGuard() = default;
  OrphanGuard(const OrphanGuard&) = delete;
  OrphanGuard& operator=(const OrphanGuard&) = delete;
  ~OrphanGuard() {
    namespace os = ::procspec::platform::testing;
    if (pid_ <= 0) return;
    if (!os::ParentOf(pid_).ok()) return;
    (void)os::SignalPid(pid_, os::KillSignalNumber());
    absl::StatusOr<::procspec::Pid> parent = os::ParentOf(pid_);
    if (parent.ok() && *parent == ::procspec::platform::CurrentPid())
      (void)os::ReapPid(pid_);
  }
  void Watch(::procspec::Pid pid) { pid_ = pid; }
  void Forget() { pid_ = 0; }

 private:
  ::procspec::Pid pid_ = 0;
};

}  // namespace conformance::testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_ORPHAN_TESTING_H_
