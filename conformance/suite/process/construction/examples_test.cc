// The seed's two programs, //examples:function_target and
// //examples:subclass_run, run with --time_scale=0 on the backend under test.
// Lines from different processes may come in any order; what is fixed: every
// line exactly once, each child's first line before its last, and exit code 0
// (the parent's exit waits for its non-daemon children).
#include "conformance/suite/common/examples.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"

namespace conformance {
namespace {

namespace os = ::procspec::platform::testing;

// The seed's examples run without their random sleeps.
absl::StatusOr<os::CommandResult> RunSeedExample(const std::string& name) {
  return testing::RunExample(name, {"--time_scale=0"});
}

// Checks the output of a seed example whose children print "pN runing" first
// and "pN <last>" last, and whose parent prints 主 once.
void ExpectSeedOutput(const os::CommandResult& result,
                      const std::string& last) {
  EXPECT_EQ(result.status.exitcode(), 0) << result.out << result.err;
  EXPECT_EQ(result.err, "");
  std::vector<std::string> lines =
      absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  EXPECT_TRUE(result.out.empty() || result.out.back() == '\n') << result.out;
  std::map<std::string, int> count;
  std::map<std::string, int> position;
  for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
    ++count[lines[i]];
    position[lines[i]] = i;
  }
  std::map<std::string, int> expected = {{"主", 1}};
  for (int n = 1; n <= 4; ++n) {
    expected[absl::StrCat("p", n, " runing")] = 1;
    expected[absl::StrCat("p", n, " ", last)] = 1;
  }
  EXPECT_EQ(count, expected) << result.out;
  for (int n = 1; n <= 4; ++n) {
    const std::string first = absl::StrCat("p", n, " runing");
    const std::string end = absl::StrCat("p", n, " ", last);
    if (count[first] == 1 && count[end] == 1) {
      EXPECT_LT(position[first], position[end]) << result.out;
    }
  }
}

// Example 1: Process(target=task, args=('pN',)) x4, started, then print 主.
CONFORMANCE_TEST(SeedExample, FunctionTargets,
                 "process.example.function_targets") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunSeedExample("function_target"));
  ExpectSeedOutput(result, "run end");
}

// Example 2: class Pro(Process) sets its name in its constructor; start()
// calls the overridden run() in the child, which prints that name.
CONFORMANCE_TEST(SeedExample, SubclassOverridingRun,
                 "process.example.subclass") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result,
                       RunSeedExample("subclass_run"));
  ExpectSeedOutput(result, "end");
}

}  // namespace
}  // namespace conformance
