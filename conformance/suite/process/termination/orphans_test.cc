// What terminate() and a SIGKILLed parent leave behind: the terminated child is
// a zombie while its own children (daemonic or not) keep running as orphans,
// and only the opt-in die_with_parent makes a child die with its parent. The
// test process is a child subreaper, so orphans re-parent to it and it can
// watch and reap them. Targets are registered functions, so the tests run
// under every start method; under forkserver the grandchild is forked by the
// fork server (its parent is the server, not the child that asked for it), so
// this process is not its ancestor and sees no re-parenting: those tests are
// N/A there, and die_with_parent is tested with a requester of its own.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/subreaper.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/orphan_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "process/context.h"
#include "process/forkserver.h"
#include "process/inherited_handle.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::BlockUntilKilled;
using ::conformance::testing::EventTimeout;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::OrphanGuard;
using ::conformance::testing::PidOf;
using ::conformance::testing::ReadPid;
using ::conformance::testing::SendLine;
using ::procspec::InheritedHandle;
using ::procspec::Pid;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using os::ProcessState;

constexpr int kSigterm = 15;
constexpr int kSigkill = 9;

// UNSUPPORTED under forkserver: the test watches a grandchild re-parent to
// this process.
absl::Status RequireGrandchildOfThisProcess() {
  if (StartMethod() != "forkserver") return absl::OkStatus();
  return Unsupported(
      "under forkserver the fork server forks the grandchild, so its parent "
      "is the server, not the child that started it: this process is not its "
      "ancestor and never sees it orphaned or re-parented");
}

// ---- Targets ----

// Sends its pid on `report` and blocks until killed, holding `alive` (a
// pipe's write end) open until it dies.
void OrphanBlockedGrandchild(InheritedHandle report, InheritedHandle alive) {
  (void)alive;
  SendLine(report.get(), absl::StrCat(platform::CurrentPid()));
  BlockUntilKilled();
}
PROCSPEC_TARGET(OrphanBlockedGrandchild);

// Starts OrphanBlockedGrandchild with daemon (-1: inherited, 0: False, 1:
// True) and die_with_parent, closes its own copy of `alive` so that only the
// grandchild holds one, and blocks until killed.
void OrphanParentOfBlockedGrandchild(InheritedHandle report,
                                     InheritedHandle alive, int daemon,
                                     bool die_with_parent) {
  procspec::Options options{.die_with_parent = die_with_parent};
  if (daemon >= 0) options.daemon = daemon == 1;
  procspec::Process grandchild(OrphanBlockedGrandchild,
                               std::tuple{report, alive}, std::move(options));
  if (!grandchild.start().ok()) procspec::Exit(1);
  platform::UniqueHandle(alive.get()).reset();
  BlockUntilKilled();
}
PROCSPEC_TARGET(OrphanParentOfBlockedGrandchild);

// A child of the test that starts a grandchild (daemon as in
// OrphanParentOfBlockedGrandchild); the grandchild sends its pid and blocks
// until killed, and so does the child. Only the grandchild holds the write end
// of alive() once it runs. When the scope ends the child is killed and joined,
// then the grandchild is killed and, once re-parented to this test, reaped.
class OrphanFamily {
 public:
  // Starts the child and waits for the grandchild's pid (ASSERTs: call it in
  // ASSERT_NO_FATAL_FAILURE).
  void Start(int daemon, bool die_with_parent = false) {
    ASSERT_OK_AND_ASSIGN(report_, platform::MakePipe());
    ASSERT_OK_AND_ASSIGN(alive_, platform::MakePipe());
    parent_ = std::make_unique<procspec::Process>(
        OrphanParentOfBlockedGrandchild,
        std::tuple{InheritedHandle(report_.write.get()),
                   InheritedHandle(alive_.write.get()), daemon,
                   die_with_parent});
    guard_.emplace(*parent_);
    ASSERT_OK(parent_->start());
    report_.write.reset();
    alive_.write.reset();
    ASSERT_OK_AND_ASSIGN(grandchild_, ReadPid(report_.read.get()));
    orphan_.Watch(grandchild_);
  }

