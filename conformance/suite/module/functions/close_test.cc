// close(): refused while the child runs; idempotent; allowed before start;
// afterwards the child-related operations fail with "process object is
// closed", the configuration stays readable, and the handles are released.
#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/functions/functions_testing.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"

namespace conformance::module_functions {
namespace {

using ::conformance::testing::KillOnExit;
using ::conformance::testing::RequireOwnZombie;
namespace platform = ::procspec::platform;
using ::conformance::module_testing::WaitUntilEnded;
using ::conformance::testing::JoinAndGetExitcode;

constexpr char kClosed[] = "process object is closed";

// Expects every operation that needs the child to fail with ValueError
// "process object is closed".
void ExpectClosedErrors(procspec::Process& p) {
  EXPECT_PYTHON_ERROR(p.start(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.join(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.join(0.1), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.is_alive(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.terminate(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.kill(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.exitcode(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.pid(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.ident(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.sentinel(), "ValueError", kClosed);
}

// close() while the child runs fails with CPython's message, and the object
// stays usable: still alive, same pid, joinable, and closable once joined.
CONFORMANCE_TEST(Close, WhileRunningFails, "process.close.running_error") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(ModuleHold, std::tuple{handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  EXPECT_PYTHON_ERROR(p.close(), "ValueError",
                      "Cannot close a process while it is still running. You "
                      "should first call join() or terminate().");
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  EXPECT_TRUE(alive);
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid_after, p.pid());
  EXPECT_EQ(pid_after, pid);
  EXPECT_OK(p.sentinel());
  ASSERT_OK(handshake.Release());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  EXPECT_OK(p.close());
}

// A child that has ended need not be joined first: close() succeeds.
CONFORMANCE_TEST(Close, EndedChildNeedsNoJoin, "process.close.running_error") {
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(WaitUntilEnded(p));
  EXPECT_OK(p.close());
}

// close() on an ended, unjoined child reaps it: no zombie is left.
CONFORMANCE_TEST(Close, ReapsAnEndedChild, "process.close.running_error") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  CONFORMANCE_REQUIRE(RequireOwnZombie());
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_OK(WaitUntilEnded(p));
  EXPECT_NE(platform::testing::StateOf(*pid),
            platform::testing::ProcessState::kGone);
  ASSERT_OK(p.close());
  EXPECT_EQ(platform::testing::StateOf(*pid),
            platform::testing::ProcessState::kGone);
}

// close() may be called again and again on a joined process.
CONFORMANCE_TEST(Close, RepeatedAfterJoin, "process.close.idempotent") {
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(p.join());
  EXPECT_OK(p.close());
  EXPECT_OK(p.close());
  EXPECT_OK(p.close());
  EXPECT_PYTHON_ERROR(p.exitcode(), "ValueError", kClosed);
}

// close() may be repeated on a never started object too.
CONFORMANCE_TEST(Close, RepeatedBeforeStart, "process.close.idempotent",
                 "process.close.before_start") {
  procspec::Process p;
  EXPECT_OK(p.close());
  EXPECT_OK(p.close());
}

// close() before start() succeeds, repr shows 'closed', and start() then
// fails with "process object is closed" without creating a child.
CONFORMANCE_TEST(Close, BeforeStartThenStartFails,
                 "process.close.before_start") {
  procspec::Process p(ModuleNoop, {.name = "never-started"});
  EXPECT_OK(p.close());
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='never-started' parent=",
                                   platform::CurrentPid(), " closed>"));
  EXPECT_PYTHON_ERROR(p.start(), "ValueError", kClosed);
  // Still closed: no child was started by the failed start().
  EXPECT_PYTHON_ERROR(p.start(), "ValueError", kClosed);
  EXPECT_PYTHON_ERROR(p.pid(), "ValueError", kClosed);
}

// After close(), start, join, is_alive, terminate, kill, exitcode, pid, ident
// and sentinel all fail with ValueError "process object is closed".
CONFORMANCE_TEST(Close, OperationsAfterCloseFail,
                 "process.close.closed_errors") {
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(p.join());
  ASSERT_OK(p.close());
  ExpectClosedErrors(p);
}

// The same errors on an object closed before it was ever started.
CONFORMANCE_TEST(Close, OperationsAfterCloseBeforeStartFail,
                 "process.close.closed_errors", "process.close.before_start") {
  procspec::Process p(ModuleNoop);
  ASSERT_OK(p.close());
  ExpectClosedErrors(p);
}

// After close() name (get and set), daemon (get and set: no "process has
// already started" error), authkey (get and set) and repr still work.
CONFORMANCE_TEST(Close, ConfigurationStillAvailable,
                 "process.close.still_available") {
  procspec::Process p(ModuleNoop, {.name = "kept"});
  KillOnExit reaper(p);
  const std::string authkey = p.authkey();
  ASSERT_OK(p.start());
  ASSERT_OK(p.join());
  ASSERT_OK(p.close());

  EXPECT_EQ(p.name(), "kept");
  EXPECT_FALSE(p.daemon());
  EXPECT_EQ(p.authkey(), authkey);
  EXPECT_EQ(p.authkey().size(), 32u);
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='kept' parent=",
                                   platform::CurrentPid(), " closed>"));

  p.set_name("renamed");
  EXPECT_EQ(p.name(), "renamed");
  EXPECT_OK(p.set_daemon(true));
  EXPECT_TRUE(p.daemon());
  p.set_authkey(std::string(32, 'k'));
  EXPECT_EQ(p.authkey(), std::string(32, 'k'));
  EXPECT_EQ(p.repr(), absl::StrCat("<Process name='renamed' parent=",
                                   platform::CurrentPid(), " closed daemon>"));
  // close() again changes nothing.
  EXPECT_OK(p.close());
  EXPECT_EQ(p.name(), "renamed");
  EXPECT_PYTHON_ERROR(p.pid(), "ValueError", kClosed);
}

// The sentinel stays open after join() (CPython keeps it until close()), and
// close() closes it: the descriptor set is back to what it was before start().
CONFORMANCE_TEST(Close, ReleasesTheSentinel, "process.close.releases_handles") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> before,
                       platform::testing::OpenDescriptors());
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(procspec::Handle sentinel, p.sentinel());
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> running,
                       platform::testing::OpenDescriptors());
  EXPECT_NE(std::find(running.begin(), running.end(), sentinel), running.end())
      << "the sentinel " << sentinel << " is not an open descriptor";
  ASSERT_OK(p.join());
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> joined,
                       platform::testing::OpenDescriptors());
  EXPECT_NE(std::find(joined.begin(), joined.end(), sentinel), joined.end())
      << "join() already closed the sentinel";
  ASSERT_OK(p.close());
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> closed,
                       platform::testing::OpenDescriptors());
  EXPECT_EQ(std::find(closed.begin(), closed.end(), sentinel), closed.end())
      << "close() left the sentinel " << sentinel
      << " open: " << platform::testing::DescribeDescriptor(sentinel);
  EXPECT_EQ(closed, before);
}

// close() of a child that ended without join() also releases every
// descriptor the object held.
CONFORMANCE_TEST(Close, ReleasesHandlesOfAnUnjoinedChild,
                 "process.close.releases_handles") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> before,
                       platform::testing::OpenDescriptors());
  procspec::Process p(ModuleNoop);
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(WaitUntilEnded(p));
  ASSERT_OK(p.close());
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> after,
                       platform::testing::OpenDescriptors());
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace conformance::module_functions
