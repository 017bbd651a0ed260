// A waiter killed (SIGKILL or terminate()) while it is blocked in
// Event.wait() or Condition.wait() wedges nobody: afterwards is_set(),
// wait(timeout), set(), notify() and notify_all() in other processes return,
// timeouts hold, and the next notification reaches a live waiter instead of
// being used up by the dead one.
//
// The waiter is known to be blocked: a test-only hook
// (sync_internal::SetWaitBlockingHook) signals the handshake from inside
// wait(), once the waiter counts as waiting and just before it blocks. What
// may hang on a regression runs in a checker child that the test joins with a
// deadline, so a hang is a failure, not a stuck test.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

// The handshake the hook signals, in a waiter child.
HandshakeChild* g_blocking_handshake = nullptr;

void SignalBlocking() {
  if (g_blocking_handshake == nullptr) return;
  (void)g_blocking_handshake->SignalReady();
  g_blocking_handshake = nullptr;  // Once: a later wait() is not announced.
}

void ArmHook(HandshakeChild& handshake) {
  g_blocking_handshake = &handshake;
  procspec::sync_internal::SetWaitBlockingHook(SignalBlocking);
}

// Waiters: signal the handshake once blocked in wait(); exit 0 when woken
// (as notified or set), 1 otherwise.
void KilledWaiterOnEvent(procspec::Event event, HandshakeChild handshake) {
  ArmHook(handshake);
  procspec::Exit(event.wait() ? 0 : 1);
}
PROCSPEC_TARGET(KilledWaiterOnEvent);

void KilledWaiterOnCondition(procspec::Condition cond,
                             HandshakeChild handshake) {
  ArmHook(handshake);
  if (!cond.acquire(true, 30)) procspec::Exit(2);
  absl::StatusOr<bool> notified = cond.wait();
  procspec::Exit(notified.ok() && *notified ? 0 : 1);
}
PROCSPEC_TARGET(KilledWaiterOnCondition);

// A waiter that is killed while it holds the Event's internal lock (the
// mutex of its table of waiters): it signals the handshake from there and
// blocks until killed.
void SignalThenBlock() {
  SignalBlocking();
  BlockUntilKilled();
}

void WaiterKilledHoldingEventLock(procspec::Event event,
                                  HandshakeChild handshake) {
  g_blocking_handshake = &handshake;
  procspec::sync_internal::SetWaitTableLockedHook(SignalThenBlock);
  procspec::Exit(event.wait() ? 0 : 1);
}
PROCSPEC_TARGET(WaiterKilledHoldingEventLock);

// Checkers: one line per step, written as soon as the step returns, so that a
// checker stuck in a step shows which.
void Step(const InheritedHandle& out, const std::string& line) {
  (void)platform::WriteAll(out.get(), absl::StrCat(line, "\n"));
}

std::string Took(absl::Time start) {
  return absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - start));
}

// is_set(), wait(0.1), then set() (which must wake the live waiter), is_set().
void CheckEventAfterKill(procspec::Event event, InheritedHandle out) {
  Step(out, absl::StrCat("is_set=", event.is_set() ? 1 : 0));
  const absl::Time start = absl::Now();
  const bool waited = event.wait(0.1);
  Step(out, absl::StrCat("wait=", waited ? 1 : 0, " ms=", Took(start)));
  event.set();
  Step(out, "set=returned");
  Step(out, absl::StrCat("is_set_after=", event.is_set() ? 1 : 0));
  procspec::Exit(0);
}
PROCSPEC_TARGET(CheckEventAfterKill);

// acquire, wait(0.1), notify() (which must wake the live waiter),
// notify_all(), release.
void CheckConditionAfterKill(procspec::Condition cond, InheritedHandle out) {
  Step(out, absl::StrCat("acquire=", cond.acquire(true, 5) ? 1 : 0));
  const absl::Time start = absl::Now();
  absl::StatusOr<bool> waited = cond.wait(0.1);
  Step(out, absl::StrCat("wait=", waited.ok() ? (*waited ? "1" : "0") : "error",
                         " ms=", Took(start)));
  Step(out, absl::StrCat("notify=", cond.notify().ok() ? "ok" : "error"));
  Step(out,
       absl::StrCat("notify_all=", cond.notify_all().ok() ? "ok" : "error"));
  Step(out, absl::StrCat("release=", cond.release().ok() ? "ok" : "error"));
  procspec::Exit(0);
}
PROCSPEC_TARGET(CheckConditionAfterKill);

enum class Kind { kEvent, kCondition };
enum class Death { kKill, kTerminate };

// Joins `p` for at most `timeout` (scaled); false if it is still running.
bool JoinedWithin(procspec::Process& p, absl::Duration timeout) {
  if (!p.join(ScaledTimeout(timeout)).ok()) return false;
  absl::StatusOr<std::optional<int>> code = p.exitcode();
  return code.ok() && code->has_value();
}