  procspec::Process& parent() { return *parent_; }
  Pid grandchild() const { return grandchild_; }
  // The read end of a pipe whose only writer is the grandchild: end of file
  // once it has died.
  platform::NativeHandle alive() const { return alive_.read.get(); }

  // Kills the grandchild with `signal` and reaps it (it must be this test's
  // child by now); its exit status.
  absl::StatusOr<platform::ExitStatus> KillAndReapGrandchild(int signal) {
    if (absl::Status sent = os::SignalPid(grandchild_, signal); !sent.ok()) {
      return sent;
    }
    return ReapGrandchild();
  }
  absl::StatusOr<platform::ExitStatus> ReapGrandchild() {
    absl::StatusOr<platform::ExitStatus> status = os::ReapPid(grandchild_);
    if (status.ok()) orphan_.Forget();
    return status;
  }

 private:
  platform::PipeEnds report_;
  platform::PipeEnds alive_;
  OrphanGuard orphan_;  // runs after guard_: once the child has been reaped
  std::unique_ptr<procspec::Process> parent_;
  std::optional<KillOnExit> guard_;
  Pid grandchild_ = 0;
};

// terminate() does not touch the child's own children: a grandchild keeps
// running, is re-parented to the nearest subreaper (this test) instead of being
// reaped by the terminated child, and the terminated child ends at once with
// -15 without first joining its non-daemonic child (no exit handling runs).
CONFORMANCE_TEST(Orphans, TerminateLeavesTheGrandchildRunningReparented,
                 "process.terminate.orphans_grandchildren",
                 "process.terminate.no_cleanup") {
  CONFORMANCE_REQUIRE(RequireGrandchildOfThisProcess());
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  OrphanFamily family;
  ASSERT_NO_FATAL_FAILURE(family.Start(/*daemon=*/0));
  procspec::Process& child = family.parent();
  const Pid grandchild = family.grandchild();
  ASSERT_OK_AND_ASSIGN(Pid grandchild_parent, os::ParentOf(grandchild));
  EXPECT_EQ(grandchild_parent, PidOf(child));

  ASSERT_OK(child.terminate());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -15);
  EXPECT_EQ(os::StateOf(grandchild), ProcessState::kRunning);
  ASSERT_OK_AND_ASSIGN(grandchild_parent, os::ParentOf(grandchild));
  EXPECT_EQ(grandchild_parent, platform::CurrentPid());

  // This test, not the terminated child, reaps the orphan.
  ASSERT_OK_AND_ASSIGN(platform::ExitStatus status,
                       family.KillAndReapGrandchild(kSigkill));
  EXPECT_EQ(status,
            (platform::ExitStatus{.signaled = true, .value = kSigkill}));
}

// The seed's "its child becomes a zombie" corrected: after terminate() the
// zombie is the terminated child itself, while its own child runs on.
CONFORMANCE_TEST(Zombie, TheTerminatedChildIsTheZombieNotItsChild,
                 "process.terminate.zombie_until_reaped",
                 "process.terminate.orphans_grandchildren") {
  CONFORMANCE_REQUIRE(RequireGrandchildOfThisProcess());
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  OrphanFamily family;
  ASSERT_NO_FATAL_FAILURE(family.Start(/*daemon=*/-1));
  procspec::Process& child = family.parent();
  const Pid grandchild = family.grandchild();

  ASSERT_OK(child.terminate());
  ASSERT_OK(os::AwaitExitWithoutReaping(PidOf(child)));
  EXPECT_EQ(os::StateOf(PidOf(child)), ProcessState::kZombie);
  EXPECT_EQ(os::StateOf(grandchild), ProcessState::kRunning);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(child));
  EXPECT_EQ(exitcode, -15);
  EXPECT_EQ(os::StateOf(grandchild), ProcessState::kRunning);
}

