// A signal storm in the parent: an interval timer fires every millisecond,
// caught by a handler that does nothing, installed without SA_RESTART so that
// every blocking call it interrupts fails with EINTR. join(), join(timeout),
// is_alive(), exitcode and start() give the same results as without it;
// join(timeout) neither returns before its timeout nor hangs.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "process/process.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::KillOnExit;

// Signals a storm must have delivered while the call under test ran.
constexpr int kTicks = 50;

std::optional<int> Exitcode(procspec::Process& p) {
  absl::StatusOr<std::optional<int>> code = p.exitcode();
  return code.ok() ? *code : std::optional<int>(-1000);
}

// join() blocked through kTicks signals returns once the child exits, with its
// exit code.
CONFORMANCE_TEST(SignalStorm, JoinIsNotDisturbed,
                 "robustness.signal_storm.results_unchanged") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(RobustnessBlockThenExit,
                      std::tuple{handshake.ChildSide(), 7});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<os::SignalStorm> storm,
                       os::SignalStorm::Start(absl::Milliseconds(1)));
  int ticks = 0;
  std::thread releaser([&] {
    ticks = AwaitStormTicks(*storm, kTicks);
    (void)handshake.Release();
  });
  const absl::Status joined = p.join();
  releaser.join();
  storm.reset();
  EXPECT_OK(joined);
  EXPECT_EQ(ticks, kTicks);
  EXPECT_EQ(Exitcode(p), std::optional<int>(7));
}

// join(timeout) under the storm returns after (not before) its timeout with
// the child still running; a timed-out join changes nothing.
CONFORMANCE_TEST(SignalStorm, JoinTimeoutKeepsItsDeadline,
                 "robustness.signal_storm.results_unchanged") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(RobustnessBlockThenExit,
                      std::tuple{handshake.ChildSide(), 8});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<os::SignalStorm> storm,
                       os::SignalStorm::Start(absl::Milliseconds(1)));
  const absl::Time before = absl::Now();
  const absl::Status by_seconds = p.join(0.2);
  const absl::Duration first = absl::Now() - before;
  const absl::Time middle = absl::Now();
  const absl::Status by_duration = p.join(absl::Milliseconds(200));
  const absl::Duration second = absl::Now() - middle;
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  const std::optional<int> running = Exitcode(p);
  storm.reset();
  EXPECT_OK(by_seconds);
  EXPECT_OK(by_duration);
  EXPECT_GE(first, absl::Milliseconds(200));
  EXPECT_GE(second, absl::Milliseconds(200));
  EXPECT_TRUE(alive);
  EXPECT_EQ(running, std::nullopt);
  ASSERT_OK(handshake.Release());
  ASSERT_OK(p.join());
  EXPECT_EQ(Exitcode(p), std::optional<int>(8));
}

// start(), is_alive(), exitcode, kill() and join() under the storm: the child
// is alive until killed, then reports -SIGKILL.
CONFORMANCE_TEST(SignalStorm, IsAliveAndKillAreNotDisturbed,
                 "robustness.signal_storm.results_unchanged") {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<os::SignalStorm> storm,
                       os::SignalStorm::Start(absl::Milliseconds(1)));
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(RobustnessBlockThenExit,
                      std::tuple{handshake.ChildSide(), 9});
  KillOnExit guard(p);
  const absl::Status started = p.start();
  ASSERT_OK(started);
  ASSERT_OK(handshake.WaitReady());
  // Polls while kTicks signals arrive: every answer is "running".
  int ticks = 0, polls = 0, wrong = 0;
  while (ticks < kTicks) {
    absl::StatusOr<bool> alive = p.is_alive();
    if (!alive.ok() || !*alive || Exitcode(p).has_value()) ++wrong;
    ++polls;
    const platform::NativeHandle handles[] = {storm->ticks()};
    absl::StatusOr<std::vector<std::size_t>> ready =
        platform::WaitReadable(handles, absl::InfinitePast());
    if (ready.ok() && !ready->empty()) {
      absl::StatusOr<std::string> bytes =
          platform::ReadSome(storm->ticks(), 64);
      if (bytes.ok()) ticks += static_cast<int>(bytes->size());
    }
  }
  ASSERT_OK(p.kill());
  const absl::Status joined = p.join();
  ASSERT_OK_AND_ASSIGN(bool alive_after, p.is_alive());
  const std::optional<int> exitcode = Exitcode(p);
  storm.reset();
  EXPECT_EQ(wrong, 0) << "of " << polls << " polls";
  EXPECT_OK(joined);
  EXPECT_FALSE(alive_after);
  EXPECT_EQ(exitcode, std::optional<int>(-os::KillSignalNumber()));
}

}  // namespace
}  // namespace conformance::robustness
