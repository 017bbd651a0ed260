#include "conformance/reporting/matrix.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace conformance {
namespace {

// The first line of a (possibly multi-line) gtest failure message, for one-line
// notes.
std::string FirstLines(absl::string_view message) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(message, '\n', absl::SkipWhitespace());
  // Keeps "file:line" and the first line of the message.
  if (lines.size() > 2) lines.resize(2);
  return absl::StrJoin(lines, " ");
}

// The outcome the tests show, before expectations.
Cell Observe(const Clause& clause, std::vector<TestRef> tests) {
  Cell cell;
  std::vector<std::string> failures;
  std::vector<const TestRef*> unsupported;
  int passed = 0;
  int disabled = 0;
  for (const TestRef& test : tests) {
    switch (test.status) {
      case TestStatus::kPassed:
        ++passed;
        break;
      case TestStatus::kUnsupported:
        unsupported.push_back(&test);
        break;
      case TestStatus::kDisabled:
        ++disabled;
        break;
      case TestStatus::kFailed:
      case TestStatus::kSkipped:
      case TestStatus::kMissing:
        failures.push_back(absl::StrCat(
            test.test, " ", TestStatusName(test.status),
            test.message.empty() ? "" : ": ", FirstLines(test.message)));
        break;
    }
  }
  if (!failures.empty()) {
    cell.outcome = Outcome::kFail;
    cell.note = absl::StrJoin(failures, "; ");
  } else if (passed > 0) {
    cell.outcome = Outcome::kPass;
    if (!unsupported.empty()) {
      cell.note =
          absl::StrCat(unsupported.size(), " of ", unsupported.size() + passed,
                       " tests UNSUPPORTED: ", unsupported.front()->message);
    }
  } else if (!unsupported.empty()) {
    cell.outcome = Outcome::kUnsupported;
    cell.note = unsupported.front()->message;
  } else {
    cell.outcome = Outcome::kUntested;
    cell.note = disabled > 0 ? absl::StrCat(disabled, " disabled test(s)")
                             : clause.untested;
  }
  cell.tests = std::move(tests);
  return cell;
}

// Applies the backend's expectation for the clause, if any.
void ApplyExpectation(const Expectation& expected, const Column& column,
                      Cell& cell) {
  const absl::string_view expected_name = ExpectedOutcomeName(expected.outcome);
  switch (cell.outcome) {
    case Outcome::kFail:
      if (expected.outcome == ExpectedOutcome::kFail) {
        cell.outcome = Outcome::kXfail;
        cell.note =
            absl::StrCat("expected: ", expected.reason, " (", cell.note, ")");
      }
      break;
    case Outcome::kPass:
      cell.outcome = Outcome::kXpass;
      cell.note =
          absl::StrCat("expected ", expected_name, " (", expected.reason,
                       ") but passes: remove it from platform/", column.backend,
                       "/expectations.json");
      break;
    case Outcome::kUnsupported:
      cell.note = absl::StrCat(cell.note, " (expected ", expected_name, ": ",
                               expected.reason, ")");
      break;
    case Outcome::kUntested:
    case Outcome::kXfail:
    case Outcome::kXpass:
    case Outcome::kNotApplicable:
      break;
  }
}

// Makes the cell N/A where the registry says the clause cannot be observed
// under the column's start method: the tests there (skipped, or passing on
// the parts they can check) say nothing about it. A failure stays a FAIL.
void ApplyNotApplicable(const Clause& clause, const Column& column,
                        Cell& cell) {
  const std::string reason = NotApplicableReason(clause, column.start_method);
  if (reason.empty() || cell.outcome == Outcome::kFail) return;
  cell.outcome = Outcome::kNotApplicable;
  cell.note =
      absl::StrCat("not applicable under ", column.start_method, ": ", reason);
}

}  // namespace

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kUnsupported:
      return "UNSUPPORTED";
    case Outcome::kUntested:
      return "UNTESTED";
    case Outcome::kXfail:
      return "XFAIL";
    case Outcome::kXpass:
      return "XPASS";
    case Outcome::kNotApplicable:
      return "N/A";
  }
  return "UNKNOWN";
}

