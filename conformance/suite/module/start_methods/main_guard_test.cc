// The seed's Windows rule (在windows中process()必须放到#if __name__ ==
// '__main__':下), which is the spawn start method's: every child is a fresh run
// of the program, so what runs before the main guard runs again in the child,
// and a process started there fails while bootstrapping. The programs are
// //examples:spawn_guarded and //examples:spawn_unguarded; their first
// argument picks the start method. They run as separate programs, so these
// tests hold whatever start method the suite instance uses.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/examples.h"
#include "conformance/suite/common/process_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace conformance {
namespace {

namespace os = ::procspec::platform::testing;
using ::conformance::testing::RunExample;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Under spawn, a program without the guard starts a process from code the
// child runs again: the child fails with CPython's RuntimeError before its
// target, exits 1, and does not start another process (exactly two processes
// enter main()); the parent's start() succeeded and it sees exitcode 1.
CONFORMANCE_TEST(MainGuard, UnguardedStartFailsInTheSpawnedChild,
                 "module.start_method.main_guard_spawn") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("spawn_unguarded", {"spawn"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(Lines(result.out),
              ElementsAre("main() entered", "main() entered", "exitcode 1"));
  EXPECT_THAT(result.err,
              HasSubstr("An attempt has been made to start a new process "
                        "before the\n        current process has finished "
                        "its bootstrapping phase."));
  EXPECT_THAT(result.err, HasSubstr("if __name__ == '__main__':"));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr("p1 runing")));
}

// Under fork the same unguarded program works: the child does not run main()
// again, it runs the target.
CONFORMANCE_TEST(MainGuard, UnguardedProgramWorksUnderFork,
                 "module.start_method.main_guard_spawn") {
  // The program runs under fork or forkserver: a backend that cannot fork
  // (windows) has neither.
  CONFORMANCE_REQUIRE(RequireCapability("fork"));
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("spawn_unguarded", {"fork"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(Lines(result.out),
              ElementsAre("main() entered", "p1 runing", "exitcode 0"));
  EXPECT_EQ(result.err, "");
}

// Under spawn, code before the guard runs again in every child: the parent's
// prologue line and one per child (two children), then each target runs once.
CONFORMANCE_TEST(MainGuard, CodeBeforeTheGuardRunsAgainInEverySpawnedChild,
                 "module.start_method.spawn_reruns_module_code") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("spawn_guarded", {"spawn"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(
      Lines(result.out),
      UnorderedElementsAre("before the guard", "before the guard",
                           "before the guard", "p1 runing", "p2 runing", "主"));
  EXPECT_EQ(Lines(result.out).back(), "主");
}

// Under fork the prologue runs once, in the parent only.
CONFORMANCE_TEST(MainGuard, CodeBeforeTheGuardRunsOnceUnderFork,
                 "module.start_method.spawn_reruns_module_code") {
  // The program runs under fork or forkserver: a backend that cannot fork
  // (windows) has neither.
  CONFORMANCE_REQUIRE(RequireCapability("fork"));
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("spawn_guarded", {"fork"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(
      Lines(result.out),
      UnorderedElementsAre("before the guard", "p1 runing", "p2 runing", "主"));
  EXPECT_EQ(Lines(result.out).front(), "before the guard");
}

}  // namespace
}  // namespace conformance
