// Processes are separate: own memory, own pid, scheduled independently.
//
// The seed:
// 与线程不同，进程没有任何共享状态，进程需改的数据，改动仅限于该进程内;
// python中的多线程无法利用多核优势 ... 需要使用多进程 (os.cpu_count()查看).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/module_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

namespace platform = ::procspec::platform;
using ::conformance::module_testing::Reaper;
using ::conformance::module_testing::ReportPipe;
using ::conformance::testing::JoinAndGetExitcode;

// Ordinary memory the tests modify: a global and a heap object.
int g_value = 0;

// A child's writes to a global and to a heap object stay in the child: it
// sees its own writes, the parent keeps the old values after join().
CONFORMANCE_TEST(State, ChildWritesStayInTheChild, "module.state.not_shared") {
  g_value = 7;
  auto heap = std::make_unique<std::string>("parent");
  procspec::Process p([&] {
    if (g_value != 7 || *heap != "parent") procspec::Exit(10);
    g_value = 99;
    *heap = "child";
    // The child's own changes are visible to itself.
    if (g_value != 99 || *heap != "child") procspec::Exit(11);
  });
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0) << "10: the child did not see the parent's values; 11: "
                        "it did not see its own writes";
  EXPECT_EQ(g_value, 7);
  EXPECT_EQ(*heap, "parent");
}

// The child gets the parent's memory as of start(): changes the parent makes
// afterwards do not reach it.
CONFORMANCE_TEST(State, ParentWritesAfterStartDoNotReachTheChild,
                 "module.state.not_shared") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  g_value = 7;
  auto heap = std::make_unique<std::string>("before start");
  procspec::Process p([&] {
    (void)handshake.SignalReady();
    (void)handshake.WaitForRelease();
    // Reads only after the parent has changed both values.
    procspec::Exit(*heap == "before start" ? g_value : 200);
  });
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  g_value = 42;
  *heap = "after start";
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 7) << "42: the child saw the parent's later write to a "
                        "global; 200: to a heap object";
}

// Two children both signal "arrived" and block; the parent sees both arrivals
// before releasing either, so they exist and run at the same time.
CONFORMANCE_TEST(Parallel, BothChildrenArriveBeforeEitherIsReleased,
                 "module.parallel.multiple_cores") {
  ASSERT_OK_AND_ASSIGN(Handshake first_handshake, Handshake::Create());
  ASSERT_OK_AND_ASSIGN(Handshake second_handshake, Handshake::Create());
  auto arrive_and_wait = [](Handshake& handshake) {
    if (!handshake.SignalReady().ok()) procspec::Exit(10);
    if (!handshake.WaitForRelease().ok()) procspec::Exit(11);
  };
  procspec::Process first([&] { arrive_and_wait(first_handshake); });
  procspec::Process second([&] { arrive_and_wait(second_handshake); });
  Reaper first_reaper(first);
  Reaper second_reaper(second);
  ASSERT_OK(first.start());
  ASSERT_OK(second.start());
  ASSERT_OK(first_handshake.WaitReady());
  ASSERT_OK(second_handshake.WaitReady());
  // Both are held at the handshake: both are alive at once.
  EXPECT_EQ(first.is_alive().value_or(false), true);
  EXPECT_EQ(second.is_alive().value_or(false), true);
  ASSERT_OK(first_handshake.Release());
  ASSERT_OK(second_handshake.Release());
  ASSERT_OK_AND_ASSIGN(int first_code, JoinAndGetExitcode(first));
  ASSERT_OK_AND_ASSIGN(int second_code, JoinAndGetExitcode(second));
  EXPECT_EQ(first_code, 0);
  EXPECT_EQ(second_code, 0);
}

