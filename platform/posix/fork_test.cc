// Backend::Fork and ChildProcess, for every backend. Children report through
// their exit code or a pipe; assertions are made in the parent only. Nothing
// waits by sleeping: children block on pipes until the parent releases or kills
// them.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"

namespace procspec::platform {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

constexpr ExitStatus Exited(int code) {
  return ExitStatus{.signaled = false, .value = code};
}
constexpr ExitStatus Killed(int signal) {
  return ExitStatus{.signaled = true, .value = signal};
}

PipeEnds Pipe() {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  if (!pipe.ok()) {
    ADD_FAILURE() << pipe.status();
    return PipeEnds();
  }
  return *std::move(pipe);
}

// Fixed-size records over a pipe, so the parent can read exactly what a child
// sent.
void Send(NativeHandle handle, std::initializer_list<std::int64_t> values) {
  std::string bytes(values.size() * sizeof(std::int64_t), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  (void)WriteAll(handle, bytes);
}

std::vector<std::int64_t> Receive(NativeHandle handle, std::size_t count) {
  absl::StatusOr<std::string> bytes =
      ReadExactly(handle, count * sizeof(std::int64_t));
  if (!bytes.ok()) return {};
  std::vector<std::int64_t> values(count);
  std::memcpy(values.data(), bytes->data(), bytes->size());
  return values;
}

// A string with its length first.
void SendString(NativeHandle handle, const std::string& text) {
  Send(handle, {static_cast<std::int64_t>(text.size())});
  (void)WriteAll(handle, text);
}

std::string ReceiveString(NativeHandle handle) {
  std::vector<std::int64_t> size = Receive(handle, 1);
  if (size.empty()) return "<nothing received>";
  return ReadExactly(handle, static_cast<std::size_t>(size[0]))
      .value_or("<short read>");
}

// Everything `handle` delivers until end of file.
std::string ReadAll(NativeHandle handle) {
  std::string all;
  while (true) {
    absl::StatusOr<std::string> chunk = ReadSome(handle, 4096);
    if (!chunk.ok() || chunk->empty()) return all;
    all += *chunk;
  }
}

// In a child: blocks until the parent writes to or closes the write end of
// `hold`. The child first closes its own inherited copy of the write end, or it
// would wait for itself.
int BlockUntilReleased(PipeEnds& hold, int code) {
  hold.write.reset();
  (void)ReadSome(hold.read.get(), 1);
  return code;
}

// True once this test binary is a child subreaper (from the first test on):
// then every orphaned grandchild becomes this process's child, and the tests
// reap each one they make.
bool IsSubreaper() {
  static const bool subreaper = testing::BecomeChildSubreaper().ok();
  return subreaper;
}

// A handler that does nothing, installed without SA_RESTART, and a thread that
// keeps sending the signal to the test's thread: its blocking calls see EINTR
// again and again.
class Interrupter {
 public:
  Interrupter() : target_(pthread_self()) {
    struct sigaction action = {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, &previous_);
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        pthread_kill(target_, SIGUSR1);
        std::this_thread::yield();
      }
    });
  }
  ~Interrupter() {
    stop_.store(true);
    thread_.join();
    sigaction(SIGUSR1, &previous_, nullptr);
  }

 private:
  const pthread_t target_;
  struct sigaction previous_ = {};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ForkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    IsSubreaper();
    absl::StatusOr<Backend*> backend = GetBackend(GetParam());
    ASSERT_OK(backend);
    backend_ = *backend;
  }

  // Every test reaps every process it made, grandchildren included.
  void TearDown() override {
    absl::StatusOr<std::vector<testing::ChildInfo>> children =
        testing::ListChildren();
    ASSERT_OK(children);
    for (const testing::ChildInfo& child : *children) {
      ADD_FAILURE() << "child " << child.pid << " (" << child.command
                    << ") left " << testing::ProcessStateName(child.state);
      (void)testing::SignalPid(child.pid, testing::KillSignalNumber());
      (void)testing::ReapPid(child.pid);
    }
  }

  Backend& backend() { return *backend_; }

  std::unique_ptr<ChildProcess> Start(
      absl::FunctionRef<int(ChildContext&)> child_main,
      ForkOptions options = {}) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        backend().Fork(options, child_main);
    if (!child.ok()) {
      ADD_FAILURE() << child.status();
      return nullptr;
    }
    return *std::move(child);
  }

  static std::optional<ExitStatus> WaitForExit(ChildProcess& child) {
    absl::StatusOr<std::optional<ExitStatus>> status =
        child.Wait(absl::InfiniteFuture());
    EXPECT_OK(status);
    return status.ok() ? *status : std::nullopt;
  }

  // After a grandchild's parent has died: the grandchild is ours to reap (we
  // are its subreaper).
  static std::optional<ExitStatus> ReapOrphan(Pid pid) {
    if (!IsSubreaper()) return std::nullopt;
    absl::StatusOr<ExitStatus> status = testing::ReapPid(pid);
    EXPECT_OK(status);
    return status.ok() ? std::optional<ExitStatus>(*status) : std::nullopt;
  }

 private:
  Backend* backend_ = nullptr;
};