Report BuildReport(const Registry& registry,
                   const std::vector<ColumnRun>& runs) {
  Report report;
  std::set<std::string> problems;
  // test -> where it is and what it cites
  std::map<std::string, TestCitation> citation_of;
  for (const ColumnRun& run : runs) {
    for (const TestCitation& citation : run.citations)
      citation_of[citation.test] = citation;
  }
  // Column -> clause id -> the tests citing it there.
  std::vector<std::map<std::string, std::vector<TestRef>>> tests_by_clause(
      runs.size());
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const ColumnRun& run = runs[k];
    const std::string label = run.column.Label();
    report.columns.push_back(run.column);
    if (!run.run_status.ok()) {
      problems.insert(absl::StrCat(label,
                                   ": the suite produced no usable results: ",
                                   run.run_status.ToString()));
    }
    std::map<std::string, const TestResult*> result_of;
    for (const TestResult& result : run.results) {
      result_of[result.test] = &result;
      const bool cites =
          !result.clauses.empty() || citation_of.contains(result.test);
      if (!cites && result.status == TestStatus::kFailed) {
        problems.insert(absl::StrCat(
            label, ": ", result.test,
            " (not a clause test) failed: ", FirstLines(result.message)));
      }
    }
    std::set<std::string> tests;
    for (const TestCitation& citation : run.citations)
      tests.insert(citation.test);
    for (const TestResult& result : run.results) {
      if (!result.clauses.empty()) tests.insert(result.test);
    }
    for (const std::string& test : tests) {
      auto result = result_of.find(test);
      auto citation = citation_of.find(test);
      TestRef ref;
      ref.test = test;
      ref.location =
          citation != citation_of.end() ? citation->second.Location() : "";
      ref.status = result != result_of.end() ? result->second->status
                                             : TestStatus::kMissing;
      ref.message = result != result_of.end() ? result->second->message
                                              : "no result recorded";
      // What the test recorded at run time wins; the static list covers tests
      // that never got that far (e.g. a crash before the body).
      const std::vector<std::string>& clauses =
          result != result_of.end() && !result->second->clauses.empty()
              ? result->second->clauses
              : citation->second.clauses;
      for (const std::string& id : clauses) {
        if (registry.Find(id) == nullptr) {
          problems.insert(
              absl::StrCat(test, " cites unknown clause \"", id, "\""));
          continue;
        }
        tests_by_clause[k][id].push_back(ref);
      }
    }
  }
  report.summary.resize(runs.size());
  for (const Clause& clause : registry.clauses()) {
    ClauseRow row;
    row.clause = clause;
    for (const auto& [test, citation] : citation_of) {
      for (const std::string& id : citation.clauses) {
        if (id == clause.id) row.citations.push_back(citation);
      }
    }
    for (std::size_t k = 0; k < runs.size(); ++k) {
      auto tests = tests_by_clause[k].find(clause.id);
      Cell cell = Observe(clause, tests == tests_by_clause[k].end()
                                      ? std::vector<TestRef>()
                                      : std::move(tests->second));
      ApplyNotApplicable(clause, runs[k].column, cell);
      const Expectation* expected = runs[k].expectations.Find(clause.id);
      if (expected != nullptr && cell.outcome != Outcome::kNotApplicable) {
        ApplyExpectation(*expected, runs[k].column, cell);
      }
      if (cell.outcome == Outcome::kXpass) {
        report.flags.push_back(absl::StrCat(
            clause.id, " on ", runs[k].column.Label(), ": ", cell.note));
      }
      ++report.summary[k][cell.outcome];
      row.cells.push_back(std::move(cell));
    }
    report.rows.push_back(std::move(row));
  }
  report.problems.assign(problems.begin(), problems.end());
  return report;
}

int ExitCode(const Report& report) {
  if (!report.problems.empty()) return 1;
  for (const ClauseRow& row : report.rows) {
    if (row.clause.kind != ClauseKind::kNormative) continue;
    for (const Cell& cell : row.cells) {
      if (cell.outcome == Outcome::kFail) return 1;
    }
  }
  return 0;
}

}  // namespace conformance
