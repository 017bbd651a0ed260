// Process.exitcode: None until the child has exited; then 0 for a normal
// return, procspec::Exit's code truncated to 8 bits, 1 for an exit message or
// an uncaught exception, and -N for a death by signal N; readable without
// join().
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/lifecycle/lifecycle_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance::lifecycle {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::RequireOwnZombie;
using ::conformance::testing::RunChildEntry;
using ::procspec::platform::Signal;
using ::procspec::platform::SignalNumber;
using ::procspec::platform::testing::CommandResult;
using ::procspec::platform::testing::ProcessState;
using ::procspec::platform::testing::StateOf;

// A user-defined exception type, reported by its unqualified class name.
class KeyLookupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Ends as `how` says.
void ExitcodeEndAs(std::string how) {
  if (how == "exit_message") procspec::Exit("goodbye from the child");
  if (how == "runtime_error") throw std::runtime_error("boom");
  if (how == "custom") throw KeyLookupError("'boom'");
  if (how == "not_std") throw 42;
}
PROCSPEC_TARGET(ExitcodeEndAs);

void ExitcodeExitWithoutCode() { procspec::Exit(); }
PROCSPEC_TARGET(ExitcodeExitWithoutCode);

void ExitcodeThrowSystemExit() { throw procspec::SystemExit(); }
PROCSPEC_TARGET(ExitcodeThrowSystemExit);

void ExitcodeExitTrue() { procspec::Exit(true); }
PROCSPEC_TARGET(ExitcodeExitTrue);

void ExitcodeDieBySignal(int signal_number) {
  procspec::platform::testing::DieBySignal(signal_number);
}
PROCSPEC_TARGET(ExitcodeDieBySignal);

// Starts a child (named "Boomer" unless args[1] is "unnamed") whose target
// ends as args[0] says, joins it, and prints "exitcode=N" on stdout. What the
// child writes goes to this process's stderr, which the test captures.
CONFORMANCE_CHILD_ENTRY(lifecycle_exitcode_ending) {
  const std::string how = args.empty() ? "" : args[0];
  const bool named = args.size() < 2 || args[1] != "unnamed";
  procspec::Process p(ExitcodeEndAs, std::tuple{how},
                      {.name = named ? "Boomer" : ""});
  if (!p.start().ok()) return 100;
  absl::StatusOr<int> exitcode = JoinAndGetExitcode(p);
  if (!exitcode.ok()) return 101;
  std::printf("exitcode=%d\n", *exitcode);
  return 0;
}

// Runs the entry above; the entry itself (the child's parent) must be
// unaffected by whatever the child did and exit 0.
absl::StatusOr<CommandResult> RunEnding(const std::vector<std::string>& args) {
  absl::StatusOr<CommandResult> result =
      RunChildEntry("lifecycle_exitcode_ending", args);
  if (!result.ok()) return result.status();
  if (result->status.signaled || result->status.value != 0) {
    return absl::InternalError(
        "the parent of the failing child did not exit 0: stderr: " +
        result->err);
  }
  return result;
}

// None before start() and while the child runs; the code once it has exited.
CONFORMANCE_TEST(Exitcode, NoneBeforeStartAndWhileRunning,
                 "process.exitcode.none_until_exit") {
  ASSERT_OK_AND_ASSIGN(auto child, BlockedChild::Create(7));
  procspec::Process& p = child->process();
  ASSERT_OK_AND_ASSIGN(std::optional<int> before_start, p.exitcode());
  EXPECT_EQ(before_start, std::nullopt);
  ASSERT_OK(child->StartAndWaitReady());
  ASSERT_OK_AND_ASSIGN(std::optional<int> running, p.exitcode());
  EXPECT_EQ(running, std::nullopt);
  ASSERT_OK(child->Release());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 7);
}

