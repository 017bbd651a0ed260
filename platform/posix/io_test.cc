// Descriptors, waiting, signal names, identity and the backend registry.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"

namespace procspec::platform {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(UniqueHandleTest, ClosesOnResetAndDestructionButNotAfterRelease) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  const NativeHandle read_end = pipe->read.get();
  const NativeHandle write_end = pipe->write.get();
  {
    UniqueHandle moved = std::move(pipe->read);
    EXPECT_FALSE(pipe->read.valid());
    EXPECT_TRUE(testing::IsOpen(read_end));
  }
  EXPECT_FALSE(testing::IsOpen(read_end));

  const NativeHandle released = pipe->write.release();
  EXPECT_EQ(released, write_end);
  EXPECT_TRUE(testing::IsOpen(write_end));
  UniqueHandle(released).reset();
  EXPECT_FALSE(testing::IsOpen(write_end));
}

class BackendPipeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BackendPipeTest, BothEndsAreCloseOnExec) {
  absl::StatusOr<Backend*> backend = GetBackend(GetParam());
  ASSERT_OK(backend);
  absl::StatusOr<PipeEnds> pipe = (*backend)->MakePipe();
  ASSERT_OK(pipe);
  EXPECT_TRUE(testing::IsCloseOnExec(pipe->read.get()).value_or(false));
  EXPECT_TRUE(testing::IsCloseOnExec(pipe->write.get()).value_or(false));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, BackendPipeTest,
                         ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

TEST(IoTest, WriteAllThenReadExactlyAndEndOfFile) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  ASSERT_TRUE(WriteAll(pipe->write.get(), "hello world").ok());
  EXPECT_EQ(ReadExactly(pipe->read.get(), 5).value(), "hello");
  pipe->write.reset();
  absl::StatusOr<std::string> short_read = ReadExactly(pipe->read.get(), 10);
  EXPECT_EQ(short_read.status().code(), absl::StatusCode::kOutOfRange)
      << short_read.status();
  EXPECT_EQ(ReadSome(pipe->read.get(), 10).value(), "");
}

TEST(IoTest, WriteAllHandlesMoreThanAPipeHolds) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  // Far more than a pipe buffers: short writes happen.
  const std::string data(1 << 20, 'x');
  std::thread writer(
      [&] { EXPECT_TRUE(WriteAll(pipe->write.get(), data).ok()); });
  absl::StatusOr<std::string> got = ReadExactly(pipe->read.get(), data.size());
  writer.join();
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);
}

TEST(IoTest, ErrorsCarryErrnoText) {
  absl::Status status = WriteAll(1 << 20, "x");  // Not a descriptor.
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "[Errno 9] Bad file descriptor: write");
}

TEST(WaitReadableTest, PastDeadlinePollsWithoutBlocking) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  const NativeHandle handles[] = {pipe->read.get()};
  EXPECT_THAT(WaitReadable(handles, absl::InfinitePast()).value(), IsEmpty());
  ASSERT_TRUE(WriteAll(pipe->write.get(), "x").ok());
  EXPECT_THAT(WaitReadable(handles, absl::InfinitePast()).value(),
              ElementsAre(0));
}

TEST(WaitReadableTest, TimesOutNoEarlierThanTheDeadline) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  const NativeHandle handles[] = {pipe->read.get()};
  const absl::Time deadline = absl::Now() + absl::Milliseconds(30);
  EXPECT_THAT(WaitReadable(handles, deadline).value(), IsEmpty());
  EXPECT_GE(absl::Now(), deadline);
}

TEST(WaitReadableTest, ReportsWhichHandlesAreReady) {
  absl::StatusOr<PipeEnds> first = MakePipe();
  absl::StatusOr<PipeEnds> second = MakePipe();
  absl::StatusOr<PipeEnds> third = MakePipe();
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  const NativeHandle handles[] = {first->read.get(), second->read.get(),
                                  third->read.get()};
  ASSERT_TRUE(WriteAll(second->write.get(), "x").ok());
  third->write.reset();  // End of file counts as readable.
  EXPECT_THAT(WaitReadable(handles, absl::InfiniteFuture()).value(),
              ElementsAre(1, 2));
}

