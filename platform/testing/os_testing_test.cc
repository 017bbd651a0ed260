// os_testing against this process and a few children.
#include "platform/testing/os_testing.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/status_matchers.h"

namespace procspec::platform::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(OsTestingTest, ProcSeesThisProcessUnderItsOwnPid) {
  EXPECT_EQ(StateOf(CurrentPid()), ProcessState::kRunning);
  absl::StatusOr<Pid> parent = ParentOf(CurrentPid());
  ASSERT_OK(parent);
  EXPECT_EQ(*parent, getppid());
}

TEST(OsTestingTest, OpenDescriptorsAndDescriptions) {
  absl::StatusOr<std::vector<NativeHandle>> before = OpenDescriptors();
  ASSERT_OK(before);
  EXPECT_TRUE(std::is_sorted(before->begin(), before->end()));
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  absl::StatusOr<std::vector<NativeHandle>> during = OpenDescriptors();
  ASSERT_OK(during);
  EXPECT_EQ(during->size(), before->size() + 2);
  EXPECT_THAT(*during, Contains(pipe->read.get()));
  EXPECT_THAT(DescribeDescriptor(pipe->read.get()), HasSubstr("pipe:["));
  EXPECT_EQ(DescribeDescriptor(pipe->read.get()),
            DescribeDescriptor(pipe->write.get()));
  EXPECT_TRUE(IsOpen(pipe->read.get()));
  EXPECT_TRUE(IsCloseOnExec(pipe->read.get()).value_or(false));
  const NativeHandle closed = pipe->read.get();
  pipe->read.reset();
  EXPECT_FALSE(IsOpen(closed));
  EXPECT_EQ(DescribeDescriptor(closed), "");
  EXPECT_FALSE(IsCloseOnExec(closed).ok());
  pipe->write.reset();
  EXPECT_EQ(OpenDescriptors().value(), *before);
}

TEST(OsTestingTest, PidfdDescriptionNamesItsProcess) {
  absl::StatusOr<Backend*> linux_backend = GetBackend("linux");
  if (!linux_backend.ok()) GTEST_SKIP() << "no linux backend";
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      (*linux_backend)->Fork({}, [](ChildContext&) { return 0; });
  ASSERT_OK(child);
  EXPECT_EQ(DescribeDescriptor((*child)->sentinel()),
            "anon_inode:[pidfd] pid " + std::to_string((*child)->pid()));
  EXPECT_TRUE((*child)->Wait(absl::InfiniteFuture()).ok());
}

TEST(OsTestingTest, ChildrenZombiesAndReaping) {
  EXPECT_THAT(ListChildren().value(), IsEmpty());
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      CurrentBackend().Fork({}, [](ChildContext&) { return 4; });
  ASSERT_OK(child);
  const Pid pid = (*child)->pid();
  EXPECT_EQ(ParentOf(pid).value_or(0), CurrentPid());
  // The sentinel fires at exit; the child then stays a zombie until reaped.
  const NativeHandle handles[] = {(*child)->sentinel()};
  ASSERT_EQ(WaitReadable(handles, absl::InfiniteFuture()).value().size(), 1u);
  absl::StatusOr<std::vector<ChildInfo>> children = ListChildren();
  ASSERT_OK(children);
  ASSERT_EQ(children->size(), 1u);
  EXPECT_EQ((*children)[0].pid, pid);
  EXPECT_FALSE((*children)[0].command.empty());
  // Reaping with ReapPid behind the ChildProcess's back is what tests do for
  // orphans only; here it shows the zombie state goes away.
  absl::StatusOr<ExitStatus> status = ReapPid(pid);
  ASSERT_OK(status);
  EXPECT_EQ(*status, (ExitStatus{.signaled = false, .value = 4}));
  EXPECT_EQ(StateOf(pid), ProcessState::kGone);
  EXPECT_THAT(ListChildren().value(), IsEmpty());
  EXPECT_EQ(ParentOf(pid).status().code(), absl::StatusCode::kNotFound);
}

TEST(OsTestingTest, ProcessStateNames) {
  EXPECT_EQ(ProcessStateName(ProcessState::kRunning), "running");
  EXPECT_EQ(ProcessStateName(ProcessState::kZombie), "zombie");
  EXPECT_EQ(ProcessStateName(ProcessState::kGone), "gone");
}

TEST(OsTestingTest, SignalNumbers) {
  EXPECT_EQ(SegvSignalNumber(), SIGSEGV);
  EXPECT_EQ(AbortSignalNumber(), SIGABRT);
  EXPECT_EQ(KillSignalNumber(), SIGKILL);
}

TEST(OsTestingTest, CurrentExecutableIsThisTest) {
  absl::StatusOr<std::string> path = CurrentExecutable();
  ASSERT_OK(path);
  EXPECT_THAT(*path, HasSubstr("os_testing_test"));
}

TEST(OsTestingTest, RunCommandCapturesBothStreamsAndStatus) {
  absl::StatusOr<CommandResult> result = RunCommand(
      {"sh", "-c",
       "echo out; echo err >&2; read line; echo \"[$line]\"; exit 3"});
  ASSERT_OK(result);
  EXPECT_EQ(result->out, "out\n[]\n");  // Stdin is the null device.
  EXPECT_EQ(result->err, "err\n");
  EXPECT_EQ(result->status, (ExitStatus{.signaled = false, .value = 3}));
}

TEST(OsTestingTest, RunCommandReportsDeathBySignal) {
  absl::StatusOr<CommandResult> result =
      RunCommand({"sh", "-c", "kill -TERM $$"});
  ASSERT_OK(result);
  EXPECT_EQ(result->status, (ExitStatus{.signaled = true, .value = SIGTERM}));
}

