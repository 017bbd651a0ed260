// PID reuse: once a child has been reaped (by join(), is_alive() or exitcode),
// terminate() and kill() send nothing, even when its pid already names another
// process. Made deterministic in a new PID namespace: the test runs as its
// process 1, reaps a child, makes the kernel give the same pid to the next
// process (/proc/sys/kernel/ns_last_pid), starts a victim that gets it, and
// calls terminate() and kill() on the old object. The victim then exits with
// its own code when released: a signal sent before the release would have
// ended it first.
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::ReadToEnd;

std::optional<procspec::Pid> PidOf(procspec::Process& p) {
  absl::StatusOr<std::optional<procspec::Pid>> pid = p.pid();
  return pid.ok() ? *pid : std::nullopt;
}

// In process 1 of a new PID namespace: one round for the reaping call `how`
// ("join", "is_alive", "exitcode"). Reports <how>_<key>=<value>.
void ReapReuseAndSignal(const std::string& how, Report& report) {
  procspec::Process old(procspec::testing::ExitWith, std::tuple{0});
  if (absl::Status s = old.start(); !s.ok()) {
    report.Add(how + "_error", s.ToString());
    return;
  }
  const std::optional<procspec::Pid> old_pid = PidOf(old);
  // Wait for the exit without reaping through `old` (join() is the reaping
  // call only in the "join" round): poll the sentinel.
  absl::StatusOr<platform::NativeHandle> sentinel = old.sentinel();
  if (sentinel.ok()) {
    const platform::NativeHandle handles[] = {*sentinel};
    (void)platform::WaitReadable(handles, absl::InfiniteFuture());
  }
  if (how == "join") {
    (void)old.join();
  } else if (how == "is_alive") {
    absl::StatusOr<bool> alive = old.is_alive();
    report.Add(how + "_alive", alive.ok() ? (*alive ? "True" : "False")
                                          : alive.status().ToString());
  }
  report.Add(how + "_old_exitcode", ExitcodeText(old.exitcode()));
  if (absl::Status s = os::SetNextPid(old_pid.value_or(0)); !s.ok()) {
    report.Add(how + "_error", s.ToString());
    return;
  }
  absl::StatusOr<Handshake> handshake = Handshake::Create();
  if (!handshake.ok()) {
    report.Add(how + "_error", handshake.status().ToString());
    return;
  }
  procspec::Process victim(RobustnessBlockThenExit,
                           std::tuple{handshake->ChildSide(), 42});
  if (absl::Status s = victim.start(); !s.ok()) {
    report.Add(how + "_error", s.ToString());
    return;
  }
  const absl::Status ready = handshake->WaitReady();
  report.Add(how + "_reused",
             PidOf(victim) == old_pid && old_pid.has_value()
                 ? "yes"
                 : absl::StrCat("no: old ", old_pid.value_or(0), ", new ",
                                PidOf(victim).value_or(0)));
  report.Add(how + "_terminate", old.terminate().ToString());
  report.Add(how + "_kill", old.kill().ToString());
  // Released after both calls returned: had either signalled the victim, the
  // signal would be pending and would end it before it reads the release.
  const absl::Status released = handshake->Release();
  (void)victim.join();
  report.Add(how + "_victim_exitcode", ExitcodeText(victim.exitcode()));
  report.Add(how + "_handshake",
             ready.ok() && released.ok()
                 ? "ok"
                 : absl::StrCat(ready.ToString(), " / ", released.ToString()));
}

CONFORMANCE_TEST(PidReuse, ReapedChildIsNeverSignalledThroughItsReusedPid,
                 "robustness.pid_reuse.no_signal_after_reap") {
  if (StartMethod() == "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "under forkserver the fork server, outside the test's PID namespace, "
        "forks and reaps the children, so the test cannot hand a reaped "
        "child's pid to another process"));
  }
  CONFORMANCE_REQUIRE(RequireCapability("pid_namespace"));
  ASSERT_OK_AND_ASSIGN(
      NamespaceRun run, RunReportInNewPidNamespace([](Report& report) {
        for (const char* how : {"join", "is_alive", "exitcode"})
          ReapReuseAndSignal(how, report);
      }));
  const std::string& text = run.report_text;
  EXPECT_EQ(run.status, (platform::ExitStatus{.signaled = false, .value = 0}));
  std::map<std::string, std::string> report = ParseReport(text);
  for (const std::string how : {"join", "is_alive", "exitcode"}) {
    SCOPED_TRACE(how);
    EXPECT_EQ(report[how + "_error"], "") << text;
    EXPECT_EQ(report[how + "_old_exitcode"], "0") << text;
    EXPECT_EQ(report[how + "_reused"], "yes") << text;
    EXPECT_EQ(report[how + "_terminate"], "OK") << text;
    EXPECT_EQ(report[how + "_kill"], "OK") << text;
    EXPECT_EQ(report[how + "_victim_exitcode"], "42") << text;
    EXPECT_EQ(report[how + "_handshake"], "ok") << text;
  }
  EXPECT_EQ(report["is_alive_alive"], "False") << text;
}

}  // namespace
}  // namespace conformance::robustness