// A rendezvous between two children: each sends a byte to the other and then
// waits for the other's byte. It completes only if both run concurrently (a
// start() that ran the target to completion would deadlock).
CONFORMANCE_TEST(Parallel, ChildrenRendezvousWithEachOther,
                 "module.parallel.multiple_cores") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds to_second, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds to_first, platform::MakePipe());
  auto meet = [](const platform::PipeEnds& out, const platform::PipeEnds& in) {
    if (!platform::WriteAll(out.write.get(), "x").ok()) procspec::Exit(10);
    absl::StatusOr<std::string> byte = platform::ReadExactly(in.read.get(), 1);
    if (!byte.ok() || *byte != "x") procspec::Exit(11);
  };
  procspec::Process first([&] { meet(to_second, to_first); });
  procspec::Process second([&] { meet(to_first, to_second); });
  Reaper first_reaper(first);
  Reaper second_reaper(second);
  ASSERT_OK(first.start());
  ASSERT_OK(second.start());
  // Bounded: a child stuck in the rendezvous is still running after this.
  const double timeout =
      absl::ToDoubleSeconds(ScaledTimeout(absl::Seconds(30)));
  ASSERT_OK(first.join(timeout));
  ASSERT_OK(second.join(timeout));
  ASSERT_OK_AND_ASSIGN(std::optional<int> first_code, first.exitcode());
  ASSERT_OK_AND_ASSIGN(std::optional<int> second_code, second.exitcode());
  EXPECT_EQ(first_code, std::optional<int>(0));
  EXPECT_EQ(second_code, std::optional<int>(0));
}

// cpu_count() reports at least one CPU, and the same number every time.
CONFORMANCE_TEST(CpuCount, AtLeastOne, "module.cpu_count.positive") {
  const int count = procspec::cpu_count();
  EXPECT_GE(count, 1);
  EXPECT_EQ(procspec::cpu_count(), count);
}

// cpu_count() in a child is the same as in the parent (it counts the
// machine's CPUs, not processes).
CONFORMANCE_TEST(CpuCount, SameInAChild, "module.cpu_count.positive") {
  const int count = procspec::cpu_count();
  procspec::Process p([] { procspec::Exit(procspec::cpu_count() & 0xff); });
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, count & 0xff);
}

// The target runs in a new process: its getpid() is p.pid, differs from the
// parent's and from a sibling's.
CONFORMANCE_TEST(Subprocess, TargetRunsInANewProcessWithItsOwnPid,
                 "module.subprocess.separate_process") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  auto send_pid = [&report] {
    (void)report.Send(std::to_string(platform::CurrentPid()));
  };
  procspec::Process first(send_pid);
  procspec::Process second(send_pid);
  Reaper first_reaper(first);
  Reaper second_reaper(second);
  ASSERT_OK(first.start());
  ASSERT_OK(second.start());
  report.CloseWriteEnd();
  ASSERT_OK_AND_ASSIGN(int first_code, JoinAndGetExitcode(first));
  ASSERT_OK_AND_ASSIGN(int second_code, JoinAndGetExitcode(second));
  EXPECT_EQ(first_code, 0);
  EXPECT_EQ(second_code, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> lines, report.ReadLines());
  std::set<platform::Pid> reported;
  for (const std::string& line : lines) {
    platform::Pid pid = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line, &pid)) << line;
    reported.insert(pid);
  }
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> first_pid, first.pid());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> second_pid, second.pid());
  ASSERT_TRUE(first_pid.has_value());
  ASSERT_TRUE(second_pid.has_value());
  EXPECT_NE(*first_pid, platform::CurrentPid());
  EXPECT_NE(*second_pid, platform::CurrentPid());
  EXPECT_NE(*first_pid, *second_pid);
  // Each target reported its own getpid(), which is its Process's pid.
  EXPECT_EQ(reported, (std::set<platform::Pid>{*first_pid, *second_pid}));
}

// While the target runs, the OS lists it as a child of the creating process
// (os.getppid() in the target is the creator's pid).
CONFORMANCE_TEST(Subprocess, ChildsParentIsTheCreatingProcess,
                 "module.subprocess.separate_process") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p([&] {
    (void)handshake.SignalReady();
    (void)handshake.WaitForRelease();
  });
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK_AND_ASSIGN(platform::Pid parent, platform::testing::ParentOf(*pid));
  EXPECT_EQ(parent, platform::CurrentPid());
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// In the child, parent_process() names the creating process's pid (CPython's
// os.getppid() at start), not the child's own.
CONFORMANCE_TEST(Subprocess, ChildSeesTheCreatorAsItsParent,
                 "module.subprocess.separate_process") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p([&] {
    procspec::ParentProcess* parent = procspec::parent_process();
    (void)report.Send(parent == nullptr ? "none"
                                        : std::to_string(parent->pid()));
  });
  Reaper reaper(p);
  ASSERT_OK(p.start());
  report.CloseWriteEnd();
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> lines, report.ReadLines());
  EXPECT_EQ(lines,
            std::vector<std::string>{std::to_string(platform::CurrentPid())});
}

}  // namespace
}  // namespace conformance
