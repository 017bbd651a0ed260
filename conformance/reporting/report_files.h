// What the two report programs (report_main.cc, ports_main.cc) do alike: an
// error under the program's name, and the report written as
// <stem>.{md,json,html} with a verdict line.
#ifndef PROCSPEC_CONFORMANCE_REPORTING_REPORT_FILES_H_
#define PROCSPEC_CONFORMANCE_REPORTING_REPORT_FILES_H_

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "conformance/reporting/matrix.h"

namespace conformance {

// The exit code of a bad command line or an input that cannot be read.
inline constexpr int kInputError = 2;

// Prints "<program>: <message>" on stderr and returns kInputError.
int InputError(absl::string_view program, const absl::Status& status);

// Writes `report` as <directory>/<stem>.md, .json and .html.
absl::Status WriteReportFiles(const Report& report,
                              const std::filesystem::path& directory,
                              absl::string_view stem);

// Prints where the files went and the verdict of `exit_code` (ExitCode).
void PrintVerdict(absl::string_view program,
                  const std::filesystem::path& directory,
                  absl::string_view stem, int exit_code);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REPORTING_REPORT_FILES_H_