TEST_P(ForkTest, ReportsTheExitCodeTruncatedToEightBits) {
  for (const auto& [returned, code] : std::vector<std::pair<int, int>>{
           {0, 0}, {7, 7}, {255, 255}, {256 + 3, 3}, {-1, 255}}) {
    std::unique_ptr<ChildProcess> child =
        Start([&](ChildContext&) { return returned; });
    ASSERT_NE(child, nullptr);
    EXPECT_THAT(WaitForExit(*child), Optional(Exited(code)))
        << "returned " << returned;
  }
}

TEST_P(ForkTest, PidIsTheChildsAndTheContextNamesTheParent) {
  PipeEnds report = Pipe();
  const Pid parent = CurrentPid();
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext& context) {
    Send(report.write.get(),
         {CurrentPid(), context.parent != nullptr ? context.parent->pid() : -1,
          context.parent != nullptr && context.parent->IsAlive()});
    return 0;
  });
  ASSERT_NE(child, nullptr);
  std::vector<std::int64_t> got = Receive(report.read.get(), 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], child->pid());
  EXPECT_NE(child->pid(), parent);
  EXPECT_EQ(got[1], parent);
  EXPECT_EQ(got[2], 1) << "the parent watch said the parent was not alive";
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
}

// CurrentPid() is cached; any fork() (the program's own too, not only the
// backends') must make the child see its own pid.
TEST(CurrentPidTest, IsTheChildsAfterARawForkOfTheProgram) {
  PipeEnds report = Pipe();
  const Pid parent = CurrentPid();  // cached in the parent now
  ASSERT_EQ(parent, getpid());
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Send(report.write.get(), {CurrentPid(), getpid()});
    _exit(0);
  }
  std::vector<std::int64_t> got = Receive(report.read.get(), 2);
  int wait_status = 0;
  ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], got[1]) << "CurrentPid() in the child";
  EXPECT_EQ(got[0], pid);
  EXPECT_EQ(CurrentPid(), parent);
}

TEST_P(ForkTest, DeathBySignalIsReportedAsSignaled) {
  std::unique_ptr<ChildProcess> child = Start([](ChildContext&) {
    const rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // A test has no use for a core file.
    testing::DieBySignal(testing::SegvSignalNumber());
    return 0;
  });
  ASSERT_NE(child, nullptr);
  std::optional<ExitStatus> status = WaitForExit(*child);
  EXPECT_THAT(status, Optional(Killed(SIGSEGV)));
  EXPECT_EQ(status.value_or(Exited(0)).exitcode(), -SIGSEGV);
}

TEST_P(ForkTest, TerminateEndsABlockedChild) {
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> child =
      Start([&](ChildContext&) { return BlockUntilReleased(hold, 0); });
  ASSERT_NE(child, nullptr);
  ASSERT_OK(child->SendSignal(Signal::kTerminate));
  EXPECT_THAT(WaitForExit(*child), Optional(Killed(SIGTERM)));
}

TEST_P(ForkTest, WaitTimesOutWhileTheChildRunsThenSeesItKilled) {
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> child =
      Start([&](ChildContext&) { return BlockUntilReleased(hold, 0); });
  ASSERT_NE(child, nullptr);

  const absl::Time deadline = absl::Now() + absl::Milliseconds(50);
  absl::StatusOr<std::optional<ExitStatus>> status = child->Wait(deadline);
  ASSERT_OK(status);
  EXPECT_EQ(*status, std::nullopt);
  EXPECT_GE(absl::Now(), deadline);
  EXPECT_EQ(testing::StateOf(child->pid()), testing::ProcessState::kRunning);
  // A deadline in the past polls.
  EXPECT_EQ(child->Wait(absl::InfinitePast()).value_or(Exited(99)),
            std::nullopt);

  ASSERT_OK(child->SendSignal(Signal::kKill));
  std::optional<ExitStatus> killed = WaitForExit(*child);
  EXPECT_THAT(killed, Optional(Killed(SIGKILL)));
  EXPECT_EQ(killed.value_or(Exited(0)).exitcode(), -9);
}

