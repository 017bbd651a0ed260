// Lock and RLock across processes: mutual exclusion, timeouts, the errors of
// release(), a Lock's lack of an owner and an RLock's recursion. Children are
// registered targets that get the lock as a Process argument, so every test
// runs under fork, spawn and forkserver; they report by exit code or through a
// pipe, and hold a lock until the parent releases (Handshake) or kills them.
//
// The seed: multiprocessing ...
// 执行不同形式的同步，提供了Process、Queue、Pipe、Lock等组件。
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/sync/sync_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::sync_testing::Describe;
using ::conformance::sync_testing::ReportingChild;
using ::conformance::sync_testing::RunToExitcode;
using ::conformance::sync_testing::StartAndJoin;
using ::conformance::sync_testing::TimeOf;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::SendLine;
using ::procspec::InheritedHandle;
namespace platform = ::procspec::platform;

// ---- Targets ----

// Reports acquire(false) ("try=0"/"try=1"), then acquires blocking, reports
// "acquired" and releases (exit 2 if the release fails).
void SyncLockTryThenWait(procspec::Lock lock, InheritedHandle out) {
  SendLine(out.get(), lock.acquire(false) ? "try=1" : "try=0");
  if (!lock.acquire()) procspec::Exit(1);
  SendLine(out.get(), "acquired");
  if (!lock.release().ok()) procspec::Exit(2);
}
PROCSPEC_TARGET(SyncLockTryThenWait);

// Acquires `lock` (exit 1 if it cannot at once), signals ready, waits for the
// parent's release, then releases the lock (exit 2 if that fails).
template <typename L>
void HoldUntilReleased(L lock, HandshakeChild handshake) {
  if (!lock.acquire(false)) procspec::Exit(1);
  if (!handshake.SignalReady().ok()) procspec::Exit(3);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(4);
  if (!lock.release().ok()) procspec::Exit(2);
}
void SyncHoldLock(procspec::Lock lock, HandshakeChild handshake) {
  HoldUntilReleased(lock, handshake);
}
PROCSPEC_TARGET(SyncHoldLock);
void SyncHoldRLock(procspec::RLock lock, HandshakeChild handshake) {
  HoldUntilReleased(lock, handshake);
}
PROCSPEC_TARGET(SyncHoldRLock);

// Sends what release() says.
void SyncLockReleaseReport(procspec::Lock lock, InheritedHandle out) {
  SendLine(out.get(), Describe(lock.release()));
}
PROCSPEC_TARGET(SyncLockReleaseReport);

// Sends what release() says, then acquire(false) ("try=0"/"try=1").
void SyncRLockReleaseReport(procspec::RLock lock, InheritedHandle out) {
  SendLine(out.get(), Describe(lock.release()));
  SendLine(out.get(), lock.acquire(false) ? "try=1" : "try=0");
}
PROCSPEC_TARGET(SyncRLockReleaseReport);

// Exit 1 if acquire(false) succeeds (then releases it), 0 if not.
void SyncRLockProbe(procspec::RLock lock) {
  if (!lock.acquire(false)) procspec::Exit(0);
  (void)lock.release();
  procspec::Exit(1);
}
PROCSPEC_TARGET(SyncRLockProbe);

// Acquires the RLock three times (exit 1 if any fails) and releases it three
// times (exit 2); a fourth release fails with AssertionError (exit 3 if not).
void SyncRLockRecurse(procspec::RLock lock) {
  for (int i = 0; i < 3; ++i)
    if (!lock.acquire(true, 10)) procspec::Exit(1);
  for (int i = 0; i < 3; ++i)
    if (!lock.release().ok()) procspec::Exit(2);
  if (procspec::PythonExceptionType(lock.release()) != "AssertionError")
    procspec::Exit(3);
}
PROCSPEC_TARGET(SyncRLockRecurse);

// ---- Helpers ----

// A started child that holds a lock (SyncHoldLock, SyncHoldRLock) until the
// parent releases it; killed when this goes out of scope if it still runs.
class Holder {
 public:
  // Starts `target(lock, handshake)` and waits until it holds `lock`.
  template <typename Target, typename L>
  static absl::StatusOr<std::unique_ptr<Holder>> Start(Target target, L lock) {
    absl::StatusOr<Handshake> handshake = Handshake::Create();
    if (!handshake.ok()) return handshake.status();
    std::unique_ptr<Holder> holder(
        new Holder(*std::move(handshake), std::move(target), std::move(lock)));
    if (absl::Status status = holder->process_.start(); !status.ok()) {
      return status;
    }
    if (absl::Status status = holder->handshake_.WaitReady(); !status.ok()) {
      return status;
    }
    return holder;
  }

