// Helpers for the signals area's tests beyond those of child_testing.h (which
// it includes): a guard for a descendant that is re-parented to the test.
#ifndef PROCSPEC_CONFORMANCE_SUITE_COMMON_SIGNALS_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_COMMON_SIGNALS_TESTING_H_

#include "absl/status/statusor.h"
#include "conformance/suite/common/child_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"

namespace conformance::signals_testing {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::procspec::Pid;

// The shared helpers under their former names here (child_testing.h), for code
// written against this header; new code uses ::conformance::testing directly.
using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::EventTimeout;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::PidOf;
using ::conformance::testing::ReadLine;
using ::conformance::testing::ReadPid;
using ::conformance::testing::ReadToEnd;
using ::conformance::testing::SendLine;
using ::conformance::testing::StartAndAwaitReady;
using ::conformance::testing::WaitForByteOrEof;

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
    if (pid_ <= 0) return;
    if (!os::ParentOf(pid_).ok()) return;
    (void)os::SignalPid(pid_, os::KillSignalNumber());
    absl::StatusOr<Pid> parent = os::ParentOf(pid_);
    if (parent.ok() && *parent == platform::CurrentPid())
      (void)os::ReapPid(pid_);
  }
  void Watch(Pid pid) { pid_ = pid; }
  void Forget() { pid_ = 0; }

 private:
  Pid pid_ = 0;
};

}  // namespace conformance::signals_testing

#endif  // PROCSPEC_CONFORMANCE_SUITE_COMMON_SIGNALS_TESTING_H_