TEST_P(ForkTest, WaitRetriesInterruptions) {
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> child =
      Start([&](ChildContext&) { return BlockUntilReleased(hold, 4); });
  ASSERT_NE(child, nullptr);
  {
    Interrupter interrupter;
    const absl::Time deadline = absl::Now() + absl::Milliseconds(50);
    absl::StatusOr<std::optional<ExitStatus>> status = child->Wait(deadline);
    ASSERT_OK(status);
    EXPECT_EQ(*status, std::nullopt);
    EXPECT_GE(absl::Now(), deadline);
    hold.write.reset();
    EXPECT_THAT(WaitForExit(*child), Optional(Exited(4)));
  }
}

TEST_P(ForkTest, ConcurrentWaitersAllGetTheCachedStatus) {
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> child =
      Start([&](ChildContext&) { return BlockUntilReleased(hold, 5); });
  ASSERT_NE(child, nullptr);
  constexpr int kWaiters = 6;
  std::vector<std::optional<ExitStatus>> seen(kWaiters);
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] { seen[i] = WaitForExit(*child); });
  }
  hold.write.reset();  // Releases the child.
  for (std::thread& waiter : waiters) waiter.join();
  for (int i = 0; i < kWaiters; ++i)
    EXPECT_THAT(seen[i], Optional(Exited(5))) << "waiter " << i;
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(5)));
}

TEST_P(ForkTest, SignalAfterReapDoesNothing) {
  std::unique_ptr<ChildProcess> child = Start([](ChildContext&) { return 3; });
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(3)));
  // The pid may name another process by now; nothing may be sent to it.
  EXPECT_OK(child->SendSignal(Signal::kKill));
  EXPECT_OK(child->SendSignal(Signal::kTerminate));
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(3)));
  EXPECT_THAT(child->Wait(absl::InfinitePast()).value_or(std::nullopt),
              Optional(Exited(3)));
  EXPECT_TRUE(testing::IsOpen(child->sentinel()))
      << "the sentinel lives as long as the object";
}

TEST_P(ForkTest, SentinelBecomesReadableExactlyWhenTheChildExits) {
  PipeEnds ready = Pipe();
  PipeEnds release = Pipe();
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) {
    release.write.reset();
    Send(ready.write.get(), {1});
    (void)ReadSome(release.read.get(), 1);
    return 0;
  });
  ASSERT_NE(child, nullptr);
  ready.write.reset();
  ASSERT_EQ(Receive(ready.read.get(), 1), std::vector<std::int64_t>{1});

  // The child is now blocked on `release`.
  const NativeHandle sentinel[] = {child->sentinel()};
  EXPECT_THAT(WaitReadable(sentinel, absl::InfinitePast()).value(), IsEmpty());
  EXPECT_THAT(
      WaitReadable(sentinel, absl::Now() + absl::Milliseconds(30)).value(),
      IsEmpty());
  EXPECT_EQ(child->Wait(absl::InfinitePast()).value_or(Exited(99)),
            std::nullopt);

  ASSERT_TRUE(WriteAll(release.write.get(), "go").ok());
  EXPECT_THAT(WaitReadable(sentinel, absl::InfiniteFuture()).value(),
              Contains(0));
  // Once the sentinel has fired, even a non-blocking Wait finds the child
  // ended.
  EXPECT_THAT(child->Wait(absl::InfinitePast()).value_or(std::nullopt),
              Optional(Exited(0)));
}

// The pipe sentinel reaches end of file while the child is still exiting, a
// moment before it can be reaped; Wait must cover that moment rather than
// report "still running".
TEST_P(ForkTest, NonBlockingWaitAfterTheSentinelFiresAlwaysFindsTheStatus) {
  for (int i = 0; i < 50; ++i) {
    std::unique_ptr<ChildProcess> child =
        Start([&](ChildContext&) { return i; });
    ASSERT_NE(child, nullptr);
    const NativeHandle sentinel[] = {child->sentinel()};
    ASSERT_THAT(WaitReadable(sentinel, absl::InfiniteFuture()).value(),
                Contains(0));
    ASSERT_THAT(child->Wait(absl::InfinitePast()).value_or(std::nullopt),
                Optional(Exited(i)));
  }
}

