// The daemon flag: its default (inherited from the creating process), setting
// it before start() and not after, and that a daemonic process cannot have
// children. (What happens to daemonic children when their parent ends is in
// exit_test.cc and orphans_test.cc.)
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/signals/signals_testing.h"
#include "gtest/gtest.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::signals_testing::BlockUntilKilled;
using ::conformance::signals_testing::KillOnExit;
using ::conformance::signals_testing::PidOf;
using ::conformance::signals_testing::ReadToEnd;
using ::conformance::signals_testing::SendLine;
using ::conformance::signals_testing::StartAndAwaitReady;
using ::conformance::testing::JoinAndGetExitcode;
using ::procspec::Pid;
namespace platform = ::procspec::platform;

std::string Flag(bool value) { return value ? "True" : "False"; }

// Runs `body` in a child started with `options`; `body` writes lines on the
// pipe it is given. Returns everything written, once the child has exited 0.
template <typename Body>
absl::StatusOr<std::string> ReportFromChild(procspec::Options options,
                                            Body body) {
  absl::StatusOr<platform::PipeEnds> report = platform::MakePipe();
  if (!report.ok()) return report.status();
  procspec::Process child(
      [&report, body]() mutable { body(report->write.get()); },
      std::move(options));
  KillOnExit guard(child);
  if (absl::Status status = child.start(); !status.ok()) return status;
  report->write.reset();
  absl::StatusOr<int> exitcode = JoinAndGetExitcode(child);
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
  procspec::Process with_target([] {}, {.name = "named"});
  EXPECT_FALSE(with_target.daemon());
}

// The default is the creating process's own flag: False for an object made in
// a non-daemonic child, True for one made in a daemonic child.
CONFORMANCE_TEST(Daemon, DefaultInheritsTheCreatingProcesssFlag,
                 "process.daemon.default_inherits") {
  auto report_default = [](platform::NativeHandle out) {
    procspec::Process made_here([] {});
    SendLine(out, absl::StrCat(
                      "current=", Flag(procspec::current_process().daemon()),
                      " new=", Flag(made_here.daemon())));
  };
  ASSERT_OK_AND_ASSIGN(std::string in_daemonic,
                       ReportFromChild({.daemon = true}, report_default));
  EXPECT_EQ(in_daemonic, "current=True new=True\n");
  ASSERT_OK_AND_ASSIGN(std::string in_plain,
                       ReportFromChild({.daemon = false}, report_default));
  EXPECT_EQ(in_plain, "current=False new=False\n");
}

// An explicit daemon value overrides the inherited one: daemon=False inside a
// daemonic child gives False (and daemon=True in the main process gives True).
CONFORMANCE_TEST(Daemon, AnExplicitValueOverridesTheInheritedOne,
                 "process.daemon.default_inherits",
                 "process.daemon.set_before_start") {
  ASSERT_OK_AND_ASSIGN(
      std::string in_daemonic,
      ReportFromChild({.daemon = true}, [](platform::NativeHandle out) {
        procspec::Process explicit_false([] {}, {.daemon = false});
        SendLine(out, Flag(explicit_false.daemon()));
      }));
  EXPECT_EQ(in_daemonic, "False\n");
  procspec::Process explicit_true([] {}, {.daemon = true});
  EXPECT_TRUE(explicit_true.daemon());
}

// daemon=True at construction: daemon is True before start, the child sees
// current_process().daemon == True, and repr ends in " daemon" in every state.
CONFORMANCE_TEST(Daemon, SetAtConstructionMakesTheChildDaemonic,
                 "process.daemon.set_before_start") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds release, platform::MakePipe());
  procspec::Process child(
      [&] {
        SendLine(ready.write.get(), "ready");
        signals_testing::WaitForByteOrEof(release.read.get());
        procspec::Exit(procspec::current_process().daemon() ? 21 : 20);
      },
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
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(child));
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
  procspec::Process assigned_true(
      [] { procspec::Exit(procspec::current_process().daemon() ? 21 : 20); });
  KillOnExit guard_true(assigned_true);
  ASSERT_OK(assigned_true.set_daemon(true));
  EXPECT_TRUE(assigned_true.daemon());
  ASSERT_OK(assigned_true.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(assigned_true));
  EXPECT_EQ(exitcode, 21);

  procspec::Process assigned_false(
      [] { procspec::Exit(procspec::current_process().daemon() ? 21 : 20); },
      {.daemon = true});
  KillOnExit guard_false(assigned_false);
  ASSERT_OK(assigned_false.set_daemon(false));
  EXPECT_FALSE(assigned_false.daemon());
  ASSERT_OK(assigned_false.start());
  ASSERT_OK_AND_ASSIGN(exitcode, JoinAndGetExitcode(assigned_false));
  EXPECT_EQ(exitcode, 20);
}

// After start(), assigning daemon fails with AssertionError "process has
// already started" and leaves the flag as it was, while the child runs and
// after it has been joined.
CONFORMANCE_TEST(Daemon, AssigningAfterStartFails,
                 "process.daemon.set_after_start_error") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child([&ready] {
    SendLine(ready.write.get(), "ready");
    BlockUntilKilled();
  });
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  EXPECT_PYTHON_ERROR(child.set_daemon(true), "AssertionError",
                      "process has already started");
  EXPECT_FALSE(child.daemon());
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(child));
  EXPECT_EQ(exitcode, -15);
  EXPECT_PYTHON_ERROR(child.set_daemon(true), "AssertionError",
                      "process has already started");
  EXPECT_FALSE(child.daemon());

  procspec::Process daemonic([] {}, {.daemon = true});
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
  procspec::Process child([] {});
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
      ReportFromChild({.daemon = true}, [](platform::NativeHandle out) {
        procspec::Process inherited([] {});
        procspec::Process explicit_false([] {}, {.daemon = false});
        for (procspec::Process* process : {&inherited, &explicit_false}) {
          const absl::Status status = process->start();
          SendLine(out, absl::StrCat(procspec::PythonExceptionType(status),
                                     ": ", std::string(status.message())));
          SendLine(out, absl::StrCat("pid set: ", Flag(PidOf(*process) != 0)));
        }
        SendLine(out, absl::StrCat("active children: ",
                                   procspec::active_children().size()));
      }));
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
      ReportFromChild({.daemon = false}, [](platform::NativeHandle out) {
        procspec::Process grandchild([] { procspec::Exit(5); });
        const absl::Status status = grandchild.start();
        SendLine(out, status.ok() ? "started" : status.ToString());
        SendLine(out, absl::StrCat(JoinAndGetExitcode(grandchild).value_or(0)));
      }));
  EXPECT_EQ(report, "started\n5\n");
}

}  // namespace
}  // namespace conformance
