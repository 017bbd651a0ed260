// A signal storm in the parent (as signal_storm_test.cc: an interval timer
// every millisecond, a handler installed without SA_RESTART) while it waits in
// Lock.acquire, Queue.get and Connection.recv/poll: the results are those
// without the storm, a timed wait neither returns before its timeout nor
// hangs, and an untimed one returns when the child acts.
#include <memory>
#include <optional>
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
#include "platform/testing/fault_injection.h"
#include "process/connection.h"
#include "process/errors.h"
#include "process/process.h"
#include "process/queue.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace os = ::procspec::platform::testing;
using ::conformance::testing::KillOnExit;

// Signals a storm must have delivered, counted from its start, before the
// child is released: ~200 during the timed wait, then ~100 during the untimed
// one.
constexpr int kStormTicks = 300;

std::optional<int> ExitcodeOf(procspec::Process& p) {
  absl::StatusOr<std::optional<int>> code = p.exitcode();
  return code.ok() ? *code : std::optional<int>(-1000);
}

// Holds `lock` until released, then releases it: exit 10 + step on a failure.
void StormLockHolder(procspec::Lock lock, HandshakeChild handshake) {
  if (!lock.acquire()) procspec::Exit(10);
  if (!handshake.SignalReady().ok()) procspec::Exit(11);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(12);
  if (!lock.release().ok()) procspec::Exit(13);
}
PROCSPEC_TARGET(StormLockHolder);

// Once released, puts 42 on `q`: exit 10 + step on a failure.
void StormQueuePutter(procspec::Queue q, HandshakeChild handshake) {
  if (!handshake.SignalReady().ok()) procspec::Exit(10);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(11);
  if (!q.put(42).ok()) procspec::Exit(12);
}
PROCSPEC_TARGET(StormQueuePutter);

// Once released, sends 43 on `conn`: exit 10 + step on a failure.
void StormConnectionSender(procspec::Connection conn,
                           HandshakeChild handshake) {
  if (!handshake.SignalReady().ok()) procspec::Exit(10);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(11);
  if (!conn.send(43).ok()) procspec::Exit(12);
}
PROCSPEC_TARGET(StormConnectionSender);

// acquire(timeout) of a lock a child holds: false, not before the timeout;
// acquire() then returns true once the child, released after kStormTicks
// signals, releases the lock.
CONFORMANCE_TEST(SignalStorm, LockAcquireIsNotDisturbed,
                 "robustness.signal_storm.results_unchanged") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(StormLockHolder, std::tuple{lock, handshake.ChildSide()});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<os::SignalStorm> storm,
                       os::SignalStorm::Start(absl::Milliseconds(1)));
  const absl::Time before = absl::Now();
  const bool timed = lock.acquire(true, 0.2);
  const absl::Duration waited = absl::Now() - before;
  int ticks = 0;
  std::thread releaser([&] {
    ticks = AwaitStormTicks(*storm, kStormTicks);
    (void)handshake.Release();
  });
  const bool untimed = lock.acquire();
  releaser.join();
  storm.reset();
  EXPECT_FALSE(timed);
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_TRUE(untimed);
  EXPECT_EQ(ticks, kStormTicks);
  if (untimed) {
    EXPECT_OK(lock.release());
  }
  ASSERT_OK(p.join());
  EXPECT_EQ(ExitcodeOf(p), std::optional<int>(0));
}

// get(timeout) of an empty queue: queue.Empty, not before the timeout; get()
// then returns the item a child puts after kStormTicks signals.
CONFORMANCE_TEST(SignalStorm, QueueGetIsNotDisturbed,
                 "robustness.signal_storm.results_unchanged") {
  ASSERT_OK_AND_ASSIGN(procspec::Queue q, procspec::Queue::Create());
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(StormQueuePutter, std::tuple{q, handshake.ChildSide()});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<os::SignalStorm> storm,
                       os::SignalStorm::Start(absl::Milliseconds(1)));
  const absl::Time before = absl::Now();
  const absl::Status timed = q.get<int>(true, 0.2).status();
  const absl::Duration waited = absl::Now() - before;
  int ticks = 0;
  std::thread releaser([&] {
    ticks = AwaitStormTicks(*storm, kStormTicks);
    (void)handshake.Release();
  });
  const absl::StatusOr<int> got = q.get<int>();
  releaser.join();
  storm.reset();
  EXPECT_EQ(procspec::PythonExceptionType(timed), "Empty") << timed;
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_EQ(got.value_or(-1), 42) << got.status();
  EXPECT_EQ(ticks, kStormTicks);
  ASSERT_OK(p.join());
  EXPECT_EQ(ExitcodeOf(p), std::optional<int>(0));
}

// poll(timeout) with nothing sent: false, not before the timeout; recv() then
// returns the value a child sends after kStormTicks signals.
CONFORMANCE_TEST(SignalStorm, ConnectionRecvIsNotDisturbed,
                 "robustness.signal_storm.results_unchanged") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(StormConnectionSender,
                      std::tuple{writer, handshake.ChildSide()});
  KillOnExit guard(p);
  ASSERT_OK(p.start());
  writer.close();
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<os::SignalStorm> storm,
                       os::SignalStorm::Start(absl::Milliseconds(1)));
  const absl::Time before = absl::Now();
  const absl::StatusOr<bool> polled = reader.poll(0.2);
  const absl::Duration waited = absl::Now() - before;
  int ticks = 0;
  std::thread releaser([&] {
    ticks = AwaitStormTicks(*storm, kStormTicks);
    (void)handshake.Release();
  });
  const absl::StatusOr<int> got = reader.recv<int>();
  releaser.join();
  storm.reset();
  EXPECT_EQ(polled.value_or(true), false) << polled.status();
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_EQ(got.value_or(-1), 43) << got.status();
  EXPECT_EQ(ticks, kStormTicks);
  ASSERT_OK(p.join());
  EXPECT_EQ(ExitcodeOf(p), std::optional<int>(0));
}

}  // namespace
}  // namespace conformance::robustness
