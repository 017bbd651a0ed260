// Forking a multi-threaded process: as CPython 3.12's os.fork(), the fork
// start method warns once per process, on stderr (or through the warning hook),
//   DeprecationWarning: This process (pid=N) is multi-threaded, use of fork()
//   may lead to deadlocks in the child.
// where the backend can count threads; never with one thread, and never under
// spawn (which does not fork this process). Each case runs in a fresh run of
// this binary (a child entry), whose stderr the test captures.
#include <cstddef>
#include <iostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "process/context.h"
#include "process/process.h"
#include "process/testing/child_targets.h"
#include "process/warnings.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
using ::conformance::testing::RunChildEntry;

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// args: "thread" or "alone"; the start method; optionally "hook". Starts two
// children one after the other (with an extra thread blocked meanwhile, for
// "thread"), prints this process's pid on stdout, and with "hook" prints each
// warning on stdout as "HOOK <category>|<message>" instead of stderr.
CONFORMANCE_CHILD_ENTRY(robustness_fork_with_threads) {
  if (args.size() < 2) return 2;
  const bool with_thread = args[0] == "thread";
  if (args.size() > 2 && args[2] == "hook") {
    procspec::set_warning_hook(
        [](const std::string& category, const std::string& message) {
          std::cout << "HOOK " << category << "|" << message << std::endl;
        });
  }
  absl::StatusOr<platform::PipeEnds> hold = platform::MakePipe();
  if (!hold.ok()) return 3;
  std::thread thread;
  if (with_thread) {
    thread =
        std::thread([&] { (void)platform::ReadSome(hold->read.get(), 1); });
  }
  int code = 0;
  for (int i = 0; i < 2; ++i) {
    procspec::Process p(procspec::testing::ExitWith, std::tuple{0},
                        {.context = *procspec::get_context(args[1])});
    if (!p.start().ok() || !p.join().ok()) code = 4;
  }
  std::cout << "PID " << platform::CurrentPid() << std::endl;
  hold->write.reset();
  if (thread.joinable()) thread.join();
  return code;
}

// The warning line for the child entry that printed `out` ("PID <pid>").
std::string Warning(const std::string& out) {
  long long pid = 0;
  const std::size_t at = out.find("PID ");
  if (at != std::string::npos) {
    const std::size_t end = out.find('\n', at);
    (void)absl::SimpleAtoi(out.substr(at + 4, end - at - 4), &pid);
  }
  return absl::StrCat(
      "DeprecationWarning: ", procspec::MultiThreadedForkMessage(pid), "\n");
}

// How a child entry that succeeded ended.
constexpr platform::ExitStatus kExitedWithZero{.signaled = false, .value = 0};

// Runs the child entry with `args`: it exits with 0 and prints no warning on
// stderr.
void ExpectExitsWithoutWarning(const std::vector<std::string>& args) {
  ASSERT_OK_AND_ASSIGN(platform::testing::CommandResult result,
                       RunChildEntry("robustness_fork_with_threads", args));
  EXPECT_EQ(result.status, kExitedWithZero) << result.err;
  EXPECT_FALSE(absl::StrContains(result.err, "multi-threaded")) << result.err;
}

// An extra thread, the fork start method: one warning on stderr, naming the
// process, for two starts.
CONFORMANCE_TEST(ForkWarning, MultiThreadedParentWarnsOnceOnStderr,
                 "robustness.fork_warning.multithreaded") {
  ASSERT_OK_AND_ASSIGN(
      platform::testing::CommandResult result,
      RunChildEntry("robustness_fork_with_threads", {"thread", "fork"}));
  EXPECT_EQ(result.status, kExitedWithZero) << result.err;
  EXPECT_EQ(Count(result.err, Warning(result.out)), 1u) << result.err;
}

// The same through the warning hook: the hook gets category and message, and
// nothing reaches stderr.
CONFORMANCE_TEST(ForkWarning, WarningHookReceivesTheWarning,
                 "robustness.fork_warning.multithreaded") {
  ASSERT_OK_AND_ASSIGN(platform::testing::CommandResult result,
                       RunChildEntry("robustness_fork_with_threads",
                                     {"thread", "fork", "hook"}));
  EXPECT_EQ(result.status, kExitedWithZero) << result.err;
  std::string warning = Warning(result.out);
  warning.pop_back();  // the newline
  const std::string hooked = absl::StrCat(
      "HOOK DeprecationWarning|",
      warning.substr(std::string("DeprecationWarning: ").size()), "\n");
  EXPECT_EQ(Count(result.out, hooked), 1u) << result.out;
  EXPECT_FALSE(absl::StrContains(result.err, "DeprecationWarning"))
      << result.err;
}

// One thread: no warning.
CONFORMANCE_TEST(ForkWarning, SingleThreadedParentDoesNotWarn,
                 "robustness.fork_warning.multithreaded") {
  ExpectExitsWithoutWarning({"alone", "fork"});
}

// spawn does not fork this process: no warning, threads or not.
CONFORMANCE_TEST(ForkWarning, SpawnDoesNotWarn,
                 "robustness.fork_warning.multithreaded") {
  ExpectExitsWithoutWarning({"thread", "spawn"});
}

// A backend that cannot count threads never warns.
CONFORMANCE_TEST(ForkWarning, UnknownThreadCountNeverWarns,
                 "robustness.fork_warning.unknown_thread_count") {
  if (platform::CurrentBackend().ThreadCount().has_value()) {
    CONFORMANCE_REQUIRE(
        Unsupported(absl::StrCat("backend ", BackendName(),
                                 " counts threads (see the clause "
                                 "robustness.fork_warning.multithreaded)")));
  }
  ExpectExitsWithoutWarning({"thread", "fork"});
}

}  // namespace
}  // namespace conformance::robustness
