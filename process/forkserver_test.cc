// The forkserver start method, on every backend. This binary has its own
// main(), which calls procspec::Init with start_forkserver: the server of the
// backend current at Init is forked there, before any thread exists; the other
// backend's server (and any restarted server) is a fresh run of this binary.
// Children report through exit codes; no sleeps: children that block until
// killed or until their parent has gone.
#include "process/forkserver.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"
#include "process/connection.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/init.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace procspec {
namespace {

using testing::CheckSelf;
using testing::ExitWith;
using testing::ExitWithGlobal;
using testing::ExitWithSum;
using testing::g_global;
using ::testing::HasSubstr;
using testing::Throw;

// Set by main() before Init: a server forked by Init has these values.
platform::Pid g_prologue_pid = 0;
// The backend current at Init, and the server Init forked for it.
std::string g_init_backend;
std::optional<platform::Pid> g_init_server;

// 0 if the prologue before Init ran in `pid`'s memory (the server was forked
// from it), 3 if it ran in this process's own ancestry otherwise.
void ExitZeroIfPrologueRanIn(std::int64_t pid) {
  Exit(g_prologue_pid == pid ? 0 : 3);
}
PROCSPEC_TARGET(ExitZeroIfPrologueRanIn);

// Blocks until the parent (the requester, not the server) has gone, or until
// killed.
void BlockUntilParentGone() {
  if (parent_process() == nullptr) Exit(20);
  parent_process()->join();
  Exit(21);
}
PROCSPEC_TARGET(BlockUntilParentGone);

// A forkserver child that starts its own forkserver child.
void StartGrandchild(int code) {
  Process child(ExitWith, std::tuple{code},
                {.context = *get_context("forkserver")});
  if (!child.start().ok()) Exit(40);
  if (!child.join().ok()) Exit(41);
  Exit(**child.exitcode());
}
PROCSPEC_TARGET(StartGrandchild);

// Not registered.
void Unregistered() {}

const Context* ForkServer() { return *get_context("forkserver"); }

// Starts and joins `process`, returns its exit code.
int StartAndJoin(Process& process) {
  absl::Status started = process.start();
  EXPECT_OK(started);
  if (!started.ok()) return -1000;
  EXPECT_OK(process.join());
  absl::StatusOr<std::optional<int>> code = process.exitcode();
  return code.ok() && code->has_value() ? **code : -1001;
}

class ForkServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(platform::SelectBackend(GetParam()).ok());
  }
};

TEST(ForkServerStartMethodTest, IsListedAndSelectable) {
  std::vector<std::string> methods = get_all_start_methods();
  EXPECT_EQ(methods, (std::vector<std::string>{"fork", "spawn", "forkserver"}));
  EXPECT_EQ((*get_context("forkserver"))->get_start_method(), "forkserver");
  ASSERT_OK(set_start_method("forkserver", /*force=*/true));
  EXPECT_EQ(get_start_method(), "forkserver");
  Process p(ExitWith, std::tuple{6});  // the default context: forkserver
  EXPECT_EQ(StartAndJoin(p), 6);
  ASSERT_OK(set_start_method(std::nullopt, /*force=*/true));
}

TEST_P(ForkServerTest, RunsRegisteredTargetWithArgsAndKwargs) {
  Process p(ExitWithSum, std::tuple{3, "four"},
            {.kwargs = {{"x", 5}}, .context = ForkServer()});
  EXPECT_EQ(StartAndJoin(p), 12);
}

TEST_P(ForkServerTest, ExitCodesAreThoseOfFork) {
  Process exits(ExitWith, std::tuple{256 + 7}, {.context = ForkServer()});
  EXPECT_EQ(StartAndJoin(exits), 7);
  Process zero(ExitWith, std::tuple{0}, {.context = ForkServer()});
  EXPECT_EQ(StartAndJoin(zero), 0);
  Process throws(Throw, {.context = ForkServer()});
  EXPECT_EQ(StartAndJoin(throws), 1);
  Process empty({.context = ForkServer()});
  EXPECT_EQ(StartAndJoin(empty), 0);
}

