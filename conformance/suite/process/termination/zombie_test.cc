// A terminated child is a zombie of this process until the library reaps it
// (join(), is_alive(), exitcode or active_children()). Targets are registered
// functions, so the tests run under fork and spawn; under forkserver the fork
// server, not this process, is the child's parent and reaps it, so this
// process never has a zombie to observe. (The terminated child's own children
// are in orphans_test.cc.)
#include <optional>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"
#include "process/connection.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"

namespace conformance {
namespace {

using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::EventTimeout;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::PidOf;
using ::conformance::testing::RequireOwnZombie;
using ::conformance::testing::SendLine;
using ::conformance::testing::StartAndAwaitReady;
using ::procspec::InheritedHandle;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using os::ProcessState;

// Sends "ready", then blocks until killed.
void ZombieReadyThenBlock(InheritedHandle ready) {
  SendLine(ready.get(), "ready");
  BlockUntilKilled();
}
PROCSPEC_TARGET(ZombieReadyThenBlock);

// How a test lets the library reap a child.
enum class Reaper { kJoin, kIsAlive, kExitcode, kActiveChildren };

// Terminates a blocked child, waits (event-driven) until it has died, and
// checks it is a zombie until `reaper` reaps it, and gone afterwards. Calls
// that do not ask for the exit status (pid(), sentinel(), terminate() and
// kill() again) leave the zombie in place.
void ExpectZombieUntilReapedBy(Reaper reaper) {
  CONFORMANCE_REQUIRE(RequireOwnZombie());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds ready, platform::MakePipe());
  procspec::Process child(ZombieReadyThenBlock,
                          std::tuple{InheritedHandle(ready.write.get())});
  KillOnExit guard(child);
  ASSERT_OK(StartAndAwaitReady(child, ready));
  const Pid pid = PidOf(child);
  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(procspec::Handle sentinel, child.sentinel());
  ASSERT_OK_AND_ASSIGN(std::vector<procspec::Handle> fired,
                       procspec::connection::wait(
                           {sentinel}, absl::ToDoubleSeconds(EventTimeout())));
  ASSERT_EQ(fired.size(), 1u);
  // Under "linux" the sentinel is a pidfd, which fires once the zombie exists;
  // a pipe sentinel can fire a moment before. waitid(WNOWAIT) covers both.
  ASSERT_OK(os::AwaitExitWithoutReaping(pid));
  EXPECT_EQ(os::StateOf(pid), ProcessState::kZombie);
  EXPECT_OK(child.pid());
  EXPECT_OK(child.sentinel());
  EXPECT_OK(child.terminate());
  EXPECT_OK(child.kill());
  EXPECT_EQ(os::StateOf(pid), ProcessState::kZombie);

  switch (reaper) {
    case Reaper::kJoin:
      ASSERT_OK(child.join());
      break;
    case Reaper::kIsAlive: {
      ASSERT_OK_AND_ASSIGN(bool alive, child.is_alive());
      EXPECT_FALSE(alive);
      break;
    }
    case Reaper::kExitcode: {
      ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, child.exitcode());
      EXPECT_EQ(exitcode, -15);
      break;
    }
    case Reaper::kActiveChildren:
      for (const procspec::ChildInfo& info : procspec::active_children())
        EXPECT_NE(info.pid, pid);
      break;
  }
  EXPECT_EQ(os::StateOf(pid), ProcessState::kGone);
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, child.exitcode());
  EXPECT_EQ(exitcode, -15);
}

// A terminated child stays a zombie until join() reaps it.
CONFORMANCE_TEST(Zombie, UntilJoin, "process.terminate.zombie_until_reaped") {
  ExpectZombieUntilReapedBy(Reaper::kJoin);
}

// ... or is_alive() does (returning False).
CONFORMANCE_TEST(Zombie, UntilIsAlive,
                 "process.terminate.zombie_until_reaped") {
  ExpectZombieUntilReapedBy(Reaper::kIsAlive);
}

// ... or reading exitcode does (-15).
CONFORMANCE_TEST(Zombie, UntilExitcode,
                 "process.terminate.zombie_until_reaped") {
  ExpectZombieUntilReapedBy(Reaper::kExitcode);
}

// ... or active_children() does (no longer listing it).
CONFORMANCE_TEST(Zombie, UntilActiveChildren,
                 "process.terminate.zombie_until_reaped") {
  ExpectZombieUntilReapedBy(Reaper::kActiveChildren);
}

}  // namespace
}  // namespace conformance