TEST_P(ForkTest, ParentWatchReportsTheParentsDeath) {
  if (!IsSubreaper())
    GTEST_SKIP() << "needs a child subreaper to reap the grandchild";
  PipeEnds report = Pipe();
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) {
    report.read.reset();
    hold.write.reset();
    absl::StatusOr<std::unique_ptr<ChildProcess>> grandchild =
        backend().Fork({}, [&](ChildContext& context) {
          ParentWatch& parent = *context.parent;
          Send(report.write.get(),
               {parent.IsAlive(), parent.pid(), CurrentPid()});
          const NativeHandle handles[] = {parent.sentinel()};
          (void)WaitReadable(handles, absl::InfiniteFuture());
          Send(report.write.get(), {parent.IsAlive(), parent.IsAlive()});
          return 0;
        });
    if (!grandchild.ok()) return 1;
    (void)ReadSome(hold.read.get(), 1);  // Until killed.
    return 2;
  });
  ASSERT_NE(child, nullptr);
  report.write.reset();

  std::vector<std::int64_t> before = Receive(report.read.get(), 3);
  ASSERT_EQ(before.size(), 3u) << "the grandchild did not report";
  EXPECT_EQ(before[0], 1) << "IsAlive() was false while the parent ran";
  EXPECT_EQ(before[1], child->pid());
  const Pid grandchild = before[2];

  ASSERT_OK(child->SendSignal(Signal::kKill));
  EXPECT_THAT(WaitForExit(*child), Optional(Killed(SIGKILL)));
  std::vector<std::int64_t> after = Receive(report.read.get(), 2);
  ASSERT_EQ(after.size(), 2u) << "the grandchild's sentinel did not fire";
  EXPECT_EQ(after[0], 0) << "IsAlive() was true after the parent died";
  EXPECT_EQ(after[1], 0) << "IsAlive() is not sticky";
  EXPECT_THAT(ReapOrphan(grandchild), Optional(Exited(0)));
}

TEST_P(ForkTest, DieWithParentKillsTheGrandchildWhenItsParentIsKilled) {
  if (!IsSubreaper())
    GTEST_SKIP() << "needs a child subreaper to observe the grandchild";
  if (!backend().SupportsDieWithParent())
    GTEST_SKIP() << "backend lacks die_with_parent";
  PipeEnds report = Pipe();
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) {
    report.read.reset();
    hold.write.reset();
    absl::StatusOr<std::unique_ptr<ChildProcess>> grandchild =
        backend().Fork({.die_with_parent = true}, [&](ChildContext&) {
          Send(report.write.get(), {CurrentPid()});
          // Only the parent's death can end this wait early: the test holds
          // `hold` open until it has seen the grandchild die (or given up).
          (void)ReadSome(hold.read.get(), 1);
          return 3;
        });
    if (!grandchild.ok()) return 1;
    (void)ReadSome(hold.read.get(), 1);
    return 2;
  });
  ASSERT_NE(child, nullptr);
  report.write.reset();
  std::vector<std::int64_t> pid = Receive(report.read.get(), 1);
  ASSERT_EQ(pid.size(), 1u) << "the grandchild did not report";
  const Pid grandchild = pid[0];

  ASSERT_OK(child->SendSignal(Signal::kKill));
  EXPECT_THAT(WaitForExit(*child), Optional(Killed(SIGKILL)));
  // The grandchild holds the last write end of `report`: end of file means it
  // has died. The deadline only bounds a failure; a pass never waits for it.
  const NativeHandle handles[] = {report.read.get()};
  absl::StatusOr<std::vector<std::size_t>> ended =
      WaitReadable(handles, absl::Now() + absl::Seconds(10));
  ASSERT_OK(ended);
  EXPECT_THAT(*ended, Not(IsEmpty())) << "the grandchild outlived its parent";
  // Lets a surviving grandchild exit, so the test does not hang.
  hold.write.reset();
  EXPECT_THAT(ReapOrphan(grandchild), Optional(Killed(SIGKILL)));
}

TEST_P(ForkTest, DieWithParentLeavesAChildAloneWhileTheParentLives) {
  std::unique_ptr<ChildProcess> child = Start(
      [](ChildContext& context) { return context.parent->IsAlive() ? 0 : 1; },
      {.die_with_parent = true});
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
}