// The seed's "when p's parent ends, p ends too" corrected: a parent killed by
// SIGKILL runs no exit handling, so its child - daemonic or not - keeps
// running, re-parented to the nearest subreaper (this test), which finally
// reaps it.
void ExpectGrandchildSurvivesSigkilledParent(bool daemon) {
  CONFORMANCE_REQUIRE(RequireGrandchildOfThisProcess());
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  OrphanFamily family;
  ASSERT_NO_FATAL_FAILURE(family.Start(daemon ? 1 : 0));
  const Pid grandchild = family.grandchild();

  ASSERT_OK(family.parent().kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(family.parent()));
  EXPECT_EQ(exitcode, -9);
  EXPECT_EQ(os::StateOf(grandchild), ProcessState::kRunning);
  ASSERT_OK_AND_ASSIGN(Pid new_parent, os::ParentOf(grandchild));
  EXPECT_EQ(new_parent, platform::CurrentPid());

  ASSERT_OK_AND_ASSIGN(platform::ExitStatus status,
                       family.KillAndReapGrandchild(kSigterm));
  EXPECT_EQ(status,
            (platform::ExitStatus{.signaled = true, .value = kSigterm}));
}

// A daemonic child outlives its SIGKILLed parent.
CONFORMANCE_TEST(SigkilledParent, DaemonicChildKeepsRunning,
                 "process.daemon.survives_sigkilled_parent") {
  ExpectGrandchildSurvivesSigkilledParent(/*daemon=*/true);
}

// So does a non-daemonic one.
CONFORMANCE_TEST(SigkilledParent, NonDaemonicChildKeepsRunning,
                 "process.daemon.survives_sigkilled_parent") {
  ExpectGrandchildSurvivesSigkilledParent(/*daemon=*/false);
}

// Starts OrphanBlockedGrandchild with die_with_parent under the forkserver
// start method (whose server, a child of this process, forks it), sends the
// server's pid on `server_report`, closes its own copy of `alive` and blocks
// until killed.
void DieWithParentRequester(InheritedHandle report, InheritedHandle alive,
                            InheritedHandle server_report) {
  procspec::Process grandchild(
      OrphanBlockedGrandchild, std::tuple{report, alive},
      {.die_with_parent = true,
       .context = *procspec::get_context("forkserver")});
  if (!grandchild.start().ok()) procspec::Exit(1);
  SendLine(server_report.get(),
           absl::StrCat(procspec::forkserver::server_pid().value_or(0)));
  platform::UniqueHandle(alive.get()).reset();
  BlockUntilKilled();
}
PROCSPEC_TARGET(DieWithParentRequester);

// Under forkserver the die_with_parent child's parent is a fork server, not
// the process that asked for it, and it must die with the latter. The family:
// this test -> requester (started by fork, so that it is this test's child)
// -> grandchild (forked by the requester's own fork server). SIGKILL the
// requester: its server ends at its channel's end of file (re-parented to this
// test, which reaps it), and the grandchild dies, seen as end of file on a
// pipe only it holds. Whoever is its parent when it dies reaps it: the server,
// or this test once the server has gone.
void ExpectForkServedChildDiesWithSigkilledRequester() {
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds report, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds alive, platform::MakePipe());
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds server_report, platform::MakePipe());
  // Destroyed after the requester is killed and joined (KillOnExit below), so
  // that what they kill is re-parented to this test by then.
  OrphanGuard orphan, orphaned_server;
  procspec::Process requester(
      DieWithParentRequester,
      std::tuple{InheritedHandle(report.write.get()),
                 InheritedHandle(alive.write.get()),
                 InheritedHandle(server_report.write.get())},
      {.context = *procspec::get_context("fork")});
  KillOnExit guard(requester);
  ASSERT_OK(requester.start());
  report.write.reset();
  alive.write.reset();
  server_report.write.reset();
  ASSERT_OK_AND_ASSIGN(const Pid grandchild, ReadPid(report.read.get()));
  orphan.Watch(grandchild);
  ASSERT_OK_AND_ASSIGN(const Pid server, ReadPid(server_report.read.get()));
  ASSERT_GT(server, 0);
  orphaned_server.Watch(server);
  ASSERT_OK_AND_ASSIGN(Pid grandchild_parent, os::ParentOf(grandchild));
  EXPECT_EQ(grandchild_parent, server);

  ASSERT_OK(requester.kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(requester));
  EXPECT_EQ(exitcode, -9);
  const platform::NativeHandle handles[] = {alive.read.get()};
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::size_t> ready,
      platform::WaitReadable(handles, absl::Now() + EventTimeout()));
  ASSERT_EQ(ready.size(), 1u)
      << "the die_with_parent child outlived its SIGKILLed requester";
  // The server exits 0 at its channel's end of file, as CPython's does.
  ASSERT_OK_AND_ASSIGN(platform::ExitStatus server_status, os::ReapPid(server));
  orphaned_server.Forget();
  EXPECT_EQ(server_status,
            (platform::ExitStatus{.signaled = false, .value = 0}));
  // Its children were re-parented to this test as it ended: the grandchild
  // is this test's zombie now, unless the server reaped it first.
  if (os::ParentOf(grandchild).value_or(0) == platform::CurrentPid()) {
    ASSERT_OK_AND_ASSIGN(platform::ExitStatus status, os::ReapPid(grandchild));
    EXPECT_EQ(status,
              (platform::ExitStatus{.signaled = true, .value = kSigkill}));
  }
  orphan.Forget();
}

