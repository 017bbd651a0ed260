// The conformance matrix: for every clause and every (backend, start method),
// one outcome.
//
//   PASS         every test citing the clause passed (tests skipped as
//                UNSUPPORTED aside)
//   FAIL         a test failed, was skipped without a capability reason, or
//                did not report
//   UNSUPPORTED  every test was skipped: the backend lacks a capability
//   N/A          the registry says the clause cannot be observed under this
//                start method (start_methods: "not_applicable: <reason>");
//                a failing test still makes the cell FAIL
//   UNTESTED     no test cites the clause
//   XFAIL        FAIL, and the backend's expectations.json says so (does not
//                fail the run)
//   XPASS        PASS, although expectations.json expects otherwise: flagged,
//                so that the stale expectation is removed
//
// The run fails (ExitCode 1) when a normative clause FAILs anywhere, or when
// the matrix cannot be trusted: a suite instance produced no results, a test
// cites an unknown clause, or a test outside the specification (a harness
// self-test, a leak) failed.
#ifndef PROCSPEC_CONFORMANCE_REPORTING_MATRIX_H_
#define PROCSPEC_CONFORMANCE_REPORTING_MATRIX_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "conformance/reporting/gtest_results.h"

namespace conformance {

enum class Outcome {
  kPass,
  kFail,
  kUnsupported,
  kUntested,
  kXfail,
  kXpass,
  kNotApplicable
};
absl::string_view OutcomeName(Outcome outcome);  // "PASS", ..., "N/A"
inline constexpr Outcome kAllOutcomes[] = {
    Outcome::kPass,    Outcome::kFail,        Outcome::kXfail,
    Outcome::kXpass,   Outcome::kUnsupported, Outcome::kNotApplicable,
    Outcome::kUntested};

struct Column {
  std::string backend;
  std::string start_method;
  // Where the column ran, when not on this machine natively ("gvisor",
  // "qemu_aarch64", a results file's label); "" for the native report.
  std::string host = "";
  std::string Label() const {
    return (host.empty() ? "" : host + "/") + backend + "/" + start_method;
  }
};

// Everything one suite instance produced.
struct ColumnRun {
  Column column;
  std::vector<TestCitation> citations;  // its --list_clauses output
  std::vector<TestResult> results;      // its gtest JSON
  absl::Status run_status;  // not OK: the instance produced no usable results
  Expectations expectations;
};

struct TestRef {
  std::string test;
  std::string location;  // file:line
  TestStatus status = TestStatus::kPassed;
  std::string message;
};

struct Cell {
  Outcome outcome = Outcome::kUntested;
  std::string note;            // why, for anything but a plain PASS
  std::vector<TestRef> tests;  // the tests citing the clause in this column
};

struct ClauseRow {
  Clause clause;
  std::vector<Cell> cells;              // parallel to Report::columns
  std::vector<TestCitation> citations;  // the tests that check it (file:line)
};

// One line of the report's Robustness section (robustness.h).
struct RobustnessCheck {
  std::string category;  // "clause", "sanitizer", "fuzz" or "record"
  std::string name;      // clause id, sanitizer config, fuzz target, file
  std::string result;    // PASS, FAIL, CRASH, UNTESTED, NO RECORD, ...
  std::string detail;    // what was run: figures, date, commit
};

struct Report {
  std::vector<Column> columns;
  std::vector<ClauseRow> rows;                  // registry order
  std::vector<std::map<Outcome, int>> summary;  // per column
  std::vector<std::string> problems;  // reasons the matrix cannot be trusted
  std::vector<std::string> flags;     // XPASS and other things to look at
  // Filled by BuildRobustness (robustness.h); rendered after the matrix.
  std::vector<RobustnessCheck> robustness;
};

Report BuildReport(const Registry& registry,
                   const std::vector<ColumnRun>& runs);

// 1 when a normative clause FAILs or there are problems; otherwise 0.
int ExitCode(const Report& report);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_MATRIX_H_
