// Process names: the default "<ClassName>-N" from one per-process counter,
// nested names in children, and names given or assigned.
//
// Inside this shared test binary N is not predictable in absolute terms (other
// tests construct Processes too), so in-binary tests compare consecutive
// numbers; absolute numbers are checked in a freshly executed child entry,
// whose counter starts at 1.
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/construction/construction_testing.h"
#include "gtest/gtest.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::RunChildEntry;
using construction_testing::DefaultNameNumber;
using construction_testing::ReportPipe;
using construction_testing::SendLineTo;
using construction_testing::SendTo;

// A subclass, named by its unqualified C++ class name as CPython uses
// type(self).__name__. Given a report pipe, its run() reports the child's own
// name.
class Sub : public procspec::Process {
 public:
  using procspec::Process::Process;
  Sub() = default;
  explicit Sub(procspec::InheritedHandle out) : out_(out) {}

  void run() override {
    if (out_.valid()) SendTo(out_, procspec::current_process().name());
  }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(out_);
  }

 private:
  procspec::InheritedHandle out_;
};
PROCSPEC_PROCESS_CLASS(Sub);

// Reports the child's own name.
void NameReport(procspec::InheritedHandle out) {
  SendTo(out, procspec::current_process().name());
}
PROCSPEC_TARGET(NameReport);

// Reports its own name and the name of a Process it constructs.
void NameGrandchild(procspec::InheritedHandle out) {
  procspec::Process great_grandchild;
  SendLineTo(
      out, absl::StrCat("grandchild ", procspec::current_process().name(), " ",
                        great_grandchild.name()));
}
PROCSPEC_TARGET(NameGrandchild);

// Constructs three Processes, reports their names, then starts the first.
void NameChild(procspec::InheritedHandle out) {
  procspec::Process first(NameGrandchild, std::tuple{out});
  procspec::Process second;
  Sub third;
  SendLineTo(out,
             absl::StrCat("child ", procspec::current_process().name(), " ",
                          first.name(), " ", second.name(), " ", third.name()));
  if (!first.start().ok()) procspec::Exit(3);
  if (!first.join().ok()) procspec::Exit(4);
  SendLineTo(out, "child done");
}
PROCSPEC_TARGET(NameChild);

// Constructs three Processes and starts none.
void NameConstructThree() {
  procspec::Process a;
  procspec::Process b;
  procspec::Process c;
}
PROCSPEC_TARGET(NameConstructThree);

// Reports its name once released.
void NameReportWhenReleased(HandshakeChild handshake,
                            procspec::InheritedHandle out) {
  (void)handshake.SignalReady();
  if (!handshake.WaitForRelease().ok()) procspec::Exit(2);
  SendTo(out, procspec::current_process().name());
}
PROCSPEC_TARGET(NameReportWhenReleased);

// Renames itself, then reports its name.
void NameRenameSelf(procspec::InheritedHandle out) {
  procspec::current_process().set_name("self-named");
  SendTo(out, procspec::current_process().name());
}
PROCSPEC_TARGET(NameRenameSelf);

void NameThrow() { throw std::runtime_error("boom"); }
PROCSPEC_TARGET(NameThrow);

}  // namespace

namespace app {
// A subclass in a named namespace: the prefix is still just "Worker".
class Worker : public procspec::Process {
 public:
  Worker() = default;
};
}  // namespace app

namespace {

// Two consecutive constructions are named Process-N and Process-(N+1), started
// or not.
CONFORMANCE_TEST(Name, DefaultIsProcessDashCounter, "process.name.default") {
  procspec::Process first;
  procspec::Process second;
  const std::optional<int> n = DefaultNameNumber(first.name(), "Process");
  ASSERT_TRUE(n.has_value()) << first.name();
  EXPECT_EQ(second.name(), absl::StrCat("Process-", *n + 1));
  // Starting one does not advance the counter; only constructing does.
  ASSERT_OK(second.start());
  KillOnExit guard(second);
  procspec::Process third;
  EXPECT_EQ(third.name(), absl::StrCat("Process-", *n + 2));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(second));
  EXPECT_EQ(exitcode, 0);
  // The name is stable: the same after the child ended.
  EXPECT_EQ(second.name(), absl::StrCat("Process-", *n + 1));
}

