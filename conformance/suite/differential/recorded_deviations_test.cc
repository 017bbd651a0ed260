// Where procspec deliberately differs from CPython, each shown as it is (the
// registry's clause says why): SIGINT in a child, and std::exit() in a child
// started by the fork start method.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>

#include "absl/strings/str_split.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/process.h"
#include "process/spawn.h"

namespace conformance {
namespace {

namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinSoon;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::PidOf;

void WaitForSigint(HandshakeChild handshake) {
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
}
PROCSPEC_TARGET(WaitForSigint);

// CPython's child turns SIGINT into KeyboardInterrupt: exitcode 1 and a
// traceback. C++ has no such exception: procspec's child dies by the signal,
// and its exitcode is -SIGINT.
CONFORMANCE_TEST(RecordedDeviations, SigintEndsTheChildBySignal,
                 "process.signals.sigint_in_child") {
  ASSERT_OK_AND_ASSIGN(Handshake handshake, Handshake::Create());
  procspec::Process p(WaitForSigint, std::tuple{handshake.ChildSide()});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(handshake.WaitReady());
  const int sigint =
      procspec::platform::SignalNumber(procspec::platform::Signal::kInterrupt);
  ASSERT_OK(os::SignalPid(PidOf(p), sigint));
  ASSERT_OK_AND_ASSIGN(int code, JoinSoon(p));
  EXPECT_EQ(code, -sigint);
  EXPECT_THAT(p.repr(), ::testing::HasSubstr("exitcode=-SIGINT"));
}

// A program that registers an atexit handler, then forks a child whose target
// calls std::exit(3) and one that returns. Prints one line per handler run.
void CallStdExit() { std::exit(3); }
void ReturnNormally() {}

void AtExitHandler() {
  std::fputs("atexit handler ran\n", stdout);
  std::fflush(stdout);
}

CONFORMANCE_CHILD_ENTRY(module_std_exit_in_forked_child) {
  std::atexit(AtExitHandler);
  absl::StatusOr<const procspec::Context*> fork = procspec::get_context("fork");
  if (!fork.ok()) return 100;
  procspec::Process exits(CallStdExit, {.context = *fork});
  procspec::Process returns(ReturnNormally, {.context = *fork});
  for (procspec::Process* p : {&exits, &returns}) {
    if (!p->start().ok()) return 101;
    absl::StatusOr<int> code = testing::JoinAndGetExitcode(*p);
    std::printf("exitcode=%d\n", code.ok() ? *code : -1000);
    std::fflush(stdout);
  }
  return 0;
}

// CPython's child always ends with os._exit: the parent's atexit handlers run
// once, in the parent. procspec's forked child ends the same way when its
// target returns, but a target that calls std::exit() runs the handlers (and
// static destructors) it inherited, in the child.
CONFORMANCE_TEST(RecordedDeviations, StdExitInAForkedChildRunsInheritedAtexit,
                 "process.exit.std_exit_in_forked_child") {
  // The program runs under fork or forkserver: a backend that cannot fork
  // (windows) has neither.
  CONFORMANCE_REQUIRE(RequireCapability("fork"));
  ASSERT_OK_AND_ASSIGN(
      os::CommandResult result,
      testing::RunChildEntry("module_std_exit_in_forked_child"));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(
      static_cast<std::vector<std::string>>(
          absl::StrSplit(result.out, '\n', absl::SkipEmpty())),
      ::testing::ElementsAre("atexit handler ran",  // the child's std::exit
                             "exitcode=3", "exitcode=0",
                             "atexit handler ran"))  // the parent's exit
      << result.err;
}

}  // namespace
}  // namespace conformance
