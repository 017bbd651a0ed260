// Processes are separate: own memory, own pid, scheduled independently.
//
// The seed:
// 与线程不同，进程没有任何共享状态，进程需改的数据，改动仅限于该进程内;
// python中的多线程无法利用多核优势 ... 需要使用多进程 (os.cpu_count()查看).
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/functions/functions_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::module_functions {
namespace {

using ::conformance::testing::KillOnExit;
namespace platform = ::procspec::platform;
using ::conformance::module_testing::ReportPipe;
using ::conformance::module_testing::ReportWriter;
using ::conformance::testing::JoinAndGetExitcode;

// Ordinary memory the tests modify: a global and a heap object (held by a
// global pointer, so that a child can reach it without capturing it).
int g_value = 0;
std::unique_ptr<std::string> g_heap;

// Sets both back to their initial values when the test ends.
class ResetState {
 public:
  ResetState() = default;
  ResetState(const ResetState&) = delete;
  ResetState& operator=(const ResetState&) = delete;
  ~ResetState() {
    g_value = 0;
    g_heap.reset();
  }
};

// Whether a child starts from the parent's memory as of start(): fork only.
// A spawned child is a fresh run of the program, and a forkserver child a
// fork of the server, whose memory is the program's as of procspec::Init
// (before any test ran): both see the globals' initial values (CPython: a
// spawned or forkserver child re-imports the main module).
bool ChildInheritsParentMemory() { return StartMethod() == "fork"; }

// Checks that it sees the parent's values (`inherited`) or the initial ones
// (exit 10 otherwise), writes its own and checks it sees them (exit 11).
void ModuleWriteState(bool inherited) {
  const bool seen =
      inherited ? g_value == 7 && g_heap != nullptr && *g_heap == "parent"
                : g_value == 0 && g_heap == nullptr;
  if (!seen) procspec::Exit(10);
  g_value = 99;
  if (g_heap == nullptr) g_heap = std::make_unique<std::string>();
  *g_heap = "child";
  // The child's own changes are visible to itself.
  if (g_value != 99 || *g_heap != "child") procspec::Exit(11);
}
PROCSPEC_TARGET(ModuleWriteState);

// A child's writes to a global and to a heap object stay in the child: it
// sees its own writes, the parent keeps the old values after join(). Under
// fork the child first sees the parent's values; under spawn and forkserver
// the initial ones.
CONFORMANCE_TEST(State, ChildWritesStayInTheChild, "module.state.not_shared") {
  ResetState reset;
  g_value = 7;
  g_heap = std::make_unique<std::string>("parent");
  procspec::Process p(ModuleWriteState,
                      std::tuple{ChildInheritsParentMemory()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0) << "10: the child did not see the "
                     << (ChildInheritsParentMemory() ? "parent's" : "initial")
                     << " values; 11: it did not see its own writes";
  EXPECT_EQ(g_value, 7);
  ASSERT_NE(g_heap, nullptr);
  EXPECT_EQ(*g_heap, "parent");
}

// Once released, exits with the global's value if the heap object reads
// "before start" (200 if it reads anything else), or 100 + the global's value
// if there is no heap object.
void ModuleReadStateAfterRelease(HandshakeChild handshake) {
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
  // Reads only after the parent has changed both values.
  if (g_heap == nullptr) procspec::Exit(100 + g_value);
  procspec::Exit(*g_heap == "before start" ? g_value : 200);
}
PROCSPEC_TARGET(ModuleReadStateAfterRelease);

// The child gets the parent's memory as of start() under fork (the initial
// values under spawn and forkserver): changes the parent makes afterwards do
// not reach it.
CONFORMANCE_TEST(State, ParentWritesAfterStartDoNotReachTheChild,
                 "module.state.not_shared") {
  ResetState reset;
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  g_value = 7;
  g_heap = std::make_unique<std::string>("before start");
  procspec::Process p(ModuleReadStateAfterRelease,
                      std::tuple{handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  g_value = 42;
  *g_heap = "after start";
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, ChildInheritsParentMemory() ? 7 : 100)
      << "42: the child saw the parent's later write to a global; 200: to a "
         "heap object; 142: a spawned child saw the later global";
}

// Signals the handshake (exit 10 on failure) and waits for the release (11).
void ModuleArriveAndWait(HandshakeChild handshake) {
  if (!handshake.SignalReady().ok()) procspec::Exit(10);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(11);
}
PROCSPEC_TARGET(ModuleArriveAndWait);

// Sends a byte on `out` (exit 10 on failure), then waits for one on `in` (11).
void ModuleMeet(procspec::InheritedHandle out, procspec::InheritedHandle in) {
  if (!platform::WriteAll(out.get(), "x").ok()) procspec::Exit(10);
  absl::StatusOr<std::string> byte = platform::ReadExactly(in.get(), 1);
  if (!byte.ok() || *byte != "x") procspec::Exit(11);
}
PROCSPEC_TARGET(ModuleMeet);

void ModuleExitCpuCount() { procspec::Exit(procspec::cpu_count() & 0xff); }
PROCSPEC_TARGET(ModuleExitCpuCount);

void ModuleSendGetpid(ReportWriter report) {
  (void)report.Send(std::to_string(platform::CurrentPid()));
}
PROCSPEC_TARGET(ModuleSendGetpid);

void ModuleSendParentPid(ReportWriter report) {
  procspec::ParentProcess* parent = procspec::parent_process();
  (void)report.Send(parent == nullptr ? "none" : std::to_string(parent->pid()));
}
PROCSPEC_TARGET(ModuleSendParentPid);

// Two children both signal "arrived" and block; the parent sees both arrivals
// before releasing either, so they exist and run at the same time.
CONFORMANCE_TEST(Parallel, BothChildrenArriveBeforeEitherIsReleased,
                 "module.parallel.multiple_cores") {
  ASSERT_OK_AND_ASSIGN(Handshake first_handshake, Handshake::Create());
  ASSERT_OK_AND_ASSIGN(Handshake second_handshake, Handshake::Create());
  procspec::Process first(ModuleArriveAndWait,
                          std::tuple{first_handshake.ChildSide()});
  procspec::Process second(ModuleArriveAndWait,
                           std::tuple{second_handshake.ChildSide()});
  KillOnExit first_reaper(first);
  KillOnExit second_reaper(second);
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
  procspec::Process first(
      ModuleMeet, std::tuple{procspec::InheritedHandle(to_second.write.get()),
                             procspec::InheritedHandle(to_first.read.get())});
  procspec::Process second(
      ModuleMeet, std::tuple{procspec::InheritedHandle(to_first.write.get()),
                             procspec::InheritedHandle(to_second.read.get())});
  KillOnExit first_reaper(first);
  KillOnExit second_reaper(second);
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
  procspec::Process p(ModuleExitCpuCount);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, count & 0xff);
}

// The target runs in a new process: its getpid() is p.pid, differs from the
// parent's and from a sibling's.
CONFORMANCE_TEST(Subprocess, TargetRunsInANewProcessWithItsOwnPid,
                 "module.subprocess.separate_process") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process first(ModuleSendGetpid, std::tuple{report.Writer()});
  procspec::Process second(ModuleSendGetpid, std::tuple{report.Writer()});
  KillOnExit first_reaper(first);
  KillOnExit second_reaper(second);
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
// (os.getppid() in the target is the creator's pid); under forkserver, as a
// child of the fork server, itself a child of the creating process.
CONFORMANCE_TEST(Subprocess, ChildsParentIsTheCreatingProcess,
                 "module.subprocess.separate_process") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ModuleHold, std::tuple{handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK_AND_ASSIGN(platform::Pid parent, platform::testing::ParentOf(*pid));
  if (StartMethod() == "forkserver") {
    // The fork server forked it: its OS parent is the server (CPython: the
    // child's os.getppid() is the server's pid), a child of this process.
    EXPECT_NE(parent, platform::CurrentPid());
    ASSERT_OK_AND_ASSIGN(platform::Pid grandparent,
                         platform::testing::ParentOf(parent));
    EXPECT_EQ(grandparent, platform::CurrentPid());
  } else {
    EXPECT_EQ(parent, platform::CurrentPid());
  }
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// In the child, parent_process() names the creating process's pid (CPython's
// os.getppid() at start), not the child's own.
CONFORMANCE_TEST(Subprocess, ChildSeesTheCreatorAsItsParent,
                 "module.subprocess.separate_process") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ModuleSendParentPid, std::tuple{report.Writer()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  report.CloseWriteEnd();
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> lines, report.ReadLines());
  EXPECT_EQ(lines,
            std::vector<std::string>{std::to_string(platform::CurrentPid())});
}

}  // namespace
}  // namespace conformance::module_functions