// A target that returns, Exit(), Exit(0) and a thrown SystemExit() all give 0.
CONFORMANCE_TEST(Exitcode, ZeroForReturnAndExitWithoutCode,
                 "process.exitcode.return_zero") {
  std::vector<std::pair<std::string, std::unique_ptr<procspec::Process>>>
      children;
  children.emplace_back("return",
                        std::make_unique<procspec::Process>(LifecycleNoop));
  children.emplace_back(
      "Exit()", std::make_unique<procspec::Process>(ExitcodeExitWithoutCode));
  children.emplace_back("Exit(0)",
                        std::make_unique<procspec::Process>(
                            procspec::testing::ExitWith, std::tuple{0}));
  children.emplace_back(
      "throw SystemExit()",
      std::make_unique<procspec::Process>(ExitcodeThrowSystemExit));
  std::vector<std::unique_ptr<KillOnExit>> reaps;
  for (auto& [what, p] : children) {
    reaps.push_back(std::make_unique<KillOnExit>(*p));
    ASSERT_OK(p->start()) << what;
  }
  for (auto& [what, p] : children) {
    ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(*p));
    EXPECT_EQ(exitcode, 0) << what;
  }
}

// Exit(n) gives n & 0xFF, as the OS truncates it; Exit(true) gives 1.
CONFORMANCE_TEST(Exitcode, ExitCodeIsTruncatedToEightBits,
                 "process.exitcode.exit_truncated") {
  const std::vector<std::pair<int, int>> cases = {
      {0, 0},   {1, 1},   {3, 3},    {7, 7},      {255, 255},
      {256, 0}, {257, 1}, {-1, 255}, {1000, 232},
  };
  std::vector<std::unique_ptr<procspec::Process>> children;
  std::vector<std::unique_ptr<KillOnExit>> reaps;
  for (const auto& [code, expected] : cases) {
    children.push_back(std::make_unique<procspec::Process>(
        procspec::testing::ExitWith, std::tuple{code}));
    reaps.push_back(std::make_unique<KillOnExit>(*children.back()));
    ASSERT_OK(children.back()->start());
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(*children[i]));
    EXPECT_EQ(exitcode, cases[i].second) << "Exit(" << cases[i].first << ")";
  }
  procspec::Process exit_true(ExitcodeExitTrue);
  KillOnExit reap(exit_true);
  ASSERT_OK(exit_true.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(exit_true));
  EXPECT_EQ(exitcode, 1) << "Exit(true)";
}

// Exit("message") writes the message and a newline to stderr, without the
// "Process <name>:" header, and gives exitcode 1.
CONFORMANCE_TEST(Exitcode, ExitMessageGoesToStderrAndGivesOne,
                 "process.exitcode.exit_message") {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunEnding({"exit_message"}));
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_TRUE(absl::StartsWith(result.err, "goodbye from the child\n"))
      << result.err;
  EXPECT_FALSE(absl::StrContains(result.err, "Process ")) << result.err;
}

// An uncaught std::runtime_error: "Process <name>:" then "runtime_error: boom"
// on stderr, exitcode 1, and the parent carries on.
CONFORMANCE_TEST(Exitcode, UncaughtStdExceptionIsReportedAndGivesOne,
                 "process.exitcode.exception") {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunEnding({"runtime_error"}));
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_TRUE(absl::StartsWith(result.err, "Process Boomer:\n")) << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "\nruntime_error: boom\n"))
      << result.err;
}

// The header names the child by its default name too.
CONFORMANCE_TEST(Exitcode, UncaughtExceptionHeaderUsesTheDefaultName,
                 "process.exitcode.exception") {
  ASSERT_OK_AND_ASSIGN(CommandResult result,
                       RunEnding({"runtime_error", "unnamed"}));
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_TRUE(absl::StartsWith(result.err, "Process Process-1:\n"))
      << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "boom")) << result.err;
}

// A user-defined exception type is named by its unqualified class name.
CONFORMANCE_TEST(Exitcode, UncaughtCustomExceptionIsReportedAndGivesOne,
                 "process.exitcode.exception") {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunEnding({"custom"}));
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_TRUE(absl::StartsWith(result.err, "Process Boomer:\n")) << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "\nKeyLookupError: 'boom'\n"))
      << result.err;
}

// Something thrown that is not a std::exception still gives exitcode 1 and a
// report.
CONFORMANCE_TEST(Exitcode, UncaughtNonStdExceptionIsReportedAndGivesOne,
                 "process.exitcode.exception") {
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunEnding({"not_std"}));
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_TRUE(absl::StartsWith(result.err, "Process Boomer:\n")) << result.err;
  EXPECT_TRUE(absl::StrContains(
      result.err, "\nunknown: an exception not derived from std::exception\n"))
      << result.err;
}

