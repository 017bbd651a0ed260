// Process::repr(), CPython's repr(p): '<' + ' '.join(parts) + '>' with the
// class name, name=<Python repr of the name>, pid=<pid> (started, not closed),
// parent=<creator pid>, the status, exitcode=<code or -SIGNAME> when stopped,
// and 'daemon'.
#include <optional>
#include <sstream>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/construction/construction_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using construction_testing::ReportPipe;
using construction_testing::SendLineTo;

class Sub : public procspec::Process {
 public:
  using procspec::Process::Process;
};

std::string ParentPid() {
  return absl::StrCat(procspec::platform::CurrentPid());
}

// The child's pid as repr prints it.
std::string PidOf(procspec::Process& p) {
  absl::StatusOr<std::optional<procspec::Pid>> pid = p.pid();
  if (!pid.ok() || !pid->has_value()) return "<no pid>";
  return absl::StrCat(**pid);
}

// Signals the handshake and blocks until released (or killed).
void ReprBlock(HandshakeChild handshake) {
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
}
PROCSPEC_TARGET(ReprBlock);

// Reports the child's own repr.
void ReprReportCurrent(procspec::InheritedHandle out) {
  SendLineTo(out, procspec::current_process().repr());
}
PROCSPEC_TARGET(ReprReportCurrent);

// Before start: no pid, status 'initial'.
CONFORMANCE_TEST(Repr, Initial, "process.repr.format") {
  procspec::Process p({.name = "Process-1"});
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='Process-1' parent=",
                                   ParentPid(), " initial>"));
  procspec::Process q;
  EXPECT_EQ(q.repr(), absl::StrCat("<Process name='", q.name(),
                                   "' parent=", ParentPid(), " initial>"));
}

// 'daemon' comes last when the flag is set.
CONFORMANCE_TEST(Repr, InitialDaemon, "process.repr.format") {
  procspec::Process p({.name = "d", .daemon = true});
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='d' parent=", ParentPid(),
                                   " initial daemon>"));
  ASSERT_OK(p.set_daemon(false));
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='d' parent=", ParentPid(),
                                   " initial>"));
}

// While the child runs: pid=<pid> before parent=, status 'started'.
CONFORMANCE_TEST(Repr, StartedShowsThePid, "process.repr.format") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ReprBlock, std::tuple{handshake.ChildSide()},
                      {.name = "runner", .daemon = true});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK(handshake.WaitReady());
  EXPECT_EQ(p.repr(),
            absl::StrCat("<Process name='runner' pid=", PidOf(p),
                         " parent=", ParentPid(), " started daemon>"));
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='runner' pid=", PidOf(p),
                                   " parent=", ParentPid(),
                                   " stopped exitcode=0 daemon>"));
}

// After the child ended: status 'stopped' and exitcode=<code>.
CONFORMANCE_TEST(Repr, StoppedShowsTheExitcode, "process.repr.format") {
  procspec::Process p(procspec::testing::ExitWith, std::tuple{3},
                      {.name = "three"});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 3);
  EXPECT_EQ(p.repr(),
            absl::StrCat("<Process name='three' pid=", PidOf(p),
                         " parent=", ParentPid(), " stopped exitcode=3>"));
}

// Starts a child that blocks, ends it with terminate() (or kill()), and
// checks that repr shows "stopped exitcode=-<signal_name>".
void ExpectStoppedRepr(bool use_kill, const std::string& signal_name) {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ReprBlock, std::tuple{handshake.ChildSide()},
                      {.name = "victim"});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK(use_kill ? p.kill() : p.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_LT(exitcode, 0);
  EXPECT_EQ(p.repr(),
            absl::StrCat("<Process name='victim' pid=", PidOf(p),
                         " parent=", ParentPid(), " stopped exitcode=-",
                         signal_name, ">"));
}

// A death by terminate() shows the signal's name: exitcode=-SIGTERM (on
// Windows too, where CPython reports TerminateProcess's code so).
CONFORMANCE_TEST(Repr, StoppedBySignalShowsItsName, "process.repr.format") {
  ExpectStoppedRepr(/*use_kill=*/false, "SIGTERM");
}

