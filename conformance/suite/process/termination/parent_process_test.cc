// parent_process(): None in the main process; in a child, the creating
// process's name and pid, alive while it runs and dead once it has been
// SIGKILLed. Targets are registered functions, so the tests run under every
// start method (CPython carries the parent's name and pid in the bootstrap
// under spawn and forkserver, so they are the creating process's under every
// method).
#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/subreaper.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/orphan_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::OrphanGuard;
using ::conformance::testing::PidOf;
using ::conformance::testing::ReadLine;
using ::conformance::testing::ReadToEnd;
using ::conformance::testing::SendLine;
using ::procspec::InheritedHandle;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

std::string Flag(bool value) { return value ? "True" : "False"; }

// "name=<name> pid=<pid> ident=<ident>" for the calling process's
// parent_process(), or "None".
std::string DescribeParent() {
  procspec::ParentProcess* parent = procspec::parent_process();
  if (parent == nullptr) return "None";
  return absl::StrCat("name=", parent->name(), " pid=", parent->pid(),
                      " ident=", parent->ident());
}

// Whether `handle` is readable right now (without waiting).
bool ReadableNow(procspec::Handle handle) {
  const platform::NativeHandle handles[] = {handle};
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(handles, absl::InfinitePast());
  return ready.ok() && !ready->empty();
}

// ---- Targets ----

void ParentNoop() {}
PROCSPEC_TARGET(ParentNoop);

// Sends DescribeParent().
void ParentReportParent(InheritedHandle out) {
  SendLine(out.get(), DescribeParent());
}
PROCSPEC_TARGET(ParentReportParent);

// Sends its own name, then runs a grandchild that sends DescribeParent().
void ParentReportNameAndRunGrandchild(InheritedHandle out) {
  SendLine(out.get(), procspec::current_process().name());
  procspec::Process grandchild(ParentReportParent, std::tuple{out});
  if (!grandchild.start().ok()) procspec::Exit(1);
  if (!grandchild.join().ok()) procspec::Exit(2);
}
PROCSPEC_TARGET(ParentReportNameAndRunGrandchild);

// Sends whether parent_process() is alive, whether its sentinel is ready, and
// whether it is alive after a timed join().
void ParentReportAliveness(InheritedHandle out) {
  procspec::ParentProcess* parent = procspec::parent_process();
  if (parent == nullptr) procspec::Exit(1);
  const bool alive = parent->is_alive();
  const bool sentinel_ready = ReadableNow(parent->sentinel());
  parent->join(0.05);
  SendLine(out.get(),
           absl::StrCat("alive=", Flag(alive),
                        " sentinel_ready=", Flag(sentinel_ready),
                        " alive_after_join=", Flag(parent->is_alive())));
}
PROCSPEC_TARGET(ParentReportAliveness);

// Sends "<pid> <parent_process().is_alive()>", waits for the parent's end with
// parent_process().join(), then sends what is_alive() and the sentinel say.
void ParentWatchParentDie(InheritedHandle report) {
  procspec::ParentProcess* parent = procspec::parent_process();
  if (parent == nullptr) procspec::Exit(1);
  SendLine(report.get(),
           absl::StrCat(platform::CurrentPid(), " ", Flag(parent->is_alive())));
  parent->join();
  SendLine(report.get(),
           absl::StrCat("alive=", Flag(parent->is_alive()), " sentinel_ready=",
                        Flag(ReadableNow(parent->sentinel()))));
}
PROCSPEC_TARGET(ParentWatchParentDie);

// Starts ParentWatchParentDie (daemonic), then blocks until killed.
void ParentStartWatcherThenBlock(InheritedHandle report) {
  procspec::Process grandchild(ParentWatchParentDie, std::tuple{report},
                               {.daemon = true});
  if (!grandchild.start().ok()) procspec::Exit(1);
  BlockUntilKilled();
}
PROCSPEC_TARGET(ParentStartWatcherThenBlock);

// parent_process() is None (nullptr) in the main process, also after it has
// started and joined a child.
CONFORMANCE_TEST(ParentProcess, IsNoneInTheMainProcess,
                 "module.parent_process.main_none") {
  EXPECT_EQ(procspec::parent_process(), nullptr);
  procspec::Process child(ParentNoop);
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  ASSERT_OK(child.join());
  EXPECT_EQ(procspec::parent_process(), nullptr);
}