TEST_P(ForkServerTest, UncaughtExceptionIsReportedOnStderr) {
  absl::StatusOr<std::string> self = platform::testing::CurrentExecutable();
  ASSERT_OK(self);
  absl::StatusOr<platform::testing::CommandResult> result =
      platform::testing::RunCommand(
          {*self, "--throw-under-forkserver", GetParam()},
          absl::Now() + absl::Seconds(60));
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 1) << result->err;
  EXPECT_THAT(result->err, HasSubstr("Process thrower:\n"));
  EXPECT_THAT(result->err, HasSubstr("runtime_error: boom"));
}

TEST_P(ForkServerTest, SignalsJoinTimeoutIsAliveAndSentinel) {
  for (bool use_kill : {false, true}) {
    Process p(BlockUntilParentGone, {.context = ForkServer()});
    ASSERT_OK(p.start());
    EXPECT_TRUE(*p.is_alive());
    ASSERT_OK(p.join(0.05));
    EXPECT_EQ(*p.exitcode(), std::nullopt);
    EXPECT_TRUE(*p.is_alive());
    const Handle sentinel = *p.sentinel();
    EXPECT_TRUE(connection::wait({sentinel}, 0)->empty());
    // The real pid: a child of the server, not of this process.
    const Pid pid = **p.pid();
    EXPECT_EQ(*platform::testing::ParentOf(pid), *forkserver::server_pid());
    ASSERT_TRUE((use_kill ? p.kill() : p.terminate()).ok());
    EXPECT_EQ(*connection::wait({sentinel}), std::vector<Handle>{sentinel});
    ASSERT_OK(p.join());
    EXPECT_EQ(*p.exitcode(), use_kill ? -9 : -15);
    EXPECT_FALSE(*p.is_alive());
    // Nothing is sent once the status is known.
    EXPECT_OK(p.terminate());
    EXPECT_THAT(p.repr(), HasSubstr(use_kill ? "exitcode=-SIGKILL"
                                             : "exitcode=-SIGTERM"));
    EXPECT_EQ(*connection::wait({sentinel}, 0), std::vector<Handle>{sentinel});
  }
}

TEST_P(ForkServerTest, ChildSeesItselfAndTheRequesterAsParent) {
  Process q(CheckSelf,
            std::tuple{std::string("worker"), true,
                       static_cast<std::int64_t>(platform::CurrentPid()),
                       std::string("MainProcess"), current_process().authkey()},
            {.name = "worker", .daemon = true, .context = ForkServer()});
  EXPECT_EQ(StartAndJoin(q), 0);
  Process r(CheckSelf,
            std::tuple{std::string("Process-") + "x", false,
                       static_cast<std::int64_t>(platform::CurrentPid()),
                       std::string("MainProcess"), current_process().authkey()},
            {.context = ForkServer()});
  r.set_name("Process-x");
  EXPECT_EQ(StartAndJoin(r), 0);
}

TEST_P(ForkServerTest, GlobalsAreThoseOfTheServer) {
  g_global = 42;
  Process served(ExitWithGlobal, {.context = ForkServer()});
  Process forked(ExitWithGlobal, {.context = *get_context("fork")});
  EXPECT_EQ(StartAndJoin(served), 1);
  EXPECT_EQ(StartAndJoin(forked), 42);
  g_global = 1;
  // The server Init forked started from this process's memory: the prologue
  // ran here. A server that is a fresh run of the program ran it itself.
  Process prologue(
      ExitZeroIfPrologueRanIn,
      std::tuple{static_cast<std::int64_t>(platform::CurrentPid())},
      {.context = ForkServer()});
  ASSERT_OK(prologue.start());
  const bool forked_at_init =
      GetParam() == g_init_backend && forkserver::server_pid() == g_init_server;
  ASSERT_OK(prologue.join());
  EXPECT_EQ(**prologue.exitcode(), forked_at_init ? 0 : 3);
}

TEST_P(ForkServerTest, ChildCanStartForkServerChildren) {
  Process p(StartGrandchild, std::tuple{5}, {.context = ForkServer()});
  EXPECT_EQ(StartAndJoin(p), 5);
}