TEST_P(ForkTest, ANewChildHoldsNoneOfItsSiblingsDescriptors) {
  PipeEnds hold = Pipe();
  absl::StatusOr<std::vector<NativeHandle>> before = testing::OpenDescriptors();
  ASSERT_OK(before);
  std::unique_ptr<ChildProcess> sibling =
      Start([&](ChildContext&) { return BlockUntilReleased(hold, 0); });
  ASSERT_NE(sibling, nullptr);
  absl::StatusOr<std::vector<NativeHandle>> after = testing::OpenDescriptors();
  ASSERT_OK(after);
  std::vector<std::string> sibling_descriptors;
  for (NativeHandle handle : *after) {
    if (std::find(before->begin(), before->end(), handle) == before->end()) {
      sibling_descriptors.push_back(testing::DescribeDescriptor(handle));
    }
  }
  ASSERT_THAT(sibling_descriptors, Not(IsEmpty()))
      << "the backend keeps no handle per child?";

  PipeEnds report = Pipe();
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) {
    std::vector<std::string> descriptions;
    for (NativeHandle handle :
         testing::OpenDescriptors().value_or(std::vector<NativeHandle>())) {
      descriptions.push_back(testing::DescribeDescriptor(handle));
    }
    SendString(report.write.get(), absl::StrJoin(descriptions, "\n"));
    return 0;
  });
  ASSERT_NE(child, nullptr);
  const std::vector<std::string> in_child =
      absl::StrSplit(ReceiveString(report.read.get()), '\n');
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));

  for (const std::string& description : sibling_descriptors) {
    EXPECT_THAT(in_child, Not(Contains(description)))
        << "the new child inherited its sibling's " << description;
  }
  // Descriptors the backend does not own are inherited as fork() always does.
  EXPECT_THAT(in_child, Contains(testing::DescribeDescriptor(hold.read.get())));

  hold.write.reset();
  EXPECT_THAT(WaitForExit(*sibling), Optional(Exited(0)));
}

TEST_P(ForkTest, EveryDescriptorIsCloseOnExec) {
  std::unique_ptr<ChildProcess> child = Start([](ChildContext& context) {
    // The child's own descriptors: its parent watch, and whatever else the
    // backend left open in it (its end of the sentinel pipe, under "posix").
    int code =
        testing::IsCloseOnExec(context.parent->sentinel()).value_or(false) ? 0
                                                                           : 1;
    for (NativeHandle handle :
         testing::OpenDescriptors().value_or(std::vector<NativeHandle>())) {
      if (handle > 2 && !testing::IsCloseOnExec(handle).value_or(false))
        code = 2;
    }
    return code;
  });
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(testing::IsCloseOnExec(child->sentinel()).value_or(false));
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
}

TEST_P(ForkTest, AForkAndWaitCycleLeaksNoDescriptor) {
  absl::StatusOr<std::vector<NativeHandle>> before = testing::OpenDescriptors();
  ASSERT_OK(before);
  for (const bool die_with_parent : {false, true}) {
    std::unique_ptr<ChildProcess> child = Start(
        [](ChildContext&) { return 0; }, {.die_with_parent = die_with_parent});
    ASSERT_NE(child, nullptr);
    EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
  }
  absl::StatusOr<std::vector<NativeHandle>> after = testing::OpenDescriptors();
  ASSERT_OK(after);
  std::vector<std::string> leaked;
  for (NativeHandle handle : *after) {
    if (std::find(before->begin(), before->end(), handle) == before->end()) {
      leaked.push_back(testing::DescribeDescriptor(handle));
    }
  }
  EXPECT_THAT(leaked, IsEmpty());
}

TEST_P(ForkTest, InertInAProcessThatDidNotStartTheChild) {
  PipeEnds hold = Pipe();
  std::unique_ptr<ChildProcess> sibling =
      Start([&](ChildContext&) { return BlockUntilReleased(hold, 0); });
  ASSERT_NE(sibling, nullptr);
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) {
    // This process inherited `sibling`'s object but is not its parent.
    int code = 0;
    if (!absl::IsFailedPrecondition(
            sibling->Wait(absl::InfinitePast()).status()))
      code |= 1;
    if (!absl::IsFailedPrecondition(sibling->SendSignal(Signal::kKill)))
      code |= 2;
    // Destroying it here closes nothing: the numbers it holds may name this
    // process's own descriptors now.
    const auto open_before =
        testing::OpenDescriptors().value_or(std::vector<NativeHandle>());
    sibling.reset();
    if (testing::OpenDescriptors().value_or(std::vector<NativeHandle>()) !=
        open_before)
      code |= 4;
    return code;
  });
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
  EXPECT_EQ(testing::StateOf(sibling->pid()), testing::ProcessState::kRunning);
  hold.write.reset();
  EXPECT_THAT(WaitForExit(*sibling), Optional(Exited(0)));
}

