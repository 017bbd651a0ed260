// Reads the JSON that a suite instance writes with --gtest_output=json:<path>:
// per test, whether it passed, failed or was skipped as UNSUPPORTED, and which
// clauses it recorded.
#ifndef PROCSPEC_CONFORMANCE_REPORTING_GTEST_RESULTS_H_
#define PROCSPEC_CONFORMANCE_REPORTING_GTEST_RESULTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conformance {

enum class TestStatus {
  kPassed,
  kFailed,
  // Skipped with the property outcome=UNSUPPORTED.
  kUnsupported,
  // Skipped without saying why: counts as a failure, never as a pass.
  kSkipped,
  // Not run (DISABLED_ or filtered out).
  kDisabled,
  // Cited, but the run produced no result for it (the suite crashed?).
  kMissing,
};
// "passed", "failed", "unsupported", "skipped", "disabled" or "missing".
absl::string_view TestStatusName(TestStatus status);
// A results file's spelling (results_file.h): "PASS", "FAIL", "UNSUPPORTED",
// "SKIPPED" (a skip without a capability reason, which the matrix counts as a
// failure) or "NOT RUN"; a missing result is a "FAIL".
absl::string_view TestOutcomeName(TestStatus status);

struct TestResult {
  // "Suite.Name".
  std::string test;
  TestStatus status = TestStatus::kPassed;
  // From the `clauses` property; empty if none was recorded.
  std::vector<std::string> clauses;
  // Failure messages, or the UNSUPPORTED reason.
  std::string message;
};

absl::StatusOr<std::vector<TestResult>> ParseGtestResults(
    absl::string_view json_text);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_GTEST_RESULTS_H_
