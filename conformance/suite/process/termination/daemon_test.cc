// The daemon flag: its default (inherited from the creating process), setting
// it before start() and not after, and that a daemonic process cannot have
// children. (What happens to daemonic children when their parent ends is in
// exit_test.cc and orphans_test.cc.) Targets are registered functions, so the
// tests run under every start method.
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance {
namespace {

using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::PidOf;
using ::conformance::testing::ReadToEnd;
using ::conformance::testing::SendLine;
using ::conformance::testing::StartAndAwaitReady;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;

std::string Flag(bool value) { return value ? "True" : "False"; }

// ---- Targets ----

void DaemonNoop() {}
PROCSPEC_TARGET(DaemonNoop);

// Exits 21 if current_process() is daemonic, else 20.
void DaemonExitWithFlag() {
  procspec::Exit(procspec::current_process().daemon() ? 21 : 20);
}
PROCSPEC_TARGET(DaemonExitWithFlag);

// Sends "ready", waits for a byte (or end of file) on `release`, then exits as
// DaemonExitWithFlag.
void DaemonReadyThenExitWithFlag(InheritedHandle ready,
                                 InheritedHandle release) {
  SendLine(ready.get(), "ready");
  ::conformance::testing::WaitForByteOrEof(release.get());
  DaemonExitWithFlag();
}
PROCSPEC_TARGET(DaemonReadyThenExitWithFlag);

// Sends "ready", then blocks until killed.
void DaemonReadyThenBlock(InheritedHandle ready) {
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(DaemonReadyThenBlock);

// Reports its own daemon flag and the default of an object made here.
void DaemonReportDefault(InheritedHandle out) {
  procspec::Process made_here(DaemonNoop);
  SendLine(out.get(),
           absl::StrCat("current=", Flag(procspec::current_process().daemon()),
                        " new=", Flag(made_here.daemon())));
}
PROCSPEC_TARGET(DaemonReportDefault);

// Reports the flag of an object made here with daemon=False.
void DaemonReportExplicitFalse(InheritedHandle out) {
  procspec::Process explicit_false(DaemonNoop, {.daemon = false});
  SendLine(out.get(), Flag(explicit_false.daemon()));
}
PROCSPEC_TARGET(DaemonReportExplicitFalse);

// Tries to start two children (daemon inherited, daemon=False) and reports
// what start() said, whether a pid was set, and active_children().
void DaemonReportStartingChildren(InheritedHandle out) {
  procspec::Process inherited(DaemonNoop);
  procspec::Process explicit_false(DaemonNoop, {.daemon = false});
  for (procspec::Process* process : {&inherited, &explicit_false}) {
    const absl::Status status = process->start();
    SendLine(out.get(), absl::StrCat(procspec::PythonExceptionType(status),
                                     ": ", std::string(status.message())));
    SendLine(out.get(), absl::StrCat("pid set: ", Flag(PidOf(*process) != 0)));
  }
  SendLine(out.get(), absl::StrCat("active children: ",
                                   procspec::active_children().size()));
}
PROCSPEC_TARGET(DaemonReportStartingChildren);

// Starts a grandchild that exits 5 and reports the start and its exitcode.
void DaemonReportStartingAGrandchild(InheritedHandle out) {
  procspec::Process grandchild(procspec::testing::ExitWith, std::tuple{5});
  const absl::Status status = grandchild.start();
  SendLine(out.get(), status.ok() ? "started" : status.ToString());
  SendLine(out.get(), absl::StrCat(JoinSoon(grandchild).value_or(0)));
}
PROCSPEC_TARGET(DaemonReportStartingAGrandchild);

// Runs `target` in a child started with `options`, passing it the write end of
// a pipe. Returns everything written, once the child has exited 0.
absl::StatusOr<std::string> ReportFromChild(procspec::Options options,
                                            void (*target)(InheritedHandle)) {
  absl::StatusOr<platform::PipeEnds> report = platform::MakePipe();
  if (!report.ok()) return report.status();
  procspec::Process child(target,
                          std::tuple{InheritedHandle(report->write.get())},
                          std::move(options));
  KillOnExit guard(child);
  if (absl::Status status = child.start(); !status.ok()) return status;
  report->write.reset();
  absl::StatusOr<int> exitcode = JoinSoon(child);
  if (!exitcode.ok()) return exitcode.status();
  if (*exitcode != 0) {
    return absl::InternalError(
        absl::StrCat("the reporting child exited with ", *exitcode));
  }
  return ReadToEnd(report->read.get());
}

// In the main process the default is False: for a new Process with or without
// a target, and for current_process() itself.
CONFORMANCE_TEST(Daemon, DefaultIsFalseInTheMainProcess,
                 "process.daemon.default_inherits") {
  EXPECT_FALSE(procspec::current_process().daemon());
  procspec::Process without_target;
  EXPECT_FALSE(without_target.daemon());
  procspec::Process with_target(DaemonNoop, {.name = "named"});
  EXPECT_FALSE(with_target.daemon());
}

// The default is the creating process's own flag: False for an object made in
// a non-daemonic child, True for one made in a daemonic child.
CONFORMANCE_TEST(Daemon, DefaultInheritsTheCreatingProcesssFlag,
                 "process.daemon.default_inherits") {
  ASSERT_OK_AND_ASSIGN(std::string in_daemonic,
                       ReportFromChild({.daemon = true}, DaemonReportDefault));
  EXPECT_EQ(in_daemonic, "current=True new=True\n");
  ASSERT_OK_AND_ASSIGN(std::string in_plain,
                       ReportFromChild({.daemon = false}, DaemonReportDefault));
  EXPECT_EQ(in_plain, "current=False new=False\n");
}

// An explicit daemon value overrides the inherited one: daemon=False inside a
// daemonic child gives False (and daemon=True in the main process gives True).
CONFORMANCE_TEST(Daemon, AnExplicitValueOverridesTheInheritedOne,
                 "process.daemon.default_inherits",
                 "process.daemon.set_before_start") {
  ASSERT_OK_AND_ASSIGN(
      std::string in_daemonic,
      ReportFromChild({.daemon = true}, DaemonReportExplicitFalse));
  EXPECT_EQ(in_daemonic, "False\n");
  procspec::Process explicit_true(DaemonNoop, {.daemon = true});
  EXPECT_TRUE(explicit_true.daemon());
}

// daemon=True at construction: daemon is True before start, the child sees
// current_process().daemon == True, and repr ends in " daemon" in every state.
CONFORMANCE_TEST(Daemon, SetAtConstructionMakesTheChildDaemonic,
                 "process.daemon.set_before_start") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds release, platform::MakePipe());
  procspec::Process child(DaemonReadyThenExitWithFlag,
                          std::tuple{InheritedHandle(ready.write.get()),
                                     InheritedHandle(release.read.get())},
                          {.daemon = true});
  KillOnExit guard(child);
  EXPECT_TRUE(child.daemon());
  const std::string parent = absl::StrCat(platform::CurrentPid());
  EXPECT_EQ(child.repr(), absl::StrFormat("<Process name='%s' parent=%s "
                                          "initial daemon>",
                                          child.name(), parent));
  ASSERT_OK(StartAndAwaitReady(child, ready));
  EXPECT_EQ(child.repr(),
            absl::StrFormat("<Process name='%s' pid=%d parent=%s started "
                            "daemon>",
                            child.name(), PidOf(child), parent));
  ASSERT_OK(platform::WriteAll(release.write.get(), "x"));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 21) << "the child's current_process().daemon was False";
  EXPECT_EQ(child.repr(),
            absl::StrFormat("<Process name='%s' pid=%d parent=%s stopped "
                            "exitcode=21 daemon>",
                            child.name(), PidOf(child), parent));
}

