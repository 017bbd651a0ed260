// terminate() and kill() under forkserver once the server has reaped the
// child but before the requester has read its status: nothing is signalled,
// even though the child's pid may name another process by then. On linux the
// requester signals through a pidfd the server sent; on the posix backend the
// server delivers the signal, and it knows whether it has reaped the child.
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/init.h"
#include "process/process.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::ReadToEnd;

// In process 1 of a new PID namespace: a fork server of its own (forked by
// Init, inside the namespace) serves a child that exits; once the server has
// reaped it (its status is on the sentinel) but before this process has read
// it, the child's pid goes to a victim (forked outside the library, so that
// nothing polls the old object meanwhile), and terminate() and kill() are
// called on the old object. The victim exits 0 when released: a signal sent
// before the release would have ended it first.
void NoStrangerSignalInNamespace(Report& report) {
  procspec::Init(0, nullptr, {.start_forkserver = true});
  procspec::Process old(procspec::testing::ExitWith, std::tuple{0},
                        InContext("forkserver"));
  if (absl::Status s = old.start(); !s.ok()) {
    report.Add("error", s.ToString());
    return;
  }
  const platform::Pid old_pid = ::conformance::testing::PidOf(old);
  absl::StatusOr<platform::NativeHandle> sentinel = old.sentinel();
  if (sentinel.ok()) {
    const platform::NativeHandle handles[] = {*sentinel};
    (void)platform::WaitReadable(handles, absl::InfiniteFuture());
  }
  absl::StatusOr<platform::PipeEnds> gate = platform::MakePipe();
  if (!gate.ok()) {
    report.Add("error", gate.status().ToString());
    return;
  }
  if (absl::Status s = os::SetNextPid(old_pid); !s.ok()) {
    report.Add("error", s.ToString());
    return;
  }
  absl::StatusOr<platform::Pid> victim =
      os::ForkUntilEndOfFile(gate->read.get(), gate->write.get());
  if (!victim.ok()) {
    report.Add("error", victim.status().ToString());
    return;
  }
  report.Add("reused", *victim == old_pid ? "yes"
                                          : absl::StrCat("no: old ", old_pid,
                                                         ", new ", *victim));
  report.Add("terminate", old.terminate().ToString());
  report.Add("kill", old.kill().ToString());
  gate->write.reset();
  absl::StatusOr<platform::ExitStatus> ended = os::ReapPid(*victim);
  report.Add("victim_exitcode", ended.ok() ? absl::StrCat(ended->exitcode())
                                           : ended.status().ToString());
  (void)old.join();
  report.Add("old_exitcode", ExitcodeText(old.exitcode()));
}

CONFORMANCE_TEST(ForkServerHost, ReapedChildIsNeverSignalledThroughItsPid,
                 "robustness.forkserver.no_stranger_signal") {
  CONFORMANCE_REQUIRE(RequireCapability("pid_namespace"));
  ASSERT_OK_AND_ASSIGN(NamespaceRun run,
                       RunReportInNewPidNamespace([](Report& report) {
                         NoStrangerSignalInNamespace(report);
                       }));
  const std::string& text = run.report_text;
  EXPECT_EQ(run.status, (platform::ExitStatus{.signaled = false, .value = 0}));
  std::map<std::string, std::string> report = ParseReport(text);
  EXPECT_EQ(report["error"], "") << text;
  EXPECT_EQ(report["reused"], "yes") << text;
  EXPECT_EQ(report["terminate"], "OK") << text;
  EXPECT_EQ(report["kill"], "OK") << text;
  EXPECT_EQ(report["victim_exitcode"], "0") << text;
  EXPECT_EQ(report["old_exitcode"], "0") << text;
}

}  // namespace
}  // namespace conformance::robustness
