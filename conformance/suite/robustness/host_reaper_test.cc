// A host program that collects its children's exit statuses behind the
// library's back: a SIGCHLD handler that reaps with waitpid(-1), or SIGCHLD
// set to SIG_IGN (the kernel then reaps every child itself). A child reaped
// that way has ended: is_alive() is False, join() returns, close() works,
// active_children() drops it and its descriptors are released; its exit
// status is lost, so exitcode is ChildProcessError. And no signal is sent to
// its pid after it is gone.
//
// The host is a child of the test (the handler and the disposition are
// process-wide): it starts children under the instance's start method and
// reports what it saw through a pipe.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/hostile_host.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::EventTimeout;
using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

constexpr int kChildren = 5;

// A host's child: says it ran, then exits 3.
void RobustnessHostChild(InheritedHandle ran) {
  (void)platform::WriteAll(ran.get(), "r");
  procspec::Exit(3);
}
PROCSPEC_TARGET(RobustnessHostChild);

std::string ExitcodeOrPythonError(procspec::Process& p) {
  absl::StatusOr<std::optional<int>> code = p.exitcode();
  if (!code.ok()) {
    return absl::StrCat(procspec::PythonExceptionType(code.status()), ": ",
                        code.status().message());
  }
  return code->has_value() ? absl::StrCat(**code) : "None";
}

// Waits (for at most EventTimeout()) for the byte the host's reaper writes
// after it has reaped a child, and consumes it; false if none came. Waits in
// poll(), not in a blocking read(): ThreadSanitizer (gcc 12's runtime) runs a
// signal handler that interrupts read() only when the next intercepted call
// returns, and a restarted read() of a byte only the handler writes never
// returns; poll() is one of the calls during which it runs handlers at once.
bool AwaitReaperByte(platform::NativeHandle reaped) {
  const platform::NativeHandle handles[] = {reaped};
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(handles, absl::Now() + EventTimeout());
  if (!ready.ok() || ready->empty()) return false;
  return platform::ReadSome(reaped, 1).ok();
}