// Assigning daemon before start() works the same, and a later assignment
// before start() wins over the constructor's value.
CONFORMANCE_TEST(Daemon, AssignedBeforeStartMakesTheChildDaemonic,
                 "process.daemon.set_before_start") {
  procspec::Process assigned_true(DaemonExitWithFlag);
  KillOnExit guard_true(assigned_true);
  ASSERT_OK(assigned_true.set_daemon(true));
  EXPECT_TRUE(assigned_true.daemon());
  ASSERT_OK(assigned_true.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(assigned_true));
  EXPECT_EQ(exitcode, 21);

  procspec::Process assigned_false(DaemonExitWithFlag, {.daemon = true});
  KillOnExit guard_false(assigned_false);
  ASSERT_OK(assigned_false.set_daemon(false));
  EXPECT_FALSE(assigned_false.daemon());
  ASSERT_OK(assigned_false.start());
  ASSERT_OK_AND_ASSIGN(exitcode, JoinSoon(assigned_false));
  EXPECT_EQ(exitcode, 20);
}

// After start(), assigning daemon fails with AssertionError "process has
// already started" and leaves the flag as it was, while the child runs and
// after it has been joined.
CONFORMANCE_TEST(Daemon, AssigningAfterStartFails,
                 "process.daemon.set_after_start_error") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(DaemonReadyThenBlock,
                          std::tuple{InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  EXPECT_PYTHON_ERROR(child.set_daemon(true), "AssertionError",
                      "process has already started");
  EXPECT_FALSE(child.daemon());
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -15);
  EXPECT_PYTHON_ERROR(child.set_daemon(true), "AssertionError",
                      "process has already started");
  EXPECT_FALSE(child.daemon());

  procspec::Process daemonic(DaemonNoop, {.daemon = true});
  KillOnExit daemonic_guard(daemonic);
  ASSERT_OK(daemonic.start());
  EXPECT_PYTHON_ERROR(daemonic.set_daemon(false), "AssertionError",
                      "process has already started");
  EXPECT_TRUE(daemonic.daemon());
  ASSERT_OK(daemonic.join());
}

// close() drops the child handle the assertion checks, so afterwards the flag
// may be assigned again (as in CPython).
CONFORMANCE_TEST(Daemon, AssigningAfterCloseSucceeds,
                 "process.daemon.set_after_start_error") {
  procspec::Process child(DaemonNoop);
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  ASSERT_OK(child.join());
  ASSERT_OK(child.close());
  EXPECT_OK(child.set_daemon(true));
  EXPECT_TRUE(child.daemon());
}

// Inside a daemonic child, constructing a Process works, but start() fails
// with AssertionError "daemonic processes are not allowed to have children",
// even with daemon=False on the new object, and creates no process.
CONFORMANCE_TEST(Daemon, DaemonicProcessCannotStartChildren,
                 "process.daemon.no_children") {
  ASSERT_OK_AND_ASSIGN(
      std::string report,
      ReportFromChild({.daemon = true}, DaemonReportStartingChildren));
  EXPECT_EQ(report,
            "AssertionError: daemonic processes are not allowed to have "
            "children\n"
            "pid set: False\n"
            "AssertionError: daemonic processes are not allowed to have "
            "children\n"
            "pid set: False\n"
            "active children: 0\n");
}

// The control: a non-daemonic child may start children.
CONFORMANCE_TEST(Daemon, ControlNonDaemonicProcessCanStartChildren,
                 "process.daemon.no_children") {
  ASSERT_OK_AND_ASSIGN(
      std::string report,
      ReportFromChild({.daemon = false}, DaemonReportStartingAGrandchild));
  EXPECT_EQ(report, "started\n5\n");
}

}  // namespace
}  // namespace conformance