TEST(WaitReadableTest, RejectsInvalidAndClosedHandles) {
  const NativeHandle invalid[] = {kInvalidHandle};
  EXPECT_EQ(WaitReadable(invalid, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kInvalidArgument);
  NativeHandle closed;
  {
    absl::StatusOr<PipeEnds> pipe = MakePipe();
    ASSERT_OK(pipe);
    closed = pipe->read.get();
  }
  const NativeHandle handles[] = {closed};
  EXPECT_EQ(WaitReadable(handles, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A signal handler that does nothing, installed without SA_RESTART so that
// poll() fails with EINTR, and a thread that keeps interrupting the test's
// thread until told to stop.
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
        sent_.fetch_add(1);
        std::this_thread::yield();
      }
    });
  }
  ~Interrupter() {
    stop_.store(true);
    thread_.join();
    sigaction(SIGUSR1, &previous_, nullptr);
  }
  int sent() const { return sent_.load(); }

 private:
  const pthread_t target_;
  struct sigaction previous_ = {};
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

TEST(WaitReadableTest, RetriesInterruptionsUntilTheDeadline) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_OK(pipe);
  const NativeHandle handles[] = {pipe->read.get()};
  Interrupter interrupter;
  // Handshake: the signals are flowing before the wait starts (on a loaded
  // machine the interrupter's thread may otherwise first run after it ends).
  while (interrupter.sent() == 0) std::this_thread::yield();
  const absl::Time deadline = absl::Now() + absl::Milliseconds(50);
  absl::StatusOr<std::vector<std::size_t>> ready =
      WaitReadable(handles, deadline);
  ASSERT_OK(ready);
  EXPECT_THAT(*ready, IsEmpty());
  EXPECT_GE(absl::Now(), deadline);
  EXPECT_GT(interrupter.sent(), 0);
}

TEST(SignalTest, NumbersAndPythonNames) {
  EXPECT_EQ(SignalNumber(Signal::kTerminate), SIGTERM);
  EXPECT_EQ(SignalNumber(Signal::kKill), SIGKILL);
  EXPECT_EQ(SignalNumber(Signal::kInterrupt), SIGINT);
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGABRT), "SIGABRT");  // Not SIGIOT, as in Python.
  EXPECT_EQ(SignalName(SIGCHLD), "SIGCHLD");  // Not SIGCLD.
  EXPECT_EQ(SignalName(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(SignalName(SIGRTMAX), "SIGRTMAX");
  EXPECT_EQ(SignalName(SIGRTMIN + 1), "");
  EXPECT_EQ(SignalName(0), "");
  EXPECT_EQ(SignalName(1000), "");
}

TEST(IdentityTest, PidAndCpus) {
  EXPECT_EQ(CurrentPid(), getpid());
  EXPECT_GE(CpuCount(), 1);
}

TEST(RegistryTest, NamesAndLookup) {
  std::vector<std::string> names = BackendNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "posix"), names.end());
#ifdef __linux__
  EXPECT_EQ(names.front(), "linux");
#endif
  for (const std::string& name : names) {
    absl::StatusOr<Backend*> backend = GetBackend(name);
    ASSERT_OK(backend);
    EXPECT_EQ((*backend)->name(), name);
  }
  EXPECT_EQ(GetBackend("windows").status().code(), absl::StatusCode::kNotFound);
}

// One test, because selection is sticky for the rest of the process.
TEST(RegistryTest, CurrentBackendIsSelectedElseEnvironmentElseDefault) {
  const std::string best = BackendNames().front();
  testing::SetEnv("PROCSPEC_BACKEND", "");
  EXPECT_EQ(CurrentBackend().name(), best);
  testing::SetEnv("PROCSPEC_BACKEND", "posix");
  EXPECT_EQ(CurrentBackend().name(), "posix");
  testing::SetEnv("PROCSPEC_BACKEND", "no-such-backend");
  EXPECT_EQ(CurrentBackend().name(), best);
  testing::SetEnv("PROCSPEC_BACKEND", "posix");
  ASSERT_OK(SelectBackend(best));
  EXPECT_EQ(CurrentBackend().name(), best);
  EXPECT_EQ(SelectBackend("no-such-backend").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CurrentBackend().name(), best);
}

}  // namespace
}  // namespace procspec::platform
