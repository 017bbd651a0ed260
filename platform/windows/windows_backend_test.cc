// The windows backend's own tests: spawn, wait, terminate, pipes, waits,
// handle passing, the parent watch and die_with_parent. The binary is its own
// child: a spawned run reads its payload (a command) in main() and does it.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/windows/win32.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Generous: a spawn under Wine costs tens of milliseconds, more on a loaded
// machine.
constexpr absl::Duration kSoon = absl::Seconds(60);

absl::StatusOr<std::unique_ptr<ChildProcess>> SpawnCommand(
    std::string command, std::vector<NativeHandle> handles = {},
    bool die_with_parent = false) {
  SpawnOptions options;
  options.payload = std::move(command);
  options.handles = std::move(handles);
  options.die_with_parent = die_with_parent;
  return CurrentBackend().Spawn(options);
}

ExitStatus WaitSoon(ChildProcess& child) {
  absl::StatusOr<std::optional<ExitStatus>> status =
      child.Wait(absl::Now() + kSoon);
  EXPECT_TRUE(status.ok()) << status.status();
  if (!status.ok() || !status->has_value()) {
    (void)child.SendSignal(Signal::kKill);
    ADD_FAILURE() << "the child did not exit in time";
    return ExitStatus{.value = -1};
  }
  return **status;
}

TEST(WindowsBackendTest, IsTheBackendAndCannotFork) {
  EXPECT_EQ(CurrentBackend().name(), "windows");
  EXPECT_THAT(BackendNames(), ElementsAre("windows"));
  EXPECT_FALSE(CurrentBackend().SupportsFork());
  absl::StatusOr<std::unique_ptr<ChildProcess>> forked =
      CurrentBackend().Fork({}, [](ChildContext&) { return 0; });
  EXPECT_EQ(forked.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(forked.status().message(), HasSubstr("no fork()"));
  EXPECT_EQ(CurrentBackend().ForkForkServer(nullptr).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(WindowsBackendTest, SpawnedChildExitsWithItsCode) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = SpawnCommand("exit 7");
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_GT((*child)->pid(), 0);
  EXPECT_NE((*child)->pid(), CurrentPid());
  const NativeHandle sentinel[] = {(*child)->sentinel()};
  absl::StatusOr<std::vector<std::size_t>> ready =
      WaitReadable(sentinel, absl::Now() + kSoon);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_THAT(*ready, ElementsAre(0u));
  const ExitStatus status = WaitSoon(**child);
  EXPECT_FALSE(status.signaled);
  EXPECT_EQ(status.exitcode(), 7);
  // Cached: the same answer again, at once.
  EXPECT_EQ((*child)->Wait(absl::InfinitePast()).value(), status);
}

TEST(WindowsBackendTest, LargeExitCodesAreKept) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      SpawnCommand("exit 300");
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(WaitSoon(**child).exitcode(), 300);
}

TEST(WindowsBackendTest, WaitTimesOutNoEarlierThanItsDeadline) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = SpawnCommand("block");
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ((*child)->Wait(absl::InfinitePast()).value(), std::nullopt);
  const absl::Time start = absl::Now();
  EXPECT_EQ((*child)->Wait(start + absl::Milliseconds(200)).value(),
            std::nullopt);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  const NativeHandle sentinel[] = {(*child)->sentinel()};
  EXPECT_THAT(WaitReadable(sentinel, absl::InfinitePast()).value(), IsEmpty());
  ASSERT_TRUE((*child)->SendSignal(Signal::kTerminate).ok());
  EXPECT_EQ(WaitSoon(**child).exitcode(), -15);
}

TEST(WindowsBackendTest, TerminateAndKillReportMinusSigterm) {
  for (Signal signal : {Signal::kTerminate, Signal::kKill}) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        SpawnCommand("block");
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_TRUE((*child)->SendSignal(signal).ok());
    const ExitStatus status = WaitSoon(**child);
    EXPECT_TRUE(status.signaled);
    EXPECT_EQ(status.exitcode(), -15);
    EXPECT_EQ(SignalName(status.value), "SIGTERM");
    // Reaped: nothing is sent any more, and that is not an error.
    EXPECT_TRUE((*child)->SendSignal(Signal::kKill).ok());
    EXPECT_EQ(WaitSoon(**child).exitcode(), -15);
  }
  EXPECT_EQ(SignalNumber(Signal::kKill), 15);
}

TEST(WindowsBackendTest, PipesCarryBytesAndSignalTheirEnd) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  const NativeHandle read[] = {pipe->read.get()};
  EXPECT_THAT(WaitReadable(read, absl::InfinitePast()).value(), IsEmpty());
  const absl::Time start = absl::Now();
  EXPECT_THAT(WaitReadable(read, start + absl::Milliseconds(100)).value(),
              IsEmpty());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  ASSERT_TRUE(WriteAll(pipe->write.get(), "hello").ok());
  EXPECT_THAT(WaitReadable(read, absl::InfiniteFuture()).value(),
              ElementsAre(0u));
  EXPECT_EQ(ReadExactly(pipe->read.get(), 5).value(), "hello");
  pipe->write.reset();
  EXPECT_THAT(WaitReadable(read, absl::InfiniteFuture()).value(),
              ElementsAre(0u));
  EXPECT_EQ(ReadSome(pipe->read.get(), 10).value(), "");
}