template <typename Object>
void ExpectKilledWaiterWedgesNobody(Kind kind, Death death,
                                    const Object& object,
                                    bool holding_lock = false) {
  // The waiter that dies.
  ASSERT_OK_AND_ASSIGN(Handshake first, Handshake::Create());
  std::optional<procspec::Process> doomed;
  if constexpr (std::is_same_v<Object, procspec::Event>) {
    if (holding_lock) {
      doomed.emplace(WaiterKilledHoldingEventLock,
                     std::tuple{object, first.ChildSide()});
    } else {
      doomed.emplace(KilledWaiterOnEvent,
                     std::tuple{object, first.ChildSide()});
    }
  } else {
    doomed.emplace(KilledWaiterOnCondition,
                   std::tuple{object, first.ChildSide()});
  }
  KillOnExit doomed_guard(*doomed);
  ASSERT_OK(doomed->start());
  ASSERT_OK(first.WaitReady());
  if (death == Death::kKill) {
    ASSERT_OK(doomed->kill());
  } else {
    ASSERT_OK(doomed->terminate());
  }
  ASSERT_OK(doomed->join());

  // A live waiter, blocked before the checker runs.
  ASSERT_OK_AND_ASSIGN(Handshake second, Handshake::Create());
  std::optional<procspec::Process> live;
  if constexpr (std::is_same_v<Object, procspec::Event>) {
    live.emplace(KilledWaiterOnEvent, std::tuple{object, second.ChildSide()});
  } else {
    live.emplace(KilledWaiterOnCondition,
                 std::tuple{object, second.ChildSide()});
  }
  KillOnExit live_guard(*live);
  ASSERT_OK(live->start());
  ASSERT_OK(second.WaitReady());

  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  std::optional<procspec::Process> checker;
  if constexpr (std::is_same_v<Object, procspec::Event>) {
    checker.emplace(CheckEventAfterKill,
                    std::tuple{object, InheritedHandle(pipe.write.get())});
  } else {
    checker.emplace(CheckConditionAfterKill,
                    std::tuple{object, InheritedHandle(pipe.write.get())});
  }
  KillOnExit checker_guard(*checker);
  ASSERT_OK(checker->start());
  pipe.write.reset();
  const bool checker_done = JoinedWithin(*checker, absl::Seconds(10));
  if (!checker_done) {
    ASSERT_OK(checker->kill());
  }
  ASSERT_OK_AND_ASSIGN(std::string steps, ReadToEnd(pipe.read.get()));
  EXPECT_TRUE(checker_done) << "the checker is stuck after:\n" << steps;
  ASSERT_OK(checker->join());
  ASSERT_OK_AND_ASSIGN(std::optional<int> code, checker->exitcode());
  EXPECT_EQ(code, 0) << steps;

  std::map<std::string, std::string> report;
  for (absl::string_view line : absl::StrSplit(steps, '\n')) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (!kv.first.empty()) report[kv.first] = kv.second;
  }
  if (kind == Kind::kEvent) {
    EXPECT_EQ(report["is_set"], "0") << steps;
    EXPECT_TRUE(absl::StartsWith(report["wait"], "0 ms=")) << steps;
    EXPECT_EQ(report["set"], "returned") << steps;
    EXPECT_EQ(report["is_set_after"], "1") << steps;
  } else {
    EXPECT_EQ(report["acquire"], "1") << steps;
    EXPECT_TRUE(absl::StartsWith(report["wait"], "0 ms=")) << steps;
    EXPECT_EQ(report["notify"], "ok") << steps;
    EXPECT_EQ(report["notify_all"], "ok") << steps;
    EXPECT_EQ(report["release"], "ok") << steps;
  }
  // wait(0.1) held its timeout: it returned, and not before 0.1 s.
  if (absl::StartsWith(report["wait"], "0 ms=")) {
    int ms = 0;
    ASSERT_TRUE(absl::SimpleAtoi(report["wait"].substr(5), &ms)) << steps;
    EXPECT_GE(ms, 100) << steps;
  }

  // The notification went to the live waiter, not to the dead one.
  const bool live_done = JoinedWithin(*live, absl::Seconds(10));
  EXPECT_TRUE(live_done) << "the live waiter was not woken";
  if (live_done) {
    ASSERT_OK_AND_ASSIGN(std::optional<int> live_code, live->exitcode());
    EXPECT_EQ(live_code, 0);
  }
}

CONFORMANCE_TEST(KilledWaiter, EventWaiterKilled,
                 "robustness.sync.killed_waiter") {
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  ExpectKilledWaiterWedgesNobody(Kind::kEvent, Death::kKill, event);
}

CONFORMANCE_TEST(KilledWaiter, EventWaiterTerminated,
                 "robustness.sync.killed_waiter") {
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  ExpectKilledWaiterWedgesNobody(Kind::kEvent, Death::kTerminate, event);
}

// Killed while it holds the Event's internal lock (CPython's Event would
// leave its Condition's Lock held for ever).
CONFORMANCE_TEST(KilledWaiter, EventWaiterKilledHoldingItsLock,
                 "robustness.sync.killed_waiter") {
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  ExpectKilledWaiterWedgesNobody(Kind::kEvent, Death::kKill, event,
                                 /*holding_lock=*/true);
}

CONFORMANCE_TEST(KilledWaiter, EventWaiterTerminatedHoldingItsLock,
                 "robustness.sync.killed_waiter") {
  ASSERT_OK_AND_ASSIGN(procspec::Event event, procspec::Event::Create());
  ExpectKilledWaiterWedgesNobody(Kind::kEvent, Death::kTerminate, event,
                                 /*holding_lock=*/true);
}

CONFORMANCE_TEST(KilledWaiter, ConditionWaiterKilled,
                 "robustness.sync.killed_waiter") {
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond, procspec::Condition::Create());
  ExpectKilledWaiterWedgesNobody(Kind::kCondition, Death::kKill, cond);
}

CONFORMANCE_TEST(KilledWaiter, ConditionWaiterTerminated,
                 "robustness.sync.killed_waiter") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(procspec::Condition cond,
                       procspec::Condition::Create(lock));
  ExpectKilledWaiterWedgesNobody(Kind::kCondition, Death::kTerminate, cond);
}

}  // namespace
}  // namespace conformance::robustness
