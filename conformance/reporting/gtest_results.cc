#include "conformance/reporting/gtest_results.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/reporting/json_fields.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

using Json = nlohmann::json;

// A status's two spellings: the report's and a results file's.
struct StatusNames {
  TestStatus status;
  absl::string_view name;
  absl::string_view outcome;
};
constexpr StatusNames kStatusNames[] = {
    {TestStatus::kPassed, "passed", "PASS"},
    {TestStatus::kFailed, "failed", "FAIL"},
    {TestStatus::kUnsupported, "unsupported", "UNSUPPORTED"},
    {TestStatus::kSkipped, "skipped", "SKIPPED"},
    {TestStatus::kDisabled, "disabled", "NOT RUN"},
    {TestStatus::kMissing, "missing", "FAIL"},
};

const StatusNames& NamesOf(TestStatus status) {
  for (const StatusNames& names : kStatusNames) {
    if (names.status == status) return names;
  }
  return kStatusNames[1];  // not reached: every status is listed
}

TestResult ReadTest(const std::string& suite, const Json& test) {
  TestResult result;
  result.test = absl::StrCat(suite, ".", StringField(test, "name"));
  for (absl::string_view id :
       absl::StrSplit(StringField(test, "clauses"), ',', absl::SkipEmpty())) {
    result.clauses.emplace_back(id);
  }
  std::vector<std::string> failures;
  if (auto it = test.find("failures"); it != test.end() && it->is_array()) {
    for (const Json& failure : *it)
      failures.push_back(StringField(failure, "failure"));
  }
  if (StringField(test, "status") == "NOTRUN" ||
      StringField(test, "result") == "SUPPRESSED") {
    result.status = TestStatus::kDisabled;
  } else if (!failures.empty()) {
    // A failure wins over a skip: a test can fail in SetUp and then skip.
    result.status = TestStatus::kFailed;
    result.message = absl::StrJoin(failures, "\n");
  } else if (StringField(test, "result") == "SKIPPED") {
    const bool unsupported = StringField(test, "outcome") == "UNSUPPORTED";
    result.status =
        unsupported ? TestStatus::kUnsupported : TestStatus::kSkipped;
    result.message = unsupported ? StringField(test, "reason")
                                 : "skipped without an UNSUPPORTED outcome "
                                   "(use CONFORMANCE_REQUIRE)";
  } else {
    result.status = TestStatus::kPassed;
  }
  return result;
}

}  // namespace

absl::string_view TestStatusName(TestStatus status) {
  return NamesOf(status).name;
}

absl::string_view TestOutcomeName(TestStatus status) {
  return NamesOf(status).outcome;
}

absl::StatusOr<std::vector<TestResult>> ParseGtestResults(
    absl::string_view json_text) {
  absl::StatusOr<Json> json = ParseJson(json_text, "gtest results are");
  if (!json.ok()) return json.status();
  const Json& document = *json;
  auto suites =
      document.is_object() ? document.find("testsuites") : document.end();
  if (suites == document.end() || !suites->is_array()) {
    return absl::InvalidArgumentError("gtest results: no \"testsuites\" array");
  }
  std::vector<TestResult> results;
  for (const Json& suite : *suites) {
    const std::string suite_name = StringField(suite, "name");
    auto tests = suite.find("testsuite");
    if (tests == suite.end() || !tests->is_array()) continue;
    for (const Json& test : *tests)
      results.push_back(ReadTest(suite_name, test));
  }
  return results;
}

}  // namespace conformance
