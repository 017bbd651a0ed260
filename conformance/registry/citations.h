// Which clauses each conformance test cites: what `<suite binary>
// --list_clauses` prints and what the lint and the report read back. Kept apart
// from the harness so that tools can parse it without linking gtest.
//
// Format: {"tests": [{"test": "Suite.Name", "clauses": ["a.b.c"], "file":
// "...", "line": 12}]}
#ifndef PROCSPEC_CONFORMANCE_REGISTRY_CITATIONS_H_
#define PROCSPEC_CONFORMANCE_REGISTRY_CITATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conformance {

struct TestCitation {
  std::string test;  // "Suite.Name", as gtest names it
  std::vector<std::string> clauses;
  std::string file;
  int line = 0;

  // "file:line", for messages and the report.
  std::string Location() const;
};

std::string CitationsToJson(const std::vector<TestCitation>& citations);
absl::StatusOr<std::vector<TestCitation>> ParseCitations(
    absl::string_view json_text);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REGISTRY_CITATIONS_H_