// Opt-in, beyond CPython: a child started with die_with_parent is killed
// (SIGKILL) when its parent dies, even by SIGKILL. Its death is seen as end of
// file on a pipe only it holds; the orphaned zombie is reaped by this test.
CONFORMANCE_TEST(DieWithParent, ChildDiesWhenItsParentIsSigkilled,
                 "process.die_with_parent.opt_in") {
  if (StartMethod() == "forkserver") {
    ExpectForkServedChildDiesWithSigkilledRequester();
    return;
  }
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  OrphanFamily family;
  ASSERT_NO_FATAL_FAILURE(
      family.Start(/*daemon=*/-1, /*die_with_parent=*/true));

  ASSERT_OK(family.parent().kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(family.parent()));
  EXPECT_EQ(exitcode, -9);
  const platform::NativeHandle handles[] = {family.alive()};
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::size_t> ready,
      platform::WaitReadable(handles, absl::Now() + EventTimeout()));
  ASSERT_EQ(ready.size(), 1u)
      << "the die_with_parent child outlived its SIGKILLed parent";
  ASSERT_OK_AND_ASSIGN(platform::ExitStatus status, family.ReapGrandchild());
  EXPECT_EQ(status,
            (platform::ExitStatus{.signaled = true, .value = kSigkill}));
}

// The control for the test above: the same family without the option leaves
// the grandchild running after the parent's SIGKILL (the pipe it holds stays
// open), so die_with_parent is what kills it.
CONFORMANCE_TEST(DieWithParent, ControlOffByDefaultTheChildSurvives,
                 "process.die_with_parent.opt_in",
                 "process.daemon.survives_sigkilled_parent") {
  CONFORMANCE_REQUIRE(RequireGrandchildOfThisProcess());
  CONFORMANCE_REQUIRE(BecomeChildSubreaper());
  OrphanFamily family;
  ASSERT_NO_FATAL_FAILURE(family.Start(/*daemon=*/-1));

  ASSERT_OK(family.parent().kill());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinSoon(family.parent()));
  EXPECT_EQ(exitcode, -9);
  const platform::NativeHandle handles[] = {family.alive()};
  ASSERT_OK_AND_ASSIGN(std::vector<std::size_t> ready,
                       platform::WaitReadable(handles, absl::InfinitePast()));
  EXPECT_TRUE(ready.empty());
  EXPECT_EQ(os::StateOf(family.grandchild()), ProcessState::kRunning);
  ASSERT_OK_AND_ASSIGN(platform::ExitStatus status,
                       family.KillAndReapGrandchild(kSigkill));
  EXPECT_EQ(status,
            (platform::ExitStatus{.signaled = true, .value = kSigkill}));
}

}  // namespace
}  // namespace conformance