  // Lets the child release the lock, joins it and returns its exit code.
  absl::StatusOr<int> ReleaseAndJoin() {
    if (absl::Status status = handshake_.Release(); !status.ok()) {
      return status;
    }
    return JoinSoon(process_);
  }

 private:
  template <typename Target, typename L>
  Holder(Handshake handshake, Target target, L lock)
      : handshake_(std::move(handshake)),
        process_(std::move(target),
                 std::tuple{std::move(lock), handshake_.ChildSide()}),
        guard_(process_) {}

  Handshake handshake_;
  procspec::Process process_;
  KillOnExit guard_;
};

// ---- Tests ----

// A Lock passed to a child is the same lock: while the parent holds it the
// child's acquire(False) is False and its blocking acquire() waits; the
// parent's release() lets it through.
CONFORMANCE_TEST(Lock, ExcludesAnotherProcessUntilReleased,
                 "sync.lock.acquire_release", "sync.handles.process_argument") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_TRUE(lock.acquire());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> child,
                       ReportingChild::Start(SyncLockTryThenWait, lock));
  ASSERT_OK_AND_ASSIGN(std::string line, child->ReadLine());
  EXPECT_EQ(line, "try=0");
  ASSERT_OK(lock.release());
  ASSERT_OK_AND_ASSIGN(line, child->ReadLine());
  EXPECT_EQ(line, "acquired");
  ASSERT_OK_AND_ASSIGN(int exitcode, child->Join());
  EXPECT_EQ(exitcode, 0);
  // The child released it again.
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
}

// acquire(timeout=t) on a Lock another process holds returns False, and not
// before t has passed; once the holder releases it, it succeeds.
CONFORMANCE_TEST(Lock, TimeoutReturnsFalseNotBeforeItPassed,
                 "sync.lock.timeout") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Holder> holder,
                       Holder::Start(SyncHoldLock, lock));
  bool acquired = true;
  const absl::Duration took =
      TimeOf([&] { acquired = lock.acquire(true, 0.2); });
  EXPECT_FALSE(acquired);
  EXPECT_GE(took, absl::Milliseconds(200));
  ASSERT_OK_AND_ASSIGN(int exitcode, holder->ReleaseAndJoin());
  EXPECT_EQ(exitcode, 0);
  EXPECT_TRUE(lock.acquire(true, 10));
  EXPECT_OK(lock.release());
}

// A negative timeout counts as 0: acquire(timeout=-1) on a Lock another
// process holds is False at once, and on a free Lock True. With block=False
// the timeout is ignored.
CONFORMANCE_TEST(Lock, NegativeTimeoutIsFalseAtOnce,
                 "sync.lock.negative_timeout") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Holder> holder,
                       Holder::Start(SyncHoldLock, lock));
  EXPECT_FALSE(lock.acquire(true, -1));
  EXPECT_FALSE(lock.acquire(true, -1e9));
  EXPECT_FALSE(lock.acquire(false, 1e9)) << "block=False ignores the timeout";
  EXPECT_FALSE(lock.try_lock());
  ASSERT_OK_AND_ASSIGN(int exitcode, holder->ReleaseAndJoin());
  EXPECT_EQ(exitcode, 0);
  EXPECT_TRUE(lock.acquire(true, -1));
  EXPECT_OK(lock.release());
}

// Releasing a Lock nobody holds fails with ValueError "semaphore or lock
// released too many times", in the parent and in a child, and leaves it
// unlocked.
CONFORMANCE_TEST(Lock, ReleaseWhenUnlockedIsValueError,
                 "sync.lock.release_unheld_error") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  EXPECT_PYTHON_ERROR(lock.release(), "ValueError",
                      "semaphore or lock released too many times");
  ASSERT_TRUE(lock.acquire());
  EXPECT_OK(lock.release());
  EXPECT_PYTHON_ERROR(lock.release(), "ValueError",
                      "semaphore or lock released too many times");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> child,
                       ReportingChild::Start(SyncLockReleaseReport, lock));
  ASSERT_OK_AND_ASSIGN(std::string line, child->ReadLine());
  EXPECT_EQ(line, "ValueError: semaphore or lock released too many times");
  ASSERT_OK_AND_ASSIGN(int exitcode, child->Join());
  EXPECT_EQ(exitcode, 0);
  // Still exactly one acquire available.
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_OK(lock.release());
}

// A Lock has no owner: a child may release the Lock the parent acquired, and
// the parent can then acquire it again.
CONFORMANCE_TEST(Lock, HasNoOwnerAnotherProcessMayReleaseIt,
                 "sync.lock.no_owner") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_TRUE(lock.acquire());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> child,
                       ReportingChild::Start(SyncLockReleaseReport, lock));
  ASSERT_OK_AND_ASSIGN(std::string line, child->ReadLine());
  EXPECT_EQ(line, "OK");
  ASSERT_OK_AND_ASSIGN(int exitcode, child->Join());
  EXPECT_EQ(exitcode, 0);
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
  // Another thread may release it too.
  ASSERT_TRUE(lock.acquire());
  absl::Status from_thread;
  std::thread([&] { from_thread = lock.release(); }).join();
  EXPECT_OK(from_thread);
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
}

