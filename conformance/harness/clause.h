// Conformance tests cite the clauses they check (see docs/design.md and
// conformance/clauses.json).
//
//   CONFORMANCE_TEST(Join, TimeoutLeavesChildRunning, "process.join.timeout") {
//     ...gtest assertions...
//   }
//   CONFORMANCE_TEST_F(ForkedChild, KillExitcode, "process.kill.sigkill",
//                      "process.exitcode.signal") {
//     ...
//   }
//
// A test registered this way:
//   - is listed, with its clauses and file:line, by
//     `<suite binary> --list_clauses` (nothing runs);
//   - records the gtest property `clauses` ("a.b.c,d.e.f") for the report;
//   - is skipped as UNSUPPORTED (property `outcome=UNSUPPORTED`, a message
//     naming the capability) when the backend's capability manifest lacks a
//     capability a cited clause requires. The check runs at the start of the
//     test body, i.e. after the fixture's SetUp.
//
// Inside a test, gate on what the cited clauses do not imply:
//   CONFORMANCE_REQUIRE(conformance::RequireCapability("proc_fs"));
//   CONFORMANCE_REQUIRE(conformance::RequirePython3());
//   CONFORMANCE_REQUIRE(conformance::BecomeChildSubreaper());  // subreaper.h
// An Unavailable status (see Unsupported()) skips the test as UNSUPPORTED; any
// other error fails it. Nothing is ever skipped silently.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_CLAUSE_H_
#define PROCSPEC_CONFORMANCE_HARNESS_CLAUSE_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "conformance/registry/citations.h"
#include "gtest/gtest.h"

namespace conformance {

// The status a requirement returns when this backend or machine cannot run the
// test: code Unavailable, message "UNSUPPORTED: <why>".
absl::Status Unsupported(absl::string_view why);
bool IsUnsupported(const absl::Status& status);

// OK if the backend's manifest lists `capability`, else Unsupported naming it.
// Fails (not skips) when no manifest was loaded or the registry does not
// declare the capability. "python3_differential" is a property of the machine,
// not of a backend: it is available when RequirePython3() is.
absl::Status RequireCapability(absl::string_view capability);
// OK if `python3` is on PATH, else Unsupported: differential checks never pass
// silently.
absl::Status RequirePython3();

// Every CONFORMANCE_TEST in this binary, in registration order.
const std::vector<TestCitation>& RegisteredCitations();

namespace internal {

// Registers a citation (at static initialisation) and returns it for the test
// body.
const TestCitation& RegisterCitation(
    const char* suite, const char* name, const char* file, int line,
    std::initializer_list<const char*> clauses);
// Records the `clauses` property and checks the cited clauses' capabilities.
absl::Status EnterConformanceTest(const TestCitation& citation);
// Records `outcome=UNSUPPORTED` and the reason on the current test.
void RecordUnsupported(const absl::Status& status);

// Registers test class `Test` (derived from `Fixture`) with gtest, as TEST_F
// would.
template <typename Fixture, typename Test>
bool RegisterGtest(const char* suite, const char* name, const char* file,
                   int line) {
  // The factory returns Fixture* so gtest sees the fixture's type id, as with
  // TEST_F (mixing fixtures in one test suite is then still reported).
  ::testing::RegisterTest(suite, name, nullptr, nullptr, file, line,
                          []() -> Fixture* { return new Test(); });
  return true;
}

}  // namespace internal
}  // namespace conformance

// Skips the test as UNSUPPORTED when `status_expr` is Unsupported, fails it on
// any other error.
#define CONFORMANCE_REQUIRE(status_expr)                               \
  do {                                                                 \
    const ::absl::Status conformance_status_ = (status_expr);          \
    if (::conformance::IsUnsupported(conformance_status_)) {           \
      ::conformance::internal::RecordUnsupported(conformance_status_); \
      GTEST_SKIP() << conformance_status_.message();                   \
    } else if (!conformance_status_.ok()) {                            \
      FAIL() << conformance_status_;                                   \
    }                                                                  \
  } while (false)

#define CONFORMANCE_TEST_CLASS_(suite, name) suite##_##name##_ConformanceTest
#define CONFORMANCE_TEST_IMPL_(fixture, suite, name, ...)                      \
  class CONFORMANCE_TEST_CLASS_(suite, name) : public fixture {                \
   private:                                                                    \
    void TestBody() override;                                                  \
    void ConformanceBody();                                                    \
    static const ::conformance::TestCitation& citation_;                       \
    static const bool registered_;                                             \
  };                                                                           \
  const ::conformance::TestCitation& CONFORMANCE_TEST_CLASS_(                  \
      suite, name)::citation_ =                                                \
      ::conformance::internal::RegisterCitation(#suite, #name, __FILE__,       \
                                                __LINE__, {__VA_ARGS__});      \
  const bool CONFORMANCE_TEST_CLASS_(suite, name)::registered_ =               \
      ::conformance::internal::RegisterGtest<fixture, CONFORMANCE_TEST_CLASS_( \
                                                          suite, name)>(       \
          #suite, #name, __FILE__, __LINE__);                                  \
  void CONFORMANCE_TEST_CLASS_(suite, name)::TestBody() {                      \
    CONFORMANCE_REQUIRE(                                                       \
        ::conformance::internal::EnterConformanceTest(citation_));             \
    ConformanceBody();                                                         \
  }                                                                            \
  void CONFORMANCE_TEST_CLASS_(suite, name)::ConformanceBody()

// CONFORMANCE_TEST(Suite, Name, "clause.id", ...) { body }: a TEST citing one
// or more clauses.
#define CONFORMANCE_TEST(suite, name, clause, ...)     \
  CONFORMANCE_TEST_IMPL_(::testing::Test, suite, name, \
                         clause __VA_OPT__(, ) __VA_ARGS__)

// CONFORMANCE_TEST_F(Fixture, Name, "clause.id", ...) { body }: a TEST_F citing
// clauses.
#define CONFORMANCE_TEST_F(fixture, name, clause, ...) \
  CONFORMANCE_TEST_IMPL_(fixture, fixture, name,       \
                         clause __VA_OPT__(, ) __VA_ARGS__)

#endif  // PROCSPEC_CONFORMANCE_HARNESS_CLAUSE_H_
