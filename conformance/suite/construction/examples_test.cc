// The seed's two programs, //examples:function_target and
// //examples:subclass_run, run with --time_scale=0 on the backend under test.
// Lines from different processes may come in any order; what is fixed: every
// line exactly once, each child's first line before its last, and exit code 0
// (the parent's exit waits for its non-daemon children).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "platform/testing/os_testing.h"

namespace conformance {
namespace {

namespace os = ::procspec::platform::testing;

// The example binary `name` from the runfiles: under `bazel test` (TEST_SRCDIR
// or the working directory, which is the workspace's runfiles directory), and
// under `bazel run //conformance:report`, which runs this binary from the
// report's runfiles (RUNFILES_DIR, the working directory, or this binary's own
// .runfiles tree).
absl::StatusOr<std::string> FindExample(const std::string& name) {
  const std::string relative = absl::StrCat("procspec/examples/", name);
  std::vector<std::filesystem::path> candidates;
  for (const char* variable : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (std::optional<std::string> root = os::GetEnv(variable);
        root.has_value() && !root->empty()) {
      candidates.push_back(std::filesystem::path(*root) / relative);
    }
  }
  std::error_code error;
  const std::filesystem::path cwd = std::filesystem::current_path(error);
  if (!error) {
    candidates.push_back(cwd / "examples" / name);
    candidates.push_back(cwd / relative);
  }
  if (absl::StatusOr<std::string> self = os::CurrentExecutable(); self.ok()) {
    candidates.push_back(std::filesystem::path(*self + ".runfiles") / relative);
  }
  std::string tried;
  for (const std::filesystem::path& candidate : candidates) {
    if (std::filesystem::is_regular_file(candidate, error)) {
      return candidate.string();
    }
    absl::StrAppend(&tried, " ", candidate.string());
  }
  return absl::NotFoundError(
      absl::StrCat("example binary ", name, " not found; tried", tried));
}

// Runs an example with PROCSPEC_BACKEND set to the backend under test.
absl::StatusOr<os::CommandResult> RunExample(const std::string& name) {
  absl::StatusOr<std::string> path = FindExample(name);
  if (!path.ok()) return path.status();
  const std::optional<std::string> saved = os::GetEnv("PROCSPEC_BACKEND");
  os::SetEnv("PROCSPEC_BACKEND", std::string(BackendName()));
  absl::StatusOr<os::CommandResult> result =
      os::RunCommand({*path, "--time_scale=0"},
                     absl::Now() + ScaledTimeout(absl::Seconds(60)));
  os::SetEnv("PROCSPEC_BACKEND", saved.value_or(""));
  return result;
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
  ASSERT_OK_AND_ASSIGN(os::CommandResult result, RunExample("function_target"));
  ExpectSeedOutput(result, "run end");
}

// Example 2: class Pro(Process) sets its name in its constructor; start()
// calls the overridden run() in the child, which prints that name.
CONFORMANCE_TEST(SeedExample, SubclassOverridingRun,
                 "process.example.subclass") {
  ASSERT_OK_AND_ASSIGN(os::CommandResult result, RunExample("subclass_run"));
  ExpectSeedOutput(result, "end");
}

}  // namespace
}  // namespace conformance