TEST(OsTestingTest, RunCommandKillsAtTheDeadline) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(100);
  // exec, so that the killed process is the one holding the pipes.
  absl::StatusOr<CommandResult> result =
      RunCommand({"sh", "-c", "exec sleep 60"}, deadline);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded)
      << result.status();
  EXPECT_GE(absl::Now(), deadline);
  EXPECT_THAT(ListChildren().value(), IsEmpty());
}

TEST(OsTestingTest, RunCommandNotFound) {
  EXPECT_EQ(RunCommand({"/no/such/program"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(OsTestingTest, Environment) {
  SetEnv("PROCSPEC_OS_TESTING_TEST", "value");
  EXPECT_EQ(GetEnv("PROCSPEC_OS_TESTING_TEST"), "value");
  EXPECT_EQ(GetEnv("PROCSPEC_OS_TESTING_TEST_UNSET"), std::nullopt);
}

TEST(OsTestingTest, DieBySignalEndsTheProcessThatWay) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      CurrentBackend().Fork({}, [](ChildContext&) {
        // Even with the signal ignored and blocked, as a test might have left
        // it.
        signal(SIGTERM, SIG_IGN);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        DieBySignal(SIGTERM);
        return 0;
      });
  ASSERT_OK(child);
  absl::StatusOr<std::optional<ExitStatus>> status =
      (*child)->Wait(absl::InfiniteFuture());
  ASSERT_OK(status);
  EXPECT_EQ(*status, (ExitStatus{.signaled = true, .value = SIGTERM}));
}

TEST(OsTestingTest, IgnoredSignalDoesNotEndTheProcess) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      CurrentBackend().Fork({}, [](ChildContext&) {
        if (!IgnoreSignal(SIGTERM).ok()) return 1;
        return raise(SIGTERM) == 0 ? 5 : 2;
      });
  ASSERT_OK(child);
  absl::StatusOr<std::optional<ExitStatus>> status =
      (*child)->Wait(absl::InfiniteFuture());
  ASSERT_OK(status);
  EXPECT_EQ(*status, (ExitStatus{.signaled = false, .value = 5}));
}

TEST(OsTestingTest, AwaitExitWithoutReapingLeavesAZombie) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      CurrentBackend().Fork({}, [](ChildContext&) { return 3; });
  ASSERT_OK(child);
  ASSERT_TRUE(AwaitExitWithoutReaping((*child)->pid()).ok());
  EXPECT_EQ(StateOf((*child)->pid()), ProcessState::kZombie);
  absl::StatusOr<std::optional<ExitStatus>> status =
      (*child)->Wait(absl::InfiniteFuture());
  ASSERT_OK(status);
  EXPECT_EQ(*status, (ExitStatus{.signaled = false, .value = 3}));
}

TEST(OsTestingTest, DenySignalSendingMakesEverySignalCallFail) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      CurrentBackend().Fork({}, [](ChildContext&) {
        absl::Status denied = DenySignalSending();
        if (absl::IsUnimplemented(denied)) return 77;
        if (!denied.ok()) return 1;
        if (kill(getpid(), 0) == 0 || errno != EPERM) return 2;
        // Had raise() sent it, SIGTERM would end this process with -15.
        if (raise(SIGTERM) == 0) return 3;
        return SignalPid(getppid(), 0).ok() ? 4 : 0;
      });
  ASSERT_OK(child);
  absl::StatusOr<std::optional<ExitStatus>> status =
      (*child)->Wait(absl::InfiniteFuture());
  ASSERT_OK(status);
  if (**status == ExitStatus{.signaled = false, .value = 77})
    GTEST_SKIP() << "no seccomp";
  EXPECT_EQ(*status, (ExitStatus{.signaled = false, .value = 0}));
}

TEST(OsTestingTest, SubreaperAdoptsOrphansWhichCanBeReaped) {
  absl::Status subreaper = BecomeChildSubreaper();
  if (absl::IsUnimplemented(subreaper)) GTEST_SKIP() << subreaper;
  ASSERT_OK(subreaper);
  absl::StatusOr<PipeEnds> report = MakePipe();
  ASSERT_OK(report);
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      CurrentBackend().Fork({}, [&](ChildContext&) {
        report->read.reset();
        absl::StatusOr<std::unique_ptr<ChildProcess>> grandchild =
            CurrentBackend().Fork({}, [&](ChildContext& context) {
              // Exits once its parent has gone, i.e. once it is an orphan.
              const NativeHandle handles[] = {context.parent->sentinel()};
              (void)WaitReadable(handles, absl::InfiniteFuture());
              return 6;
            });
        if (!grandchild.ok()) return 1;
        const std::string pid = std::to_string((*grandchild)->pid());
        (void)WriteAll(report->write.get(), pid + "\n");
        return 0;  // Leaves the grandchild behind, running.
      });
  ASSERT_OK(child);
  report->write.reset();
  absl::StatusOr<std::string> line = ReadSome(report->read.get(), 64);
  ASSERT_OK(line);
  const Pid grandchild = std::stoll(*line);
  EXPECT_TRUE((*child)->Wait(absl::InfiniteFuture()).ok());
  absl::StatusOr<ExitStatus> status = ReapPid(grandchild);
  ASSERT_OK(status);
  EXPECT_EQ(*status, (ExitStatus{.signaled = false, .value = 6}));
  ASSERT_TRUE(SignalPid(CurrentPid(), 0).ok());
  EXPECT_FALSE(SignalPid(grandchild, 0).ok());
}

}  // namespace
}  // namespace procspec::platform::testing
