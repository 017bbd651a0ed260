// A results file: everything one run of one suite instance found, in one
// self-contained JSON document, so that a run made on another machine (a port
// to an OS this machine cannot run) can be brought back and shown as a column
// of the ports report.
//
//   {"schema": "procspec-results/1",
//    "suite": "suite_linux_fork", "started": "2026-12-07T06:00:00Z",
//    "host": {"label": "", "sysname": "Linux", "release": "...",
//             "machine": "x86_64"},
//    "backend": "linux", "start_method": "fork",
//    "capabilities": {"backend": [...], "host": [...]},
//    "expectations": {"clause.id": {"outcome": "FAIL", "reason": "..."}},
//    "tests": [{"name": "Suite.Test", "location": "file.cc:12",
//               "clauses": ["a.b"], "outcome": "PASS" | "FAIL" |
//               "UNSUPPORTED" | "SKIPPED", "reason": "...", "seconds": 0.1}],
//    "clauses": [{"id": "a.b", "outcome": "PASS" | "FAIL" | "UNSUPPORTED" |
//                 "N/A" | "XFAIL" | "XPASS" | "UNTESTED", "reason": "..."}],
//    "exit_code": 0}
//
// The host's capabilities are what the suite probed at run time; its label is
// empty unless whoever ran it named it (--host_label).
#ifndef PROCSPEC_CONFORMANCE_REPORTING_RESULTS_FILE_H_
#define PROCSPEC_CONFORMANCE_REPORTING_RESULTS_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "conformance/reporting/gtest_results.h"
#include "conformance/reporting/matrix.h"

namespace conformance {

inline constexpr absl::string_view kResultsSchema = "procspec-results/1";

struct ResultsFile {
  std::string suite;
  std::string started;  // RFC 3339, UTC
  std::string host_label;
  std::string sysname;
  std::string release;
  std::string machine;
  std::string backend;
  std::string start_method;
  std::vector<std::string> backend_capabilities;
  std::vector<std::string> host_capabilities;
  Expectations expectations;
  struct Test {
    TestCitation citation;  // name, clauses, file:line
    TestResult result;
    double seconds = 0;
  };
  std::vector<Test> tests;
  struct ClauseOutcome {
    std::string id;
    std::string outcome;
    std::string reason;
  };
  std::vector<ClauseOutcome> clauses;
  int exit_code = 0;
};

// Fills `clauses` from `tests` and `expectations` with the report's own rules.
void ComputeClauseOutcomes(const Registry& registry, ResultsFile& file);

std::string RenderResultsFile(const ResultsFile& file);
absl::StatusOr<ResultsFile> ParseResultsFile(absl::string_view json_text);

// The file as one column of a report. `extra` (a host's expectations) adds to
// the file's own expectations and wins where both name a clause.
ColumnRun ToColumnRun(const ResultsFile& file, const Expectations& extra = {});

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_RESULTS_FILE_H_