TEST_P(ForkServerTest, UnsendableTargetFailsInTheParentAndStaysStartable) {
  Process unregistered(Unregistered, {.context = ForkServer()});
  absl::Status started = unregistered.start();
  EXPECT_EQ(PythonExceptionType(started), "PicklingError");
  EXPECT_THAT(started.message(), HasSubstr("not registered"));
  EXPECT_THAT(unregistered.repr(), HasSubstr(" initial"));
  EXPECT_EQ(*unregistered.pid(), std::nullopt);

  int captured = 3;
  ASSERT_OK(set_start_method("forkserver", /*force=*/true));
  Process later([captured] { Exit(captured); });
  EXPECT_EQ(PythonExceptionType(later.start()), "PicklingError");
  ASSERT_OK(set_start_method("fork", /*force=*/true));
  EXPECT_EQ(StartAndJoin(later), 3);
  ASSERT_OK(set_start_method(std::nullopt, /*force=*/true));
}

// The option reaches the server (a request flag); the child runs normally
// while this process lives. (Its death with a SIGKILLed requester is the
// conformance suite's process.die_with_parent.opt_in.)
TEST_P(ForkServerTest, DieWithParentChildRunsWhileTheRequesterLives) {
  Process p(ExitWith, std::tuple{7},
            {.die_with_parent = true, .context = ForkServer()});
  EXPECT_EQ(StartAndJoin(p), 7);
}

TEST_P(ForkServerTest, NoDescriptorsOrZombiesAreLeft) {
  // The server runs before the snapshot (it lives as long as the program).
  Process first(ExitWith, std::tuple{0}, {.context = ForkServer()});
  ASSERT_EQ(StartAndJoin(first), 0);
  ASSERT_OK(first.close());
  absl::StatusOr<std::vector<platform::NativeHandle>> before =
      platform::testing::OpenDescriptors();
  absl::StatusOr<std::vector<platform::testing::ChildInfo>> children_before =
      platform::testing::ListChildren();
  ASSERT_TRUE(before.ok() && children_before.ok());
  {
    Process exits(ExitWith, std::tuple{2}, {.context = ForkServer()});
    EXPECT_EQ(StartAndJoin(exits), 2);
    Process killed(BlockUntilParentGone, {.context = ForkServer()});
    ASSERT_OK(killed.start());
    ASSERT_OK(killed.kill());
    ASSERT_OK(killed.join());
    ASSERT_OK(exits.close());
    ASSERT_OK(killed.close());
  }
  absl::StatusOr<std::vector<platform::NativeHandle>> after =
      platform::testing::OpenDescriptors();
  absl::StatusOr<std::vector<platform::testing::ChildInfo>> children_after =
      platform::testing::ListChildren();
  ASSERT_TRUE(after.ok() && children_after.ok());
  EXPECT_EQ(*after, *before);
  ASSERT_EQ(children_after->size(), children_before->size());
  for (std::size_t i = 0; i < children_after->size(); ++i) {
    EXPECT_EQ((*children_after)[i].pid, (*children_before)[i].pid);
    EXPECT_EQ((*children_after)[i].state,
              platform::testing::ProcessState::kRunning);
  }
}

