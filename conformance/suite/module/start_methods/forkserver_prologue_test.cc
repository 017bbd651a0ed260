// Under forkserver, code before procspec::Init runs once in the fork server
// (a fresh run of the program, or none when Init forked the server), where
// CPython 3.11 runs the main module again in every child.
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
using ::testing::UnorderedElementsAre;

// //examples:spawn_guarded starts two children. CPython prints its prologue
// three times under forkserver (the parent and each child); procspec twice
// (the parent and the one fork server).
CONFORMANCE_TEST(ForkServerPrologue, CodeBeforeInitRunsOnceInTheServer,
                 "module.start_method.forkserver_code_before_init") {
  // The program runs under fork or forkserver: a backend that cannot fork
  // (windows) has neither.
  CONFORMANCE_REQUIRE(RequireCapability("fork"));
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunExample("spawn_guarded", {"forkserver"}));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  const std::vector<std::string> lines =
      absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  EXPECT_THAT(lines,
              UnorderedElementsAre("before the guard", "before the guard",
                                   "p1 runing", "p2 runing", "主"));
}

}  // namespace
}  // namespace conformance
