// The report's "Robustness" section: what was run to show that the
// library survives load, faults and bad input, and what came of it. Two
// sources, both shown as they are:
//   - the registry's clauses in area "robustness" (stress, faults, PID reuse,
//     the fork warning...), whose outcomes are in the matrix of this run;
//   - committed records of runs that are too long or need another toolchain
//     for the report to redo, in conformance/records/: sanitizers.json
//     (`.ci/run --record`: the suite under each sanitizer config CI runs) and
//     fuzz.json (`tools/fuzz.sh`: executions per libFuzzer target). A record
//     says when and at which commit it was made; a missing one is shown as
//     such.
#ifndef PROCSPEC_CONFORMANCE_REPORTING_ROBUSTNESS_H_
#define PROCSPEC_CONFORMANCE_REPORTING_ROBUSTNESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "conformance/reporting/matrix.h"

namespace conformance {

// The area of the registry whose clauses the section lists.
inline constexpr char kRobustnessArea[] = "robustness";

// A record file as read: its path, and its contents or why it is missing.
struct RobustnessRecord {
  std::string path;
  absl::StatusOr<std::string> contents;
};

// The clauses of kRobustnessArea in `report` (one check each, its result
// summarizing its cells), then each record's runs (one check per sanitizer
// config or fuzz target; one "record" check for a missing or malformed file).
std::vector<RobustnessCheck> BuildRobustness(
    const Report& report, const std::vector<RobustnessRecord>& records);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_ROBUSTNESS_H_
