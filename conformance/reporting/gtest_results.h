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
  kUnsupported,  // skipped with property outcome=UNSUPPORTED
  kSkipped,  // skipped without saying why: counts as a failure, never as a pass
  kDisabled,  // not run (DISABLED_ or filtered out)
  kMissing,   // cited, but the run produced no result for it (the suite
              // crashed?)
};
absl::string_view TestStatusName(TestStatus status);

struct TestResult {
  std::string test;  // "Suite.Name"
  TestStatus status = TestStatus::kPassed;
  std::vector<std::string>
      clauses;  // from the `clauses` property; empty if none was recorded
  std::string message;  // failure messages, or the UNSUPPORTED reason
};

absl::StatusOr<std::vector<TestResult>> ParseGtestResults(
    absl::string_view json_text);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_GTEST_RESULTS_H_