// A child that kills itself with SIGSEGV reports -SIGSEGV, shown by name in
// repr.
CONFORMANCE_TEST(Exitcode, DeathBySegvIsMinusTheSignal,
                 "process.exitcode.signal") {
  const int segv = procspec::platform::testing::SegvSignalNumber();
  procspec::Process p(ExitcodeDieBySignal, std::tuple{segv});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, -segv);
  EXPECT_TRUE(absl::StrContains(p.repr(), " exitcode=-SIGSEGV")) << p.repr();
}

// abort() in the child reports -SIGABRT.
CONFORMANCE_TEST(Exitcode, DeathByAbortIsMinusTheSignal,
                 "process.exitcode.signal") {
  const int abrt = procspec::platform::testing::AbortSignalNumber();
  procspec::Process p(ExitcodeDieBySignal, std::tuple{abrt});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, -abrt);
  EXPECT_TRUE(absl::StrContains(p.repr(), " exitcode=-SIGABRT")) << p.repr();
}

// terminate() gives -SIGTERM and kill() -SIGKILL.
CONFORMANCE_TEST(Exitcode, TerminateAndKillAreMinusTheirSignals,
                 "process.exitcode.signal") {
  ASSERT_OK_AND_ASSIGN(auto terminated, BlockedChild::Create(0));
  ASSERT_OK_AND_ASSIGN(auto killed, BlockedChild::Create(0));
  ASSERT_OK(terminated->StartAndWaitReady());
  ASSERT_OK(killed->StartAndWaitReady());
  ASSERT_OK(terminated->process().terminate());
  ASSERT_OK(killed->process().kill());
  ASSERT_OK_AND_ASSIGN(int terminated_code,
                       JoinAndGetExitcode(terminated->process()));
  EXPECT_EQ(terminated_code, -SignalNumber(Signal::kTerminate));
  ASSERT_OK_AND_ASSIGN(int killed_code, JoinAndGetExitcode(killed->process()));
  EXPECT_EQ(killed_code, -SignalNumber(Signal::kKill));
}

// Once the sentinel says the child exited, exitcode returns the code though
// join() was never called; a later join() agrees.
CONFORMANCE_TEST(Exitcode, ReadableWithoutJoin,
                 "process.exitcode.without_join") {
  procspec::Process p(procspec::testing::ExitWith, std::tuple{4});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK(WaitForExitWithoutJoin(p));
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  EXPECT_EQ(exitcode, std::optional<int>(4));
  ASSERT_OK_AND_ASSIGN(int joined, JoinAndGetExitcode(p));
  EXPECT_EQ(joined, 4);
}

// The same for a death by signal.
CONFORMANCE_TEST(Exitcode, SignalExitcodeReadableWithoutJoin,
                 "process.exitcode.without_join", "process.exitcode.signal") {
  ASSERT_OK_AND_ASSIGN(auto child, BlockedChild::Create(0));
  procspec::Process& p = child->process();
  ASSERT_OK(child->StartAndWaitReady());
  ASSERT_OK(p.kill());
  ASSERT_OK(WaitForExitWithoutJoin(p));
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  EXPECT_EQ(exitcode, std::optional<int>(-SignalNumber(Signal::kKill)));
}

// Reading exitcode reaps the exited child: a zombie before, gone after.
CONFORMANCE_TEST(Exitcode, ReadingItReapsTheChild,
                 "process.exitcode.without_join") {
  CONFORMANCE_REQUIRE(RequireCapability("proc_fs"));
  CONFORMANCE_REQUIRE(RequireOwnZombie());
  procspec::Process p(procspec::testing::ExitWith, std::tuple{4});
  KillOnExit reap(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  ASSERT_TRUE(pid.has_value());
  ASSERT_OK(WaitForExitWithoutJoin(p));
  EXPECT_EQ(StateOf(*pid), ProcessState::kZombie);
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  EXPECT_EQ(exitcode, std::optional<int>(4));
  EXPECT_EQ(StateOf(*pid), ProcessState::kGone);
}

}  // namespace
}  // namespace conformance::lifecycle
