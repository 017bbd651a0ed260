// Runs the main-guard examples as programs and checks what they print.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"

namespace {

using ::procspec::platform::testing::CommandResult;
using ::procspec::platform::testing::RunCommand;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

CommandResult RunProgram(const std::vector<std::string>& argv) {
  absl::StatusOr<CommandResult> result =
      RunCommand(argv, absl::Now() + absl::Seconds(60));
  EXPECT_OK(result);
  return result.ok() ? *result : CommandResult{};
}

class ExamplesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExamplesTest, GuardedProgramRunsItsPrologueOncePerProcess) {
  ::procspec::platform::testing::SetEnv("PROCSPEC_BACKEND", GetParam());
  CommandResult result = RunProgram({"examples/spawn_guarded"});
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  // Code before the guard: the parent and each of the two spawned children.
  EXPECT_THAT(
      Lines(result.out),
      UnorderedElementsAre("before the guard", "before the guard",
                           "before the guard", "p1 runing", "p2 runing", "主"));
  EXPECT_EQ(Lines(result.out).back(), "主");
}

TEST_P(ExamplesTest, UnguardedProgramFailsInTheChildWithoutRecursing) {
  ::procspec::platform::testing::SetEnv("PROCSPEC_BACKEND", GetParam());
  CommandResult result = RunProgram({"examples/spawn_unguarded"});
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  // Exactly two processes ran main(): the parent and one child, which failed.
  EXPECT_THAT(Lines(result.out),
              ElementsAre("main() entered", "main() entered", "exitcode 1"));
  EXPECT_THAT(result.err,
              HasSubstr("RuntimeError: \n        An attempt has been made to "
                        "start a new process before the\n        current "
                        "process has finished its bootstrapping phase."));
  EXPECT_THAT(result.err, HasSubstr("if __name__ == '__main__':"));
}

TEST_P(ExamplesTest, UnguardedProgramWorksUnderFork) {
  absl::StatusOr<::procspec::platform::Backend*> backend =
      ::procspec::platform::GetBackend(GetParam());
  ASSERT_TRUE(backend.ok()) << backend.status();
  if (!(*backend)->SupportsFork())
    GTEST_SKIP() << "backend " << GetParam() << " has no fork start method";
  ::procspec::platform::testing::SetEnv("PROCSPEC_BACKEND", GetParam());
  CommandResult result = RunProgram({"examples/spawn_unguarded", "fork"});
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_THAT(Lines(result.out),
              ElementsAre("main() entered", "p1 runing", "exitcode 0"));
  EXPECT_EQ(result.err, "");
}

// Every backend this build has (linux and posix on Linux, windows on Windows).
INSTANTIATE_TEST_SUITE_P(
    AllBackends, ExamplesTest,
    ::testing::ValuesIn(::procspec::platform::BackendNames()),
    [](const auto& info) { return info.param; });

}  // namespace
