// Programs with code before the main guard (procspec::Init), run as separate
// programs under spawn and forkserver whatever the suite instance's start
// method: an unguarded program under forkserver (//examples:spawn_unguarded),
// and argv read before the guard (//examples:argv_before_init).
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

// Under forkserver an unguarded program behaves as under spawn: the parent's
// start() succeeds, the child fails with CPython's RuntimeError before its
// target and exits 1. The fork server (a fresh run of the program) runs the
// code before the start() once: "main() entered" twice in all, as CPython's
// one child prints it when it imports the program again.
CONFORMANCE_TEST(BeforeTheGuard, UnguardedStartFailsInTheForkServerChild,
                 "module.start_method.main_guard_forkserver") {
  // The program runs under fork or forkserver: a backend that cannot fork
  // (windows) has neither.
  CONFORMANCE_REQUIRE(RequireCapability("fork"));
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("spawn_unguarded", {"forkserver"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(Lines(result.out),
              ElementsAre("main() entered", "main() entered", "exitcode 1"))
      << result.err;
  EXPECT_THAT(result.err,
              HasSubstr("An attempt has been made to start a new process "
                        "before the\n        current process has finished "
                        "its bootstrapping phase."));
  EXPECT_THAT(result.err, ::testing::Not(HasSubstr("fork server")));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr("p1 runing")));
}

// A spawned child, and a fork server's child, get the parent's arguments:
// argv[1], read before the guard, is there in each.
CONFORMANCE_TEST(BeforeTheGuard, SpawnedChildrenGetTheParentsArguments,
                 "module.start_method.child_argv") {
  for (const std::string& method : testing::SendingStartMethods()) {
    SCOPED_TRACE(method);
    ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                         RunExample("argv_before_init", {method}));
    EXPECT_EQ(result.status.exitcode(), 0) << result.err;
    const std::string before = std::string("before the guard: ") + method;
    EXPECT_THAT(Lines(result.out),
                UnorderedElementsAre(before, before, "p1 runing", "exitcode 0"))
        << result.err;
    EXPECT_EQ(result.err, "");
  }
}

// Under fork nothing runs again: the child is a copy of the parent.
CONFORMANCE_TEST(BeforeTheGuard, ForkedChildDoesNotRunTheCodeBeforeTheGuard,
                 "module.start_method.child_argv") {
  // The program runs under fork or forkserver: a backend that cannot fork
  // (windows) has neither.
  CONFORMANCE_REQUIRE(RequireCapability("fork"));
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("argv_before_init", {"fork"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(Lines(result.out),
              ElementsAre("before the guard: fork", "p1 runing", "exitcode 0"));
}

}  // namespace
}  // namespace conformance