TEST_P(ForkTest, AnExceptionInTheChildExitsWithSeventyAndSaysSo) {
  PipeEnds errors = Pipe();
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) -> int {
    dup2(static_cast<int>(errors.write.get()), STDERR_FILENO);
    errors.write.reset();
    throw std::runtime_error("boom");
  });
  ASSERT_NE(child, nullptr);
  errors.write.reset();
  const std::string message = ReadAll(errors.read.get());
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(70)));
  EXPECT_THAT(message, HasSubstr("uncaught exception: boom"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
}

TEST_P(ForkTest, StandardStreamsAreFlushedOnceAtExitAndNotInheritedBuffered) {
  PipeEnds out = Pipe();
  // Left in this process's stdout buffer: Fork must flush it, or the child
  // would write it too.
  std::printf("[parent, unflushed] ");
  std::unique_ptr<ChildProcess> child = Start([&](ChildContext&) {
    dup2(static_cast<int>(out.write.get()), STDOUT_FILENO);
    out.write.reset();
    std::printf("from printf,");
    std::cout << " from cout";
    return 0;  // No newline, no flush: the backend flushes.
  });
  ASSERT_NE(child, nullptr);
  out.write.reset();
  EXPECT_EQ(ReadAll(out.read.get()), "from printf, from cout");
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
  std::printf("\n");
}

TEST_P(ForkTest, RedirectStdinToNullInAChild) {
  std::unique_ptr<ChildProcess> child = Start([](ChildContext&) {
    if (!RedirectStdinToNull().ok()) return 1;
    if (ReadSome(STDIN_FILENO, 1).value_or("x") != "") return 2;
    if (testing::IsCloseOnExec(STDIN_FILENO).value_or(true)) return 3;
    return testing::DescribeDescriptor(STDIN_FILENO) == "/dev/null" ? 0 : 4;
  });
  ASSERT_NE(child, nullptr);
  EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
}

// Threads fork at once: long-lived children are forked while short-lived ones
// are being set up. If a long-lived child inherited a short-lived sibling's end
// of the sentinel pipe (or its parent watch), that sibling's sentinel would not
// fire until the long-lived one ends, and the bounded waits below would time
// out.
TEST_P(ForkTest, ConcurrentForksKeepEachChildsDescriptorsPrivate) {
  PipeEnds hold = Pipe();
  constexpr int kThreads = 4;
  constexpr int kRounds = 10;
  std::vector<std::unique_ptr<ChildProcess>> long_lived[kThreads];
  // Children whose bounded wait ran out: waited for after `hold` releases the
  // long-lived ones, which may be what holds their sentinels open.
  std::vector<std::unique_ptr<ChildProcess>> late[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        absl::StatusOr<std::unique_ptr<ChildProcess>> blocked = backend().Fork(
            {}, [&](ChildContext&) { return BlockUntilReleased(hold, 0); });
        absl::StatusOr<std::unique_ptr<ChildProcess>> quick =
            backend().Fork({}, [](ChildContext&) { return 9; });
        if (!blocked.ok() || !quick.ok()) {
          ADD_FAILURE() << blocked.status() << " " << quick.status();
          return;
        }
        long_lived[t].push_back(*std::move(blocked));
        // The bound only limits a failure: a passing child ends in
        // microseconds.
        absl::StatusOr<std::optional<ExitStatus>> status =
            (*quick)->Wait(absl::Now() + absl::Seconds(10));
        if (!status.ok() || !status->has_value()) {
          late[t].push_back(*std::move(quick));
          return;
        }
        EXPECT_EQ(**status, Exited(9));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  hold.write.reset();
  for (auto& children : long_lived) {
    for (auto& child : children) {
      EXPECT_THAT(WaitForExit(*child), Optional(Exited(0)));
    }
  }
  for (auto& children : late) {
    for (auto& child : children) {
      ADD_FAILURE()
          << "child " << child->pid()
          << "'s sentinel did not fire at its exit: a sibling held it";
      EXPECT_THAT(WaitForExit(*child), Optional(Exited(9)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ForkTest,
                         ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace procspec::platform