// An RLock's owner may acquire it again; it stays held, for other processes,
// until released as many times as acquired. A child does the same with its
// copy, and a release past the count fails there.
CONFORMANCE_TEST(RLock, OwnerRecursesAndReleasesAsManyTimes,
                 "sync.rlock.recursion") {
  ASSERT_OK_AND_ASSIGN(procspec::RLock lock, procspec::RLock::Create());
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(lock.acquire(false));
  ASSERT_TRUE(lock.acquire(true, 0));
  const auto probe = [&]() -> int {
    procspec::Process child(SyncRLockProbe, std::tuple{lock});
    return RunToExitcode(child);
  };
  EXPECT_EQ(probe(), 0) << "held three times";
  ASSERT_OK(lock.release());
  ASSERT_OK(lock.release());
  EXPECT_EQ(probe(), 0) << "still held once";
  ASSERT_OK(lock.release());
  EXPECT_EQ(probe(), 1) << "released as many times as acquired";
  EXPECT_PYTHON_ERROR(lock.release(), "AssertionError",
                      "attempt to release recursive lock not owned by thread");

  procspec::Process child(SyncRLockRecurse, std::tuple{lock});
  ASSERT_OK_AND_ASSIGN(int exitcode, StartAndJoin(child));
  EXPECT_EQ(exitcode, 0);
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
}

// An RLock belongs to the process and thread that acquired it: another
// process's (or thread's) release() fails with AssertionError "attempt to
// release recursive lock not owned by thread" and the lock stays held.
CONFORMANCE_TEST(RLock, ReleaseByNonOwnerIsAssertionError,
                 "sync.rlock.non_owner_release_error") {
  ASSERT_OK_AND_ASSIGN(procspec::RLock lock, procspec::RLock::Create());
  ASSERT_TRUE(lock.acquire());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ReportingChild> child,
                       ReportingChild::Start(SyncRLockReleaseReport, lock));
  ASSERT_OK_AND_ASSIGN(std::string line, child->ReadLine());
  EXPECT_EQ(line,
            "AssertionError: attempt to release recursive lock not owned by "
            "thread");
  ASSERT_OK_AND_ASSIGN(line, child->ReadLine());
  EXPECT_EQ(line, "try=0") << "the failed release left it held";
  ASSERT_OK_AND_ASSIGN(int exitcode, child->Join());
  EXPECT_EQ(exitcode, 0);

  absl::Status from_thread;
  bool thread_acquired = true;
  std::thread([&] {
    from_thread = lock.release();
    thread_acquired = lock.acquire(false);
  }).join();
  EXPECT_PYTHON_ERROR(from_thread, "AssertionError",
                      "attempt to release recursive lock not owned by thread");
  EXPECT_FALSE(thread_acquired);
  EXPECT_OK(lock.release());

  // Held by a child: the parent's release fails the same way.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Holder> holder,
                       Holder::Start(SyncHoldRLock, lock));
  EXPECT_PYTHON_ERROR(lock.release(), "AssertionError",
                      "attempt to release recursive lock not owned by thread");
  EXPECT_FALSE(lock.acquire(false));
  ASSERT_OK_AND_ASSIGN(exitcode, holder->ReleaseAndJoin());
  EXPECT_EQ(exitcode, 0);
}

// scoped use: std::scoped_lock acquires and releases (Lock and RLock are
// BasicLockable), as `with lock:` does.
CONFORMANCE_TEST(Lock, ScopedUseAcquiresAndReleases,
                 "sync.lock.acquire_release") {
  ASSERT_OK_AND_ASSIGN(procspec::Lock lock, procspec::Lock::Create());
  ASSERT_OK_AND_ASSIGN(procspec::RLock rlock, procspec::RLock::Create());
  bool rlock_free_elsewhere = true;
  {
    std::scoped_lock hold(lock, rlock);
    EXPECT_FALSE(lock.acquire(false));
    std::thread([&] { rlock_free_elsewhere = rlock.acquire(false); }).join();
  }
  EXPECT_FALSE(rlock_free_elsewhere);
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_OK(lock.release());
  bool acquired_elsewhere = false;
  absl::Status released_elsewhere;
  std::thread([&] {
    acquired_elsewhere = rlock.acquire(false);
    released_elsewhere = rlock.release();
  }).join();
  EXPECT_TRUE(acquired_elsewhere);
  EXPECT_OK(released_elsewhere);
}

}  // namespace
}  // namespace conformance
