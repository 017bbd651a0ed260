#include "conformance/lint/lint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/testing/status_matchers.h"

namespace conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Registry MakeRegistry() {
  absl::StatusOr<Registry> registry = Registry::Parse(R"({
    "capabilities": {"fork": "forks"},
    "clauses": [
      {"id": "process.a.tested", "area": "process", "title": "t", "seed": "", "cpython": "c",
       "kind": "normative", "untested": ""},
      {"id": "process.b.excused", "area": "process", "title": "t", "seed": "", "cpython": "c",
       "kind": "normative", "untested": "needs spawn"}
    ]})");
  EXPECT_OK(registry);
  return *std::move(registry);
}

TEST(LintTest, AcceptsTestedAndExcusedClauses) {
  EXPECT_THAT(LintCitations(MakeRegistry(),
                            {{"A.B", {"process.a.tested"}, "a_test.cc", 3}}),
              IsEmpty());
}

TEST(LintTest, RejectsAnUnknownClause) {
  EXPECT_THAT(
      LintCitations(
          MakeRegistry(),
          {{"A.B", {"process.a.tested", "process.a.typo"}, "a_test.cc", 3}}),
      ElementsAre("A.B (a_test.cc:3) cites unknown clause \"process.a.typo\""));
}

TEST(LintTest, RejectsAClauseWithNeitherTestNorReason) {
  EXPECT_THAT(
      LintCitations(MakeRegistry(), {}),
      ElementsAre(HasSubstr("clause process.a.tested has neither a test nor")));
}

TEST(LintTest, RejectsAStaleUntestedReason) {
  EXPECT_THAT(LintCitations(MakeRegistry(),
                            {{"A.B", {"process.a.tested"}, "a_test.cc", 3},
                             {"C.D", {"process.b.excused"}, "c_test.cc", 9}}),
              ElementsAre(HasSubstr(
                  "clause process.b.excused is tested by C.D (c_test.cc:9) "
                  "but still has an \"untested\" reason (stale)")));
}

TEST(LintTest, RejectsATestCitingNothing) {
  EXPECT_THAT(LintCitations(MakeRegistry(),
                            {{"A.B", {"process.a.tested"}, "a_test.cc", 3},
                             {"E.F", {}, "e_test.cc", 1}}),
              ElementsAre("E.F (e_test.cc:1) cites no clause"));
}

// Not applicable under some start methods is fine; under all of them the
// clause could never be checked.
TEST(LintTest, RejectsAClauseNotApplicableUnderEveryStartMethod) {
  absl::StatusOr<Registry> registry = Registry::Parse(R"({
    "capabilities": {},
    "clauses": [
      {"id": "process.a.some", "area": "process", "title": "t", "seed": "", "cpython": "c",
       "kind": "normative", "start_methods": {"spawn": "not_applicable: r",
                                              "forkserver": "not_applicable: r"}},
      {"id": "process.b.none", "area": "process", "title": "t", "seed": "", "cpython": "c",
       "kind": "normative", "start_methods": {"fork": "not_applicable: r",
                                              "spawn": "not_applicable: r",
                                              "forkserver": "not_applicable: r"}}
    ]})");
  ASSERT_OK(registry);
  EXPECT_THAT(
      LintCitations(*registry,
                    {{"A.B", {"process.a.some", "process.b.none"}, "a.cc", 3}}),
      ElementsAre("clause process.b.none is not_applicable under every start "
                  "method: nothing can check it"));
}

}  // namespace
}  // namespace conformance