// kill() sends SIGKILL, and repr names it (where the backend has POSIX
// signals; elsewhere kill() is terminate(), as in CPython on Windows).
CONFORMANCE_TEST(Repr, StoppedByKillShowsSigkill, "process.repr.format",
                 "process.kill.sigkill") {
  ExpectStoppedRepr(/*use_kill=*/true, "SIGKILL");
}

// After close(): no pid, status 'closed' (daemon still shown); closing an
// initial process gives the same.
CONFORMANCE_TEST(Repr, Closed, "process.repr.format") {
  procspec::Process p({.name = "c", .daemon = true});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  ASSERT_OK(p.close());
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='c' parent=", ParentPid(),
                                   " closed daemon>"));
  procspec::Process never_started({.name = "n"});
  ASSERT_OK(never_started.close());
  EXPECT_EQ(never_started.repr(),
            absl::StrCat("<Process name='n' parent=", ParentPid(), " closed>"));
}

// The main process: <_MainProcess name='MainProcess' parent=None started>.
CONFORMANCE_TEST(Repr, MainProcess, "process.repr.format") {
  EXPECT_EQ(procspec::current_process().repr(),
            "<_MainProcess name='MainProcess' parent=None started>");
}

// In a child, its own Process object: no pid, status 'started', the parent's
// pid (the same under every start method: the bootstrap carries them).
CONFORMANCE_TEST(Repr, InTheChildCurrent, "process.repr.format") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ReprReportCurrent, std::tuple{report.ChildEnd()},
                      {.name = "me"});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, absl::StrCat("<Process name='me' parent=", ParentPid(),
                               " started>\n"));
}

// In a child, an object it inherited from the parent (created by another
// process): 'unknown'; its own object still 'started'.
CONFORMANCE_TEST(Repr, InTheChildCurrentAndInherited, "process.repr.format") {
  CONFORMANCE_REQUIRE(
      StartMethod() == "fork"
          ? absl::OkStatus()
          : Unsupported("needs the fork start method: the child uses a "
                        "Process object of its parent, which only a forked "
                        "child has (CPython cannot pickle a Process for spawn "
                        "or forkserver either)"));
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process sibling({.name = "sibling"});
  procspec::Process p(
      [&report, &sibling] {
        report.SendLine(procspec::current_process().repr());
        report.SendLine(sibling.repr());
      },
      {.name = "me"});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, absl::StrCat("<Process name='me' parent=", ParentPid(),
                               " started>\n", "<Process name='sibling' parent=",
                               ParentPid(), " unknown>\n"));
}

// The class name is the most derived class's (type(self).__name__).
CONFORMANCE_TEST(Repr, SubclassName, "process.repr.format") {
  Sub sub({.name = "s"});
  EXPECT_EQ(sub.repr(),
            absl::StrCat("<Sub name='s' parent=", ParentPid(), " initial>"));
}

// name=%r: Python's repr quoting of the name (double quotes when the name
// holds a single quote only; backslashes and the quote escaped otherwise).
CONFORMANCE_TEST(Repr, NameIsQuotedAsPythonRepr, "process.repr.format") {
  procspec::Process apostrophe({.name = "it's"});
  EXPECT_EQ(
      apostrophe.repr(),
      absl::StrCat("<Process name=\"it's\" parent=", ParentPid(), " initial>"));
  procspec::Process both({.name = "a\"b'c\\"});
  EXPECT_EQ(both.repr(), absl::StrCat("<Process name='a\"b\\'c\\\\' parent=",
                                      ParentPid(), " initial>"));
  procspec::Process newline({.name = "x\ny"});
  EXPECT_EQ(
      newline.repr(),
      absl::StrCat("<Process name='x\\ny' parent=", ParentPid(), " initial>"));
}

// operator<< prints the repr.
CONFORMANCE_TEST(Repr, StreamOperatorPrintsTheRepr, "process.repr.format") {
  procspec::Process p({.name = "streamed"});
  std::ostringstream out;
  out << p;
  EXPECT_EQ(out.str(), p.repr());
}

}  // namespace
}  // namespace conformance