// The child knows itself by the same default name as the parent's object.
CONFORMANCE_TEST(Name, ChildSeesItsDefaultName, "process.name.default") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(NameReport, std::tuple{report.ChildEnd()});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, p.name());
  EXPECT_TRUE(DefaultNameNumber(seen, "Process").has_value()) << seen;
}

CONFORMANCE_CHILD_ENTRY(construction_default_names) {
  procspec::Process first;
  procspec::Process second;
  procspec::Process named({.name = "named"});
  procspec::Process fourth;
  Sub sub;
  procspec::Process empty({.name = ""});
  std::printf("%s %s %s %s %s\n", first.name().c_str(), second.name().c_str(),
              named.name().c_str(), sub.name().c_str(), empty.name().c_str());
  return 0;
}

// In a fresh program the counter starts at 1, and every construction advances
// it (a named one and a subclass included): Process-1, Process-2, named
// (taking number 3), Process-4, Sub-5, and name="" gives Process-6.
CONFORMANCE_TEST(Name, CounterStartsAtOneInAFreshProgram,
                 "process.name.default",
                 "process.name.counter_shared_across_classes",
                 "process.name.empty_gets_default") {
  ASSERT_OK_AND_ASSIGN(procspec::platform::testing::CommandResult result,
                       RunChildEntry("construction_default_names"));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_EQ(result.out, "Process-1 Process-2 named Sub-5 Process-6\n");
}

// Process(), Sub(), Process(): Process-N, Sub-(N+1), Process-(N+2). One
// counter for every class; the prefix is the most derived class's name.
CONFORMANCE_TEST(Name, CounterIsSharedBySubclasses,
                 "process.name.counter_shared_across_classes") {
  procspec::Process before;
  Sub sub;
  app::Worker worker;
  procspec::Process after;
  const std::optional<int> n = DefaultNameNumber(before.name(), "Process");
  ASSERT_TRUE(n.has_value()) << before.name();
  EXPECT_EQ(sub.name(), absl::StrCat("Sub-", *n + 1));
  EXPECT_EQ(worker.name(), absl::StrCat("Worker-", *n + 2));
  EXPECT_EQ(after.name(), absl::StrCat("Process-", *n + 3));
}

// A subclass object started: the child also calls itself Sub-N.
CONFORMANCE_TEST(Name, SubclassChildSeesItsClassName,
                 "process.name.counter_shared_across_classes") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  Sub sub(report.ChildEnd());
  ASSERT_OK(sub.start());
  KillOnExit guard(sub);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(sub));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, sub.name());
  EXPECT_TRUE(DefaultNameNumber(seen, "Sub").has_value()) << seen;
}

// In the child Process-N the counter restarts at 1 and names nest: the objects
// it creates are Process-N:1 and Process-N:2, and the grandchild started from
// Process-N:1 knows itself by that name and names its own first child
// Process-N:1:1.
CONFORMANCE_TEST(Name, NestedNamesInChildrenAndGrandchildren,
                 "process.name.nested_in_child") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(NameChild, std::tuple{report.ChildEnd()});
  const std::string name = p.name();
  ASSERT_TRUE(DefaultNameNumber(name, "Process").has_value()) << name;
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  const std::string n = name.substr(std::string("Process-").size());
  EXPECT_EQ(seen,
            absl::StrCat("child Process-", n, " Process-", n, ":1 Process-", n,
                         ":2 Sub-", n, ":3\n", "grandchild Process-", n,
                         ":1 Process-", n, ":1:1\n", "child done\n"));
  // Back in the main process, names still have one component.
  procspec::Process next;
  EXPECT_TRUE(DefaultNameNumber(next.name(), "Process").has_value())
      << next.name();
}

// The counter is per process: constructions in a child do not advance the
// parent's counter.
CONFORMANCE_TEST(Name, ChildConstructionsDoNotAdvanceTheParentsCounter,
                 "process.name.nested_in_child") {
  procspec::Process p(NameConstructThree);
  const std::optional<int> n = DefaultNameNumber(p.name(), "Process");
  ASSERT_TRUE(n.has_value()) << p.name();
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  procspec::Process next;
  EXPECT_EQ(next.name(), absl::StrCat("Process-", *n + 1));
}