TEST_P(ForkServerTest, ServerDeathReports255AndANewServerStarts) {
  Process orphan(BlockUntilParentGone, {.context = ForkServer()});
  ASSERT_OK(orphan.start());
  const std::optional<Pid> server = forkserver::server_pid();
  ASSERT_TRUE(server.has_value());
  const Pid orphan_pid = **orphan.pid();
  ASSERT_TRUE(platform::testing::SignalPid(
                  *server, platform::testing::KillSignalNumber())
                  .ok());
  ASSERT_OK(orphan.join());
  EXPECT_EQ(**orphan.exitcode(), 255);
  // The orphan still runs (CPython leaves it too); end it. Once the server is
  // a zombie, the orphan has been re-parented (to this subreaper).
  ASSERT_TRUE(platform::testing::AwaitExitWithoutReaping(*server).ok());
  ASSERT_TRUE(platform::testing::SignalPid(
                  orphan_pid, platform::testing::KillSignalNumber())
                  .ok());
  absl::StatusOr<platform::ExitStatus> reaped =
      platform::testing::ReapPid(orphan_pid);
  ASSERT_OK(reaped);

  Process next(ExitWith, std::tuple{4}, {.context = ForkServer()});
  EXPECT_EQ(StartAndJoin(next), 4);
  const std::optional<Pid> new_server = forkserver::server_pid();
  ASSERT_TRUE(new_server.has_value());
  EXPECT_NE(*new_server, *server);
  // The dead server was reaped, not left a zombie.
  EXPECT_EQ(platform::testing::StateOf(*server),
            platform::testing::ProcessState::kGone);
}

// The fork server's channel is a socketpair: no path in the filesystem (nor
// in the abstract namespace, CPython's CVE-2022-42919) that another process
// could connect to; only its two ends' holders reach it. The server's
// descriptors are listed in /proc/<pid>/fd, which only its user may read.
TEST_P(ForkServerTest, ChannelIsAnUnnamedSocketOnlyItsUserCanReach) {
  Process first(ExitWith, std::tuple{0}, {.context = ForkServer()});
  ASSERT_EQ(StartAndJoin(first), 0);
  const std::optional<platform::Pid> server = forkserver::server_pid();
  ASSERT_TRUE(server.has_value());
  const std::filesystem::path fd_dir = absl::StrCat("/proc/", *server, "/fd");
  std::vector<std::string> inodes;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator(fd_dir)) {
    std::error_code error;
    const std::string target =
        std::filesystem::read_symlink(entry.path(), error).string();
    if (error) continue;  // closed meanwhile
    absl::string_view name(target);
    if (absl::ConsumePrefix(&name, "socket:[") &&
        absl::ConsumeSuffix(&name, "]")) {
      inodes.emplace_back(name);
    }
  }
  ASSERT_FALSE(inodes.empty()) << "no socket among the server's descriptors";
  // /proc/net/unix: Num RefCount Protocol Flags Type St Inode [Path].
  std::ifstream table("/proc/net/unix");
  ASSERT_TRUE(table.good());
  std::map<std::string, std::vector<std::string>> by_inode;
  for (std::string line; std::getline(table, line);) {
    std::vector<std::string> fields =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (fields.size() >= 7) by_inode[fields[6]] = fields;
  }
  for (const std::string& inode : inodes) {
    ASSERT_EQ(by_inode.count(inode), 1u) << "socket " << inode;
    EXPECT_EQ(by_inode[inode].size(), 7u)
        << "socket " << inode << " is bound to " << by_inode[inode].back();
  }
  const std::filesystem::perms perms =
      std::filesystem::status(fd_dir).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all |
                     std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ForkServerTest,
                         ::testing::ValuesIn(platform::BackendNames()),
                         [](const auto& info) { return info.param; });

// For UncaughtExceptionIsReportedOnStderr: a forkserver child that throws,
// with this process's stderr.
int ThrowUnderForkServer(const std::string& backend) {
  if (!platform::SelectBackend(backend).ok()) return 100;
  Process p(Throw, {.name = "thrower", .context = ForkServer()});
  if (!p.start().ok() || !p.join().ok()) return 101;
  return **p.exitcode();
}

}  // namespace
}  // namespace procspec

int main(int argc, char** argv) {
  procspec::g_prologue_pid = procspec::platform::CurrentPid();
  procspec::Init(argc, argv, {.start_forkserver = true});
  procspec::g_init_backend =
      std::string(procspec::platform::CurrentBackend().name());
  procspec::g_init_server = procspec::forkserver::server_pid();
  if (argc == 3 && std::string(argv[1]) == "--throw-under-forkserver")
    return procspec::ThrowUnderForkServer(argv[2]);
  // Orphans of a killed server come here, so that the test can reap them.
  (void)procspec::platform::testing::BecomeChildSubreaper();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