TEST(WindowsBackendTest, WaitReadableWakesWhenAnotherProcessWrites) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = SpawnCommand(
      "write-after-start", {pipe->write.get()});
  ASSERT_TRUE(child.ok()) << child.status();
  pipe->write.reset();
  const NativeHandle read[] = {pipe->read.get()};
  EXPECT_THAT(WaitReadable(read, absl::Now() + kSoon).value(), ElementsAre(0u));
  EXPECT_EQ(ReadExactly(pipe->read.get(), 6).value(), "passed");
  EXPECT_EQ(WaitSoon(**child).exitcode(), 0);
  // The child's copy was its only other write end: its exit ends the pipe.
  EXPECT_EQ(ReadSome(pipe->read.get(), 10).value(), "");
}

TEST(WindowsBackendTest, WaitReadableRejectsClosedHandles) {
  const NativeHandle invalid[] = {kInvalidHandle};
  EXPECT_EQ(WaitReadable(invalid, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WindowsBackendTest, ChildInheritsOnlyWhatItIsGiven) {
  absl::StatusOr<PipeEnds> kept = MakePipe();
  ASSERT_TRUE(kept.ok()) << kept.status();
  // Made inheritable on purpose: still not listed, so not passed.
  ASSERT_TRUE(SetHandleInformation(windows::ToHandle(kept->write.get()),
                                   HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT));
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      SpawnCommand(absl::StrCat("block-holding ", kept->write.get()));
  ASSERT_TRUE(child.ok()) << child.status();
  kept->write.reset();
  // Had the child inherited the write end, the pipe would not end while it
  // runs.
  EXPECT_EQ(ReadSome(kept->read.get(), 10).value(), "");
  ASSERT_TRUE((*child)->SendSignal(Signal::kTerminate).ok());
  EXPECT_EQ(WaitSoon(**child).exitcode(), -15);
}

TEST(WindowsBackendTest, ChildWatchesItsParent) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      SpawnCommand("report-parent", {pipe->write.get()});
  ASSERT_TRUE(child.ok()) << child.status();
  pipe->write.reset();
  EXPECT_EQ(WaitSoon(**child).exitcode(), 0);
  absl::StatusOr<std::string> line = ReadSome(pipe->read.get(), 100);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, absl::StrCat(CurrentPid(), " alive"));
}

// A middle process spawns a grandchild with die_with_parent, reports its pid
// and exits: the grandchild dies with it.
TEST(WindowsBackendTest, DieWithParentKillsTheChildWhenTheParentEnds) {
  absl::StatusOr<PipeEnds> pipe = MakePipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> middle =
      SpawnCommand("spawn-dying-grandchild", {pipe->write.get()});
  ASSERT_TRUE(middle.ok()) << middle.status();
  pipe->write.reset();
  absl::StatusOr<std::string> text = ReadSome(pipe->read.get(), 100);
  ASSERT_TRUE(text.ok()) << text.status();
  DWORD grandchild_pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*text, &grandchild_pid)) << *text;
  HANDLE grandchild = OpenProcess(SYNCHRONIZE, FALSE, grandchild_pid);
  ASSERT_NE(grandchild, nullptr) << GetLastError();
  EXPECT_EQ(WaitSoon(**middle).exitcode(), 0);
  EXPECT_EQ(WaitForSingleObject(grandchild, 60000), WAIT_OBJECT_0);
  CloseHandle(grandchild);
}

TEST(WindowsBackendTest, CommandLinesRoundTrip) {
  EXPECT_EQ(windows::QuoteCommandLine({"a b", "c", "", "d\\\"e", "f\\"}),
            L"\"a b\" c \"\" \"d\\\\\\\"e\" f\\");
}

TEST(WindowsBackendTest, IdentityAndSignalNames) {
  EXPECT_EQ(CurrentPid(), static_cast<Pid>(GetCurrentProcessId()));
  EXPECT_GE(CpuCount(), 1);
  EXPECT_THAT(ProgramPath(), HasSubstr(".exe"));
  EXPECT_EQ(SignalName(15), "SIGTERM");
  EXPECT_EQ(SignalName(9), "");
}

// ---- The child's side

int RunChild() {
  absl::StatusOr<SpawnedContext> spawned = ReceiveSpawnPayload();
  if (!spawned.ok()) {
    std::cerr << "bootstrap: " << spawned.status() << "\n";
    return 99;
  }
  std::vector<std::string> words = absl::StrSplit(spawned->payload, ' ');
  const std::string& command = words[0];
  if (command == "exit") {
    int code = 0;
    return absl::SimpleAtoi(words.at(1), &code) ? code : 98;
  }
  if (command == "block" || command == "block-holding") {
    Sleep(INFINITE);
    return 97;
  }
  if (command == "write-after-start") {
    return WriteAll(spawned->handles.at(0).get(), "passed").ok() ? 0 : 96;
  }
  if (command == "report-parent") {
    ParentWatch& parent = *spawned->context.parent;
    const std::string line = absl::StrCat(
        parent.pid(), parent.IsAlive() ? " alive" : " gone");
    return WriteAll(spawned->handles.at(0).get(), line).ok() ? 0 : 95;
  }
  if (command == "spawn-dying-grandchild") {
    absl::StatusOr<std::unique_ptr<ChildProcess>> grandchild =
        SpawnCommand("block", {}, /*die_with_parent=*/true);
    if (!grandchild.ok()) return 94;
    (void)WriteAll(spawned->handles.at(0).get(),
                   absl::StrCat((*grandchild)->pid()));
    return 0;
  }
  return 93;
}

}  // namespace
}  // namespace procspec::platform

int main(int argc, char** argv) {
  if (procspec::platform::IsSpawnedChild())
    return procspec::platform::RunChild();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
