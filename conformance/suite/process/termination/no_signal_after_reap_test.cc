// terminate() and kill() after the library has reaped the child send no
// signal at all. Targets are registered functions, so the tests run under
// every start method.
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "process/connection.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::EventTimeout;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::PidOf;
using ::conformance::testing::ReadToEnd;
using ::conformance::testing::SendLine;
using ::conformance::testing::WaitForByteOrEof;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

void NoSignalExit7() { procspec::Exit(7); }
PROCSPEC_TARGET(NoSignalExit7);

// Closes its copy of `release_write`, then waits for a byte or end of file on
// `release_read`.
void NoSignalWaitForRelease(InheritedHandle release_read,
                            InheritedHandle release_write) {
  platform::UniqueHandle(release_write.get()).reset();
  WaitForByteOrEof(release_read.get());
}
PROCSPEC_TARGET(NoSignalWaitForRelease);

// Installs the filter under which every signal-sending system call fails with
// EPERM: "" when installed, else "UNSUPPORTED: ..." or what failed.
std::string DenySignals() {
  absl::Status denied = os::DenySignalSending();
  if (absl::IsUnimplemented(denied))
    return absl::StrCat("UNSUPPORTED: ", denied.message());
  if (!denied.ok())
    return absl::StrCat("DenySignalSending: ", denied.ToString());
  return "";
}

// How a test lets the library reap a child.
enum class Reaper { kJoin, kIsAlive, kExitcode, kActiveChildren };

// Runs in a driver process (a child of the test). Starts a child that exits 7
// and a control child that runs until released; reaps the first with `reaper`;
// then installs a seccomp filter under which every signal-sending system call
// fails with EPERM. A terminate()/kill() that made any such call would now
// return an error: the control child's do, the reaped child's must not. Returns
// "" when all held, "UNSUPPORTED: ..." without seccomp, else what failed.
// `forkserver`: the children are the fork server's (it reaps them).
std::string CheckNoSignalAfterReap(Reaper reaper, bool forkserver) {
  std::string failures;
  auto fail = [&failures](const std::string& what) {
    absl::StrAppend(&failures, what, "; ");
  };
  // Under forkserver the fork server may send the signals on this process's
  // behalf (the posix backend has no pidfd: the server, which alone knows
  // whether it has reaped the child, delivers them). The server this driver
  // starts (spawned by its first start()) inherits the filter when it is
  // installed first, so that its signals are denied too.
  if (forkserver) {
    if (std::string denied = DenySignals(); !denied.empty()) return denied;
  }
  absl::StatusOr<platform::PipeEnds> release = platform::MakePipe();
  if (!release.ok()) return "MakePipe failed";
  procspec::Process reaped(NoSignalExit7);
  procspec::Process running(NoSignalWaitForRelease,
                            std::tuple{InheritedHandle(release->read.get()),
                                       InheritedHandle(release->write.get())});
  // The control child first: start() reaps finished children (CPython's
  // _cleanup()), so starting it after `reaped` could reap that one early.
  if (!running.start().ok() || !reaped.start().ok()) return "start failed";
  release->read.reset();

  if (reaper != Reaper::kJoin) {
    // The other reapers only reap a child that has already ended. Under
    // forkserver the server reaps it and its sentinel is then ready.
    if (forkserver) {
      absl::StatusOr<procspec::Handle> sentinel = reaped.sentinel();
      if (!sentinel.ok()) return "sentinel() failed";
      absl::StatusOr<std::vector<procspec::Handle>> ended =
          procspec::connection::wait({*sentinel},
                                     absl::ToDoubleSeconds(EventTimeout()));
      if (!ended.ok() || ended->size() != 1) return "the child did not exit";
    } else if (!os::AwaitExitWithoutReaping(PidOf(reaped)).ok()) {
      return "AwaitExitWithoutReaping failed";
    }
  }
  switch (reaper) {
    case Reaper::kJoin:
      if (!reaped.join().ok()) fail("join() failed");
      break;
    case Reaper::kIsAlive:
      if (reaped.is_alive().value_or(true)) fail("is_alive() was not False");
      break;
    case Reaper::kExitcode:
      if (reaped.exitcode().value_or(std::nullopt) != 7)
        fail("exitcode was not 7");
      break;
    case Reaper::kActiveChildren:
      if (procspec::active_children().size() != 1)
        fail("active_children() did not list exactly the running child");
      break;
  }

  // Under forkserver the filter is installed before the children start (see
  // there); otherwise now.
  if (!forkserver) {
    if (std::string denied = DenySignals(); !denied.empty()) return denied;
  }
  if (running.terminate().ok() || running.kill().ok()) {
    fail(
        "control: signalling the running child was not denied, so this check "
        "cannot see this backend's signals");
  }
  if (absl::Status status = reaped.terminate(); !status.ok())
    fail(absl::StrCat("terminate() after the reap tried to signal: ",
                      status.ToString()));
  if (absl::Status status = reaped.kill(); !status.ok())
    fail(absl::StrCat("kill() after the reap tried to signal: ",
                      status.ToString()));
  if (reaped.exitcode().value_or(std::nullopt) != 7)
    fail("exitcode changed after terminate()/kill()");
  release->write.reset();
  if (!running.join().ok() || running.exitcode().value_or(std::nullopt) != 0)
    fail("the control child did not exit 0");
  return failures;
}

