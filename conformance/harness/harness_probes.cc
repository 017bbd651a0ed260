// Hidden probe tests for harness_test.cc. DISABLED_ keeps them out of normal
// runs; the driver runs them in a subprocess with
// --gtest_also_run_disabled_tests and checks what the harness made of them.
// Several of them are meant to fail.
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"
#include "process/inherited_handle.h"
#include "process/process.h"

namespace conformance {
namespace {

namespace platform = ::procspec::platform;

CONFORMANCE_TEST(HarnessProbe, DISABLED_Supported, "harness.probe.basic") {
  SUCCEED();
}

CONFORMANCE_TEST(HarnessProbe, DISABLED_Unsupported, "harness.probe.basic",
                 "harness.probe.teleport") {
  ADD_FAILURE()
      << "a test whose clause needs a missing capability must not run";
}

CONFORMANCE_TEST(HarnessProbe, DISABLED_UnknownClause,
                 "harness.probe.no_such_clause") {}

TEST(HarnessProbe, DISABLED_NoPython3) {
  platform::testing::SetEnv("PATH", "/nonexistent");
  CONFORMANCE_REQUIRE(RequirePython3());
  ADD_FAILURE() << "RequirePython3 passed without python3 on PATH";
}

TEST(LeakProbe, DISABLED_LeaksDescriptor) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  ASSERT_OK(pipe);
  pipe->read.release();  // the leak under test; the write end is closed
}

TEST(LeakProbe, DISABLED_LeaksZombie) {
  // The linux backend's sentinel is a pidfd, readable exactly when the child is
  // reapable, i.e. a zombie. (A pipe sentinel, as the posix backend's, closes
  // slightly before the child becomes a zombie, so the leak could be seen while
  // it is still running.)
  absl::StatusOr<platform::Backend*> backend = platform::GetBackend("linux");
  ASSERT_OK(backend);
  absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
      (*backend)->Fork({}, [](platform::ChildContext&) { return 0; });
  ASSERT_OK(child);
  // Nothing reaps the child, so it stays a zombie after the test.
  const platform::NativeHandle sentinel = (*child)->sentinel();
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(absl::MakeConstSpan(&sentinel, 1),
                             absl::Now() + ScaledTimeout(absl::Seconds(30)));
  ASSERT_TRUE(ready.ok() && ready->size() == 1) << "the child did not exit";
}

// Where there is no fork (Windows), the leaked and the hang probes' child: a
// spawned run of this binary blocked on a pipe whose write end nobody closes.
void BlockOnPipe(procspec::InheritedHandle read) {
  (void)platform::ReadSome(read.get(), 1);
}
PROCSPEC_TARGET(BlockOnPipe);

TEST(LeakProbe, DISABLED_LeaksRunningChild) {
  if (!platform::CurrentBackend().SupportsFork()) {
    // A spawned child blocked on a pipe whose ends this process leaves open
    // (the Process object too), so it is still running when the test ends.
    absl::StatusOr<platform::PipeEnds> gate = platform::MakePipe();
    ASSERT_OK(gate);
    auto* leaked = new procspec::Process(
        BlockOnPipe, std::tuple{procspec::InheritedHandle(gate->read.get())});
    ASSERT_OK(leaked->start());
    gate->read.release();
    gate->write.release();
    return;
  }
  absl::StatusOr<Handshake> handshake = Handshake::Create();
  ASSERT_OK(handshake);
  absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
      platform::CurrentBackend().Fork({}, [&](platform::ChildContext&) {
        if (!handshake->SignalReady().ok()) return 1;
        // Blocks for ever: this process holds the write end itself.
        absl::StatusOr<platform::PipeEnds> own = platform::MakePipe();
        if (own.ok()) (void)platform::ReadSome(own->read.get(), 1);
        return 2;
      });
  ASSERT_OK(child);
  ASSERT_OK(handshake->WaitReady());
}

// Never returns on its own, like an untimed lock a foreign kernel breaks: only
// the supervisor's deadline ends it. It holds the write end itself, and starts
// a child that blocks the same way, which the supervisor must kill too.
TEST(HangProbe, DISABLED_NeverReturns) {
  absl::StatusOr<platform::PipeEnds> own = platform::MakePipe();
  ASSERT_OK(own);
  std::unique_ptr<platform::ChildProcess> child;
  // Spawned where there is no fork; never joined.
  procspec::Process spawned(
      BlockOnPipe, std::tuple{procspec::InheritedHandle(own->read.get())});
  if (!platform::CurrentBackend().SupportsFork()) {
    ASSERT_OK(spawned.start());
  } else {
    absl::StatusOr<std::unique_ptr<platform::ChildProcess>> forked =
        platform::CurrentBackend().Fork({}, [&](platform::ChildContext&) {
          (void)platform::ReadSome(own->read.get(), 1);
          return 2;
        });
    ASSERT_OK(forked);
    child = *std::move(forked);
  }
  (void)platform::ReadSome(own->read.get(), 1);
  ADD_FAILURE() << "read a byte nobody wrote";
}

// Runs after the hang: the supervisor's next test child must run it.
TEST(HangProbe, DISABLED_AfterTheHang) { SUCCEED(); }

// Runs after the leak probes: their leftovers must not make it fail.
TEST(LeakProbe, DISABLED_LaterTestIsClean) { SUCCEED(); }

CONFORMANCE_CHILD_ENTRY(echo_args) {
  std::printf("%s|%s\n", std::string(BackendName()).c_str(),
              absl::StrJoin(args, " ").c_str());
  return 7;
}

}  // namespace
}  // namespace conformance
