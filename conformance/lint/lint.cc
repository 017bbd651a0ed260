#include "conformance/lint/lint.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace conformance {

std::vector<std::string> LintCitations(
    const Registry& registry, const std::vector<TestCitation>& citations) {
  std::vector<std::string> problems;
  // clause id -> "test (file:line)"
  std::map<std::string, std::vector<std::string>> tests_of;
  for (const TestCitation& citation : citations) {
    const std::string where =
        absl::StrCat(citation.test, " (", citation.Location(), ")");
    if (citation.clauses.empty())
      problems.push_back(absl::StrCat(where, " cites no clause"));
    for (const std::string& id : citation.clauses) {
      if (registry.Find(id) == nullptr) {
        problems.push_back(
            absl::StrCat(where, " cites unknown clause \"", id, "\""));
        continue;
      }
      tests_of[id].push_back(where);
    }
  }
  for (const Clause& clause : registry.clauses()) {
    bool applicable_somewhere = false;
    for (absl::string_view method : kKnownStartMethods) {
      if (NotApplicableReason(clause, method).empty()) {
        applicable_somewhere = true;
      }
    }
    if (!applicable_somewhere) {
      problems.push_back(absl::StrCat(
          "clause ", clause.id,
          " is not_applicable under every start method: nothing can check it"));
    }
    auto tested = tests_of.find(clause.id);
    if (tested == tests_of.end() && clause.untested.empty()) {
      problems.push_back(
          absl::StrCat("clause ", clause.id,
                       " has neither a test nor an \"untested\" reason"));
    } else if (tested != tests_of.end() && !clause.untested.empty()) {
      problems.push_back(
          absl::StrCat("clause ", clause.id, " is tested by ",
                       absl::StrJoin(tested->second, ", "),
                       " but still has an \"untested\" reason (stale): \"",
                       clause.untested, "\""));
    }
  }
  return problems;
}

}  // namespace conformance