// The host: `how` is "reaper" (a SIGCHLD handler reaps every child) or
// "ignore" (SIGCHLD is SIG_IGN). Starts kChildren children under `method` one
// after the other, each reaped behind the library's back before anything
// looks at it, and reports what the Process objects say.
void RobustnessHostileHost(InheritedHandle report_pipe, std::string method,
                           std::string how) {
  Report report;
  absl::StatusOr<platform::UniqueHandle> reaped = platform::UniqueHandle();
  if (how == "reaper") {
    reaped = os::InstallChildReaper();
  } else if (absl::Status s = os::IgnoreChildExits(); !s.ok()) {
    reaped = s;
  }
  // After the reaper's own pipe.
  const absl::StatusOr<std::vector<platform::NativeHandle>> before =
      os::OpenDescriptors();
  absl::StatusOr<platform::PipeEnds> ran = platform::MakePipe();
  if (!reaped.ok() || !ran.ok() || !before.ok()) {
    report.Add("setup", !reaped.ok() ? reaped.status().ToString()
                        : !ran.ok()  ? ran.status().ToString()
                                     : before.status().ToString());
  } else {
    report.Add("setup", "ok");
    std::vector<std::string> starts, alive, joins, exitcodes, closes;
    absl::Duration slowest_join;
    for (int i = 0; i < kChildren; ++i) {
      procspec::Process p(RobustnessHostChild,
                          std::tuple{InheritedHandle(ran->write.get())},
                          {.context = *procspec::get_context(method)});
      const absl::Status started = p.start();
      starts.push_back(started.ok() ? "ok" : started.ToString());
      if (!started.ok()) continue;
      if (how == "reaper" && !AwaitReaperByte(reaped->get())) {
        report.Add("reaper", "the host's handler reaped nothing in time");
      }
      const absl::Time join_start = absl::Now();
      const absl::Status joined = p.join(EventTimeout());
      slowest_join = std::max(slowest_join, absl::Now() - join_start);
      joins.push_back(joined.ok() ? "ok" : joined.ToString());
      absl::StatusOr<bool> is_alive = p.is_alive();
      alive.push_back(is_alive.ok() ? (*is_alive ? "True" : "False")
                                    : is_alive.status().ToString());
      exitcodes.push_back(ExitcodeOrPythonError(p));
      const absl::Status closed = p.close();
      closes.push_back(closed.ok() ? "ok" : closed.ToString());
    }
    report.Add("starts", absl::StrJoin(starts, ","));
    report.Add("joins", absl::StrJoin(joins, ","));
    report.Add("slowest_join_ms",
               absl::StrCat(absl::ToInt64Milliseconds(slowest_join)));
    report.Add("alive", absl::StrJoin(alive, ","));
    report.Add("exitcodes", absl::StrJoin(exitcodes, "|"));
    report.Add("closes", absl::StrJoin(closes, ","));
    report.Add("active_children",
               absl::StrCat(procspec::active_children().size()));
    ran->write.reset();
    absl::StatusOr<std::string> ran_bytes = ReadToEnd(ran->read.get());
    report.Add("ran", ran_bytes.ok() ? absl::StrCat(ran_bytes->size())
                                     : ran_bytes.status().ToString());
    ran->read.reset();
    reaped->reset();
    report.Add("new_descriptors", absl::StrJoin(NewDescriptors(*before), ", "));
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
  procspec::Exit(0);
}
PROCSPEC_TARGET(RobustnessHostileHost);

// Under forkserver the host's children are the fork server's, which reaps
// them and reports their status: the host's reaper never sees them.
absl::Status RequireOwnChildren() {
  if (StartMethod() != "forkserver") return absl::OkStatus();
  return Unsupported(
      "under forkserver the fork server, not the host, is the child's parent");
}

std::map<std::string, std::string> RunHost(const std::string& how) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  EXPECT_OK(pipe.status());
  if (!pipe.ok()) return {};
  procspec::Process host(RobustnessHostileHost,
                         std::tuple{InheritedHandle(pipe->write.get()),
                                    std::string(StartMethod()), how});
  KillOnExit guard(host);
  EXPECT_OK(host.start());
  pipe->write.reset();
  absl::StatusOr<std::string> text = ReadToEnd(pipe->read.get());
  EXPECT_OK(text.status());
  absl::StatusOr<int> exitcode = JoinAndGetExitcode(host);
  EXPECT_OK(exitcode.status());
  if (exitcode.ok()) {
    EXPECT_EQ(*exitcode, 0);
  }
  std::map<std::string, std::string> report =
      ParseReport(text.ok() ? *text : "");
  report["text"] = text.ok() ? *text : text.status().ToString();
  return report;
}

std::string Repeated(const std::string& item, const std::string& separator) {
  std::vector<std::string> items(kChildren, item);
  return absl::StrJoin(items, separator);
}

void ExpectEndedChildren(std::map<std::string, std::string>& report) {
  const std::string& text = report["text"];
  ASSERT_EQ(report["setup"], "ok") << text;
  EXPECT_EQ(report["reaper"], "") << text;
  EXPECT_EQ(report["starts"], Repeated("ok", ",")) << text;
  EXPECT_EQ(report["ran"], absl::StrCat(kChildren)) << text;
  EXPECT_EQ(report["joins"], Repeated("ok", ",")) << text;
  EXPECT_EQ(report["alive"], Repeated("False", ",")) << text;
  EXPECT_EQ(report["exitcodes"],
            Repeated("ChildProcessError: [Errno 10] No child processes: the "
                     "exit status was collected by another waiter in this "
                     "process (a SIGCHLD handler, or SIGCHLD ignored)",
                     "|"))
      << text;
  EXPECT_EQ(report["closes"], Repeated("ok", ",")) << text;
  EXPECT_EQ(report["active_children"], "0") << text;
  EXPECT_EQ(report["new_descriptors"], "") << text;
}

// A SIGCHLD handler of the host reaps each child before the library looks.
CONFORMANCE_TEST(HostReaper, ChildReapedByTheHostHasEnded,
                 "robustness.host_reaper.child_has_ended") {
  CONFORMANCE_REQUIRE(RequireOwnChildren());
  std::map<std::string, std::string> report = RunHost("reaper");
  ExpectEndedChildren(report);
}

// SIGCHLD ignored: the kernel reaps each child at its exit. Every start
// succeeds, every target runs once, and every child is joinable.
CONFORMANCE_TEST(HostReaper, ChildOfAHostIgnoringSigchldIsManaged,
                 "robustness.sigchld_ignored.child_managed") {
  CONFORMANCE_REQUIRE(RequireOwnChildren());
  std::map<std::string, std::string> report = RunHost("ignore");
  ExpectEndedChildren(report);
}

