// Process.run(): calls the target, does nothing without one, runs in the
// caller when called directly, and is what a subclass overrides.
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/lifecycle/lifecycle_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/value.h"

namespace conformance::lifecycle {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;
using ::procspec::platform::MakePipe;
using ::procspec::platform::NativeHandle;
using ::procspec::platform::PipeEnds;

// Writes `text` to `handle` or ends the child with exit code 4.
void WriteOrExit(NativeHandle handle, const std::string& text) {
  if (!procspec::platform::WriteAll(handle, text).ok()) procspec::Exit(4);
}

void RunWriteNameAndNumber(InheritedHandle out, std::string name, int number) {
  WriteOrExit(out.get(), absl::StrCat(name, ":", number));
}
PROCSPEC_TARGET(RunWriteNameAndNumber);

void RunWriteKwargs(InheritedHandle out, std::string who,
                    const procspec::Kwargs& kwargs) {
  auto name = kwargs.find("name");
  auto age = kwargs.find("age");
  if (name == kwargs.end() || age == kwargs.end()) procspec::Exit(3);
  WriteOrExit(out.get(), absl::StrCat(who, " ", name->second.repr(), " ",
                                      age->second.repr()));
}
PROCSPEC_TARGET(RunWriteKwargs);

int RunReturnFortyTwo() { return 42; }
PROCSPEC_TARGET(RunReturnFortyTwo);

// What direct calls of the targets below did, in the process that made them.
int g_run_calls = 0;
procspec::Pid g_run_ran_in = 0;

void RunCountCall() {
  ++g_run_calls;
  g_run_ran_in = procspec::platform::CurrentPid();
}
PROCSPEC_TARGET(RunCountCall);

void RunAddToCalls(int step) { g_run_calls += step; }
PROCSPEC_TARGET(RunAddToCalls);

void RunThrow() { throw std::runtime_error("boom"); }
PROCSPEC_TARGET(RunThrow);

void RunWriteTarget(InheritedHandle out, int n) {
  WriteOrExit(out.get(), "target " + std::to_string(n));
}
PROCSPEC_TARGET(RunWriteTarget);

// The child calls target(*args): the target receives the positional
// arguments, and the child exits 0.
CONFORMANCE_TEST(Run, CallsTheTargetWithItsArgsInTheChild,
                 "process.run.calls_target") {
  ASSERT_OK_AND_ASSIGN(PipeEnds pipe, MakePipe());
  procspec::Process p(
      RunWriteNameAndNumber,
      std::tuple{InheritedHandle(pipe.write.get()), std::string("p1"), 7});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string received, ReadToEnd(pipe.read.get()));
  EXPECT_EQ(received, "p1:7");
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// The child calls target(*args, **kwargs): keyword arguments reach a target
// that takes them.
CONFORMANCE_TEST(Run, CallsTheTargetWithItsKwargsInTheChild,
                 "process.run.calls_target") {
  ASSERT_OK_AND_ASSIGN(PipeEnds pipe, MakePipe());
  procspec::Process p(
      RunWriteKwargs,
      std::tuple{InheritedHandle(pipe.write.get()), std::string("egon")},
      {.kwargs = {{"name", "race"}, {"age", 23}}});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string received, ReadToEnd(pipe.read.get()));
  EXPECT_EQ(received, "egon 'race' 23");
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// The target's return value is discarded: returning 42 still exits 0.
CONFORMANCE_TEST(Run, DiscardsTheTargetsReturnValue, "process.run.calls_target",
                 "process.exitcode.return_zero") {
  procspec::Process p(RunReturnFortyTwo);
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// Process() without a target starts a child that does nothing and exits 0.
CONFORMANCE_TEST(Run, WithoutATargetTheChildExitsZero,
                 "process.run.no_target_exit_zero") {
  procspec::Process p;
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// The same with keyword arguments but still no target.
CONFORMANCE_TEST(Run, WithOptionsButNoTargetTheChildExitsZero,
                 "process.run.no_target_exit_zero") {
  procspec::Process p({.name = "idle"});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// p.run() called directly runs the target synchronously in the caller's own
// process, creates no child, and leaves p startable.
CONFORMANCE_TEST(Run, DirectCallRunsTheTargetInTheCaller,
                 "process.run.direct_call_in_caller") {
  g_run_calls = 0;
  g_run_ran_in = 0;
  procspec::Process p(RunCountCall);
  KillOnExit reap(p);
  p.run();
  EXPECT_EQ(g_run_calls, 1);
  EXPECT_EQ(g_run_ran_in, procspec::platform::CurrentPid());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  EXPECT_EQ(pid, std::nullopt) << "run() created a child";
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  EXPECT_FALSE(alive);
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  EXPECT_EQ(exitcode, std::nullopt);
  EXPECT_TRUE(absl::StrContains(p.repr(), " initial")) << p.repr();
  // Still 'initial': start() works, and the child's calls do not reach ours.
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int child_exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(child_exitcode, 0);
  EXPECT_EQ(g_run_calls, 1);
}

// Each direct call runs the target again.
CONFORMANCE_TEST(Run, DirectCallCanBeRepeated,
                 "process.run.direct_call_in_caller") {
  g_run_calls = 0;
  procspec::Process p(RunAddToCalls, std::tuple{10});
  p.run();
  p.run();
  EXPECT_EQ(g_run_calls, 20);
}

// An exception from a directly called run() reaches the caller, as a Python
// exception raised by p.run() does.
CONFORMANCE_TEST(Run, DirectCallPropagatesTheTargetsException,
                 "process.run.direct_call_in_caller") {
  procspec::Process p(RunThrow);
  EXPECT_THROW(p.run(), std::runtime_error);
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  EXPECT_EQ(pid, std::nullopt);
}

// A subclass overriding run(): after start() the override runs in the child,
// on the child's copy of the object, which sees members set before start().
class Worker : public procspec::Process {
 public:
  Worker() = default;
  explicit Worker(NativeHandle report) : report_(report) {}

  std::string label;
  bool ran = false;

  void run() override {
    ran = true;
    absl::StatusOr<std::optional<procspec::Pid>> pid =
        procspec::current_process().pid();
    if (!pid.ok() || !pid->has_value()) procspec::Exit(3);
    WriteOrExit(report_.get(), absl::StrCat(label, " ", **pid));
  }

  // What the spawn and forkserver start methods send: the members set
  // before start(), not `ran`.
  template <class Archive>
  void serialize(Archive& archive) {
    archive(label, report_);
  }

 private:
  InheritedHandle report_;
};
PROCSPEC_PROCESS_CLASS(Worker);

CONFORMANCE_TEST(Run, SubclassOverrideRunsInTheChildWithItsMembers,
                 "process.run.subclass_override",
                 "process.start.calls_run_in_child") {
  ASSERT_OK_AND_ASSIGN(PipeEnds pipe, MakePipe());
  Worker worker(pipe.write.get());
  KillOnExit reap(worker);
  worker.label = "set before start";
  ASSERT_OK(worker.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string received, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(worker));
  EXPECT_EQ(exitcode, 0);
  EXPECT_FALSE(worker.ran) << "the override ran in the parent";
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, worker.pid());
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(received, absl::StrCat("set before start ", *pid));
  EXPECT_NE(*pid, procspec::platform::CurrentPid());
}

// The override decides the child's fate: its procspec::Exit(6) is the
// exitcode.
class ExitingWorker : public procspec::Process {
 public:
  void run() override { procspec::Exit(6); }
  template <class Archive>
  void serialize(Archive&) {}
};
PROCSPEC_PROCESS_CLASS(ExitingWorker);

CONFORMANCE_TEST(Run, SubclassOverrideDeterminesTheExitcode,
                 "process.run.subclass_override") {
  ExitingWorker worker;
  KillOnExit reap(worker);
  ASSERT_OK(worker.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(worker));
  EXPECT_EQ(exitcode, 6);
}

// Overriding is optional: a subclass without an override inherits the base
// run(), which calls the target.
class PlainSubclass : public procspec::Process {
 public:
  using procspec::Process::Process;
  template <class Archive>
  void serialize(Archive&) {}
};
PROCSPEC_PROCESS_CLASS(PlainSubclass);

CONFORMANCE_TEST(Run, SubclassWithoutOverrideCallsTheTarget,
                 "process.run.subclass_override", "process.run.calls_target") {
  ASSERT_OK_AND_ASSIGN(PipeEnds pipe, MakePipe());
  PlainSubclass p(RunWriteTarget,
                  std::tuple{InheritedHandle(pipe.write.get()), 5});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string received, ReadToEnd(pipe.read.get()));
  EXPECT_EQ(received, "target 5");
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// Called directly, an override runs in the caller too.
CONFORMANCE_TEST(Run, DirectCallOfAnOverrideRunsInTheCaller,
                 "process.run.direct_call_in_caller",
                 "process.run.subclass_override") {
  ASSERT_OK_AND_ASSIGN(PipeEnds pipe, MakePipe());
  Worker worker(pipe.write.get());
  worker.label = "direct";
  worker.run();
  pipe.write.reset();
  EXPECT_TRUE(worker.ran);
  ASSERT_OK_AND_ASSIGN(std::string received, ReadToEnd(pipe.read.get()));
  EXPECT_EQ(received,
            absl::StrCat("direct ", procspec::platform::CurrentPid()));
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, worker.pid());
  EXPECT_EQ(pid, std::nullopt);
}

}  // namespace
}  // namespace conformance::lifecycle