// name="" gets the default name, and the counter is advanced either way.
CONFORMANCE_TEST(Name, EmptyNameGetsTheDefault,
                 "process.name.empty_gets_default") {
  procspec::Process before;
  procspec::Process empty({.name = ""});
  procspec::Process empty_with_target([] {}, std::tuple<>(), {.name = ""});
  Sub empty_sub({.name = ""});
  const std::optional<int> n = DefaultNameNumber(before.name(), "Process");
  ASSERT_TRUE(n.has_value()) << before.name();
  EXPECT_EQ(empty.name(), absl::StrCat("Process-", *n + 1));
  EXPECT_EQ(empty_with_target.name(), absl::StrCat("Process-", *n + 2));
  EXPECT_EQ(empty_sub.name(), absl::StrCat("Sub-", *n + 3));
}

// The child of a process constructed with name="" sees the default name too.
CONFORMANCE_TEST(Name, EmptyNameChildSeesTheDefault,
                 "process.name.empty_gets_default") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(NameReport, std::tuple{report.ChildEnd()}, {.name = ""});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, p.name());
  EXPECT_TRUE(DefaultNameNumber(seen, "Process").has_value()) << seen;
}

// A name given at construction is p.name and the child's own name.
CONFORMANCE_TEST(Name, GivenNameIsTheChildsName, "process.name.settable") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(NameReport, std::tuple{report.ChildEnd()},
                      {.name = "worker-α"});
  EXPECT_EQ(p.name(), "worker-α");
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "worker-α");
}

// Assigned before start(), the new name is what the child sees; assigned after
// start(), it changes only the parent's object.
CONFORMANCE_TEST(Name, AssignedBeforeStartReachesTheChildAfterDoesNot,
                 "process.name.settable") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(NameReportWhenReleased,
                      std::tuple{handshake.ChildSide(), report.ChildEnd()},
                      {.name = "first"});
  p.set_name("second");
  EXPECT_EQ(p.name(), "second");
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK(handshake.WaitReady());
  p.set_name("third");
  EXPECT_EQ(p.name(), "third");
  EXPECT_NE(p.repr().find("name='third'"), std::string::npos) << p.repr();
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "second");
}

// A default name can be replaced, and a name can be assigned at any time,
// before, during and after the child's life, and after close().
CONFORMANCE_TEST(Name, AssignableAtAnyTime, "process.name.settable") {
  procspec::Process p;
  p.set_name("renamed");
  EXPECT_EQ(p.name(), "renamed");
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  p.set_name("after-join");
  EXPECT_EQ(p.name(), "after-join");
  ASSERT_OK(p.close());
  p.set_name("after-close");
  EXPECT_EQ(p.name(), "after-close");
}

// p.name = '' stores the empty string (only the constructor turns a false name
// into the default).
CONFORMANCE_TEST(Name, AssigningEmptyStoresEmpty, "process.name.settable") {
  procspec::Process p({.name = "given"});
  p.set_name("");
  EXPECT_EQ(p.name(), "");
  EXPECT_NE(p.repr().find("name=''"), std::string::npos) << p.repr();
}

// A child can rename itself: current_process().name changes in the child only.
CONFORMANCE_TEST(Name, ChildRenamesItself, "process.name.settable") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(NameRenameSelf, std::tuple{report.ChildEnd()},
                      {.name = "given"});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "self-named");
  EXPECT_EQ(p.name(), "given");
}

CONFORMANCE_CHILD_ENTRY(construction_renamed_failure) {
  procspec::Process p(NameThrow, {.name = "first"});
  p.set_name("second");
  if (!p.start().ok()) return 100;
  p.set_name("third");
  absl::StatusOr<int> exitcode = conformance::testing::JoinAndGetExitcode(p);
  std::printf("exitcode=%d\n", exitcode.ok() ? *exitcode : -1000);
  return 0;
}

// The child's error header "Process <name>:" uses the name p had at start(),
// not one assigned afterwards.
CONFORMANCE_TEST(Name, ErrorHeaderUsesTheNameAtStart, "process.name.settable") {
  ASSERT_OK_AND_ASSIGN(procspec::platform::testing::CommandResult result,
                       RunChildEntry("construction_renamed_failure"));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_EQ(result.err, "Process second:\nruntime_error: boom\n");
}

}  // namespace
}  // namespace conformance
