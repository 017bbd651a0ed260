// What a process does with its children when it exits normally (CPython's
// util._exit_function): SIGTERM to every daemonic child still running, then a
// join of every child. Checked here for the main process (a re-executed
// program that returns from main, whose children are capturing lambdas run by
// fork); a child whose run() returns, exits or raises is checked in the
// signals_portable area.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/common/signals_testing.h"
#include "gtest/gtest.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::signals_testing::BlockUntilKilled;
using ::conformance::signals_testing::SendLine;
using ::conformance::signals_testing::StartAndAwaitReady;
using ::conformance::signals_testing::WaitForByteOrEof;
using ::conformance::testing::RunChildEntry;
namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

// ---- The main process's exit ----

// The children of the program below; never destroyed, so that the exit
// handler can still ask them for their exitcode.
procspec::Process* g_daemonic_child = nullptr;
procspec::Process* g_worker_child = nullptr;

std::string ExitcodeText(procspec::Process* process) {
  absl::StatusOr<std::optional<int>> exitcode = process->exitcode();
  if (!exitcode.ok()) return exitcode.status().ToString();
  return exitcode->has_value() ? absl::StrCat(**exitcode) : "None";
}

// Runs after procspec's exit handling: std::atexit handlers run in reverse
// order of registration, and this one is registered before the first start().
void ReportAfterExitHandling() {
  std::printf("after exit handling: daemonic exitcode=%s worker exitcode=%s\n",
              ExitcodeText(g_daemonic_child).c_str(),
              ExitcodeText(g_worker_child).c_str());
}

// A program with a daemonic child that blocks until killed and a non-daemonic
// worker that waits for the daemonic child's death (end of file on a pipe only
// the daemonic child holds), prints a line and exits. The program returns from
// main while both run: only its exit handling can end the daemonic child, and
// only the join in it can make the worker's line come before the exit
// handler's.
CONFORMANCE_CHILD_ENTRY(signals_main_exit_terminates_and_joins) {
  std::atexit(&ReportAfterExitHandling);
  absl::StatusOr<platform::PipeEnds> ready = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> daemonic_alive = platform::MakePipe();
  if (!ready.ok() || !daemonic_alive.ok()) return 10;
  g_daemonic_child = new procspec::Process(
      [&ready] {
        SendLine(ready->write.get(), "ready");
        BlockUntilKilled();
      },
      {.name = "daemonic", .daemon = true});
  if (!StartAndAwaitReady(*g_daemonic_child, *ready).ok()) return 11;
  g_worker_child = new procspec::Process(
      [&daemonic_alive] {
        daemonic_alive->write.reset();
        WaitForByteOrEof(daemonic_alive->read.get());
        std::printf("worker: the daemonic child has ended\n");
      },
      {.name = "worker"});
  if (!g_worker_child->start().ok()) return 12;
  daemonic_alive->write.reset();
  std::printf("main: returning\n");
  std::fflush(stdout);
  return 0;
}

// When the main process exits normally, its exit handling terminates the
// daemonic child that would block for ever (exitcode -15), then joins the
// non-daemonic worker before the process ends: the worker's output comes
// before anything that runs after the exit handling, and the program's own
// exit status (0) is unaffected.
CONFORMANCE_TEST(ExitHandling, MainProcessTerminatesDaemonsAndJoinsChildren,
                 "process.daemon.terminated_at_parent_exit",
                 "module.exit.joins_children") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunChildEntry("signals_main_exit_terminates_and_joins"));
  EXPECT_EQ(result.status,
            (platform::ExitStatus{.signaled = false, .value = 0}))
      << result.err;
  EXPECT_EQ(result.out,
            "main: returning\n"
            "worker: the daemonic child has ended\n"
            "after exit handling: daemonic exitcode=-15 worker exitcode=0\n");
  EXPECT_EQ(result.err, "");
}

}  // namespace
}  // namespace conformance