// Sends CheckNoSignalAfterReap on `report` (`reaper` is a Reaper; `forkserver`
// says whether the suite runs the forkserver start method, which the driver
// uses too).
void NoSignalDriver(InheritedHandle report, int reaper, bool forkserver) {
  SendLine(report.get(),
           CheckNoSignalAfterReap(static_cast<Reaper>(reaper), forkserver));
}
PROCSPEC_TARGET(NoSignalDriver);

// Runs CheckNoSignalAfterReap(reaper) in a child and checks its report.
void ExpectNoSignalAfterReap(Reaper reaper) {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process driver(
      NoSignalDriver,
      std::tuple{InheritedHandle(report.write.get()), static_cast<int>(reaper),
                 StartMethod() == "forkserver"});
  KillOnExit guard(driver);
  ASSERT_OK(driver.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(driver));
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK_AND_ASSIGN(std::string failures, ReadToEnd(report.read.get()));
  if (absl::StartsWith(failures, "UNSUPPORTED: ")) {
    CONFORMANCE_REQUIRE(Unsupported(failures));
  }
  EXPECT_EQ(failures, "\n");
}

// Once join() has reaped the child, terminate() and kill() make no
// signal-sending system call at all, so a process that reused the pid could
// never be hit. (What no test can show directly, an actual reused pid, follows:
// nothing is sent to any pid.)
CONFORMANCE_TEST(NoSignalAfterReap, ReapedByJoin,
                 "process.terminate.no_signal_after_reap") {
  ExpectNoSignalAfterReap(Reaper::kJoin);
}

// Likewise after is_alive() reaped it.
CONFORMANCE_TEST(NoSignalAfterReap, ReapedByIsAlive,
                 "process.terminate.no_signal_after_reap") {
  ExpectNoSignalAfterReap(Reaper::kIsAlive);
}

// Likewise after reading exitcode reaped it.
CONFORMANCE_TEST(NoSignalAfterReap, ReapedByExitcode,
                 "process.terminate.no_signal_after_reap") {
  ExpectNoSignalAfterReap(Reaper::kExitcode);
}

// Likewise after active_children() reaped it.
CONFORMANCE_TEST(NoSignalAfterReap, ReapedByActiveChildren,
                 "process.terminate.no_signal_after_reap") {
  ExpectNoSignalAfterReap(Reaper::kActiveChildren);
}

}  // namespace
}  // namespace conformance