// A child that says it is ready, waits for a byte on `gate`, then says it
// survived: a signal sent before the byte would have ended it first.
void RobustnessHostVictim(InheritedHandle gate, InheritedHandle report) {
  (void)platform::WriteAll(report.get(), "ready\n");
  (void)platform::ReadSome(gate.get(), 1);
  (void)platform::WriteAll(report.get(), "survived\n");
  procspec::Exit(0);
}
PROCSPEC_TARGET(RobustnessHostVictim);

// In process 1 of a new PID namespace with the host's reaper: a child that the
// reaper collected is never signalled through its pid, which a new process
// has taken.
void SignalAfterForeignReap(Report& report) {
  absl::StatusOr<platform::UniqueHandle> reaped = os::InstallChildReaper();
  absl::StatusOr<platform::PipeEnds> gate = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> said = platform::MakePipe();
  if (!reaped.ok() || !gate.ok() || !said.ok()) {
    report.Add("error", "setup failed");
    return;
  }
  procspec::Process old(procspec::testing::ExitWith, std::tuple{0});
  if (absl::Status s = old.start(); !s.ok()) {
    report.Add("error", s.ToString());
    return;
  }
  absl::StatusOr<std::optional<procspec::Pid>> old_pid = old.pid();
  // The host's handler reaps it; the Process object has not looked.
  if (!AwaitReaperByte(reaped->get())) {
    report.Add("error", "the host's handler reaped nothing in time");
    return;
  }
  if (absl::Status s = os::SetNextPid(old_pid.ok() ? old_pid->value_or(0) : 0);
      !s.ok()) {
    report.Add("error", s.ToString());
    return;
  }
  procspec::Process victim(RobustnessHostVictim,
                           std::tuple{InheritedHandle(gate->read.get()),
                                      InheritedHandle(said->write.get())});
  if (absl::Status s = victim.start(); !s.ok()) {
    report.Add("error", s.ToString());
    return;
  }
  said->write.reset();
  absl::StatusOr<std::optional<procspec::Pid>> victim_pid = victim.pid();
  report.Add("reused",
             victim_pid.ok() && old_pid.ok() && *victim_pid == *old_pid ? "yes"
                                                                        : "no");
  absl::StatusOr<std::string> ready =
      conformance::testing::ReadLine(said->read.get());
  report.Add("ready", ready.ok() ? *ready : ready.status().ToString());
  report.Add("terminate", old.terminate().ToString());
  report.Add("kill", old.kill().ToString());
  (void)platform::WriteAll(gate->write.get(), "g");
  absl::StatusOr<std::string> rest = ReadToEnd(said->read.get());
  report.Add("victim", rest.ok() ? rest->substr(0, rest->find('\n'))
                                 : rest.status().ToString());
  (void)victim.join();
  absl::StatusOr<bool> alive = old.is_alive();
  report.Add("old_alive", alive.ok() ? (*alive ? "True" : "False")
                                     : alive.status().ToString());
}

CONFORMANCE_TEST(HostReaper, ChildReapedByTheHostIsNeverSignalled,
                 "robustness.host_reaper.no_signal_after_foreign_reap") {
  if (StartMethod() == "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "under forkserver the server, outside the test's PID namespace, forks "
        "and reaps the children"));
  }
  CONFORMANCE_REQUIRE(RequireCapability("pid_namespace"));
  ASSERT_OK_AND_ASSIGN(NamespaceRun run,
                       RunReportInNewPidNamespace([](Report& report) {
                         SignalAfterForeignReap(report);
                       }));
  const std::string& text = run.report_text;
  EXPECT_EQ(run.status, (platform::ExitStatus{.signaled = false, .value = 0}));
  std::map<std::string, std::string> report = ParseReport(text);
  EXPECT_EQ(report["error"], "") << text;
  EXPECT_EQ(report["reused"], "yes") << text;
  EXPECT_EQ(report["ready"], "ready") << text;
  EXPECT_EQ(report["terminate"], "OK") << text;
  EXPECT_EQ(report["kill"], "OK") << text;
  EXPECT_EQ(report["victim"], "survived") << text;
  EXPECT_EQ(report["old_alive"], "False") << text;
}

}  // namespace
}  // namespace conformance::robustness