// In a child of the main process, parent_process() is named "MainProcess" and
// its pid (and ident) is the main process's pid.
CONFORMANCE_TEST(ParentProcess, InAChildIsTheMainProcess,
                 "module.parent_process.in_child") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process child(ParentReportParent,
                          std::tuple{InheritedHandle(report.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 0);
  const Pid self = platform::CurrentPid();
  ASSERT_OK_AND_ASSIGN(std::string line, ReadToEnd(report.read.get()));
  EXPECT_EQ(line,
            absl::StrCat("name=MainProcess pid=", self, " ident=", self, "\n"));
}

// In a grandchild, parent_process() is the child that created it: its name as
// that child's current_process() has it (a default "Process-N" or a given
// name), and its pid.
CONFORMANCE_TEST(ParentProcess, InAGrandchildIsTheCreatingChild,
                 "module.parent_process.in_child") {
  for (const std::string& name : {std::string(), std::string("outer")}) {
    SCOPED_TRACE(name.empty() ? "default name" : "name=" + name);
    ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
    procspec::Process child(ParentReportNameAndRunGrandchild,
                            std::tuple{InheritedHandle(report.write.get())},
                            {.name = name});
    KillOnExit guard(child);
    ASSERT_OK(child.start());
    report.write.reset();
    ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
    EXPECT_EQ(exitcode, 0);
    ASSERT_OK_AND_ASSIGN(std::string lines, ReadToEnd(report.read.get()));
    const Pid pid = PidOf(child);
    EXPECT_EQ(lines, absl::StrCat(child.name(), "\n", "name=", child.name(),
                                  " pid=", pid, " ident=", pid, "\n"));
    if (!name.empty()) {
      EXPECT_EQ(child.name(), name);
    }
  }
}

// While the parent runs (here: blocked reading the child's report),
// parent_process().is_alive() is True, its sentinel is not ready, and a timed
// join() on it returns with the parent still alive.
CONFORMANCE_TEST(ParentProcess, IsAliveWhileTheParentRuns,
                 "module.parent_process.alive_while_parent_runs") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  procspec::Process child(ParentReportAliveness,
                          std::tuple{InheritedHandle(report.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string line, ReadLine(report.read.get()));
  EXPECT_EQ(line, "alive=True sentinel_ready=False alive_after_join=True");
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, 0);
}

// When its parent is SIGKILLed, a grandchild still running sees it: its
// parent_process().join() returns, is_alive() becomes False, the sentinel is
// ready, and its parent is now the subreaper (this test), which reaps it.
// UNSUPPORTED under forkserver, where the fork server forks the grandchild and
// stays its parent: this process never sees it re-parented.
CONFORMANCE_TEST(ParentProcess, IsDeadAfterTheParentIsSigkilled,
                 "module.parent_process.dead_after_parent_killed",
                 "process.daemon.survives_sigkilled_parent") {
  if (StartMethod() == "forkserver") {
    CONFORMANCE_REQUIRE(Unsupported(
        "under forkserver the fork server forks the grandchild, so its parent "
        "is the server, not the child that started it: this process is not "
        "its ancestor and never sees it orphaned or re-parented"));
  }
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  OrphanGuard orphan;
  procspec::Process child(ParentStartWatcherThenBlock,
                          std::tuple{InheritedHandle(report.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(child.start());
  report.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string before, ReadLine(report.read.get()));
  const std::size_t space = before.find(' ');
  ASSERT_NE(space, std::string::npos) << before;
  Pid grandchild = 0;
  ASSERT_TRUE(absl::SimpleAtoi(before.substr(0, space), &grandchild)) << before;
  orphan.Watch(grandchild);
  EXPECT_EQ(before.substr(space + 1), "True");

  ASSERT_OK(child.kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -9);
  ASSERT_OK_AND_ASSIGN(std::string after, ReadLine(report.read.get()));
  EXPECT_EQ(after, "alive=False sentinel_ready=True");
  // Re-parenting is checked here, not in the grandchild: a pipe parent-watch
  // ("posix") reports the parent's death when its descriptors close, a moment
  // before the kernel re-parents its children; by the time join() has seen the
  // killed child reapable, they have been re-parented to us (the subreaper).
  EXPECT_EQ(os::ParentOf(grandchild).value_or(0), platform::CurrentPid());
  ASSERT_OK_AND_ASSIGN(platform::ExitStatus status, os::ReapPid(grandchild));
  orphan.Forget();
  EXPECT_EQ(status, (platform::ExitStatus{.signaled = false, .value = 0}));
}

}  // namespace
}  // namespace conformance
