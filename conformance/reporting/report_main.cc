// `./bazelw run //conformance:report`: runs every suite instance, prints the
// clause x (backend, start method) matrix and writes
// report/conformance.{md,json,html} (and each instance's log under
// report/logs/) in the workspace. Exits 1 when the matrix says the run fails
// (see matrix.h).
//
// Its flags (--help lists them) are set by conformance_report in
// conformance/defs.bzl. The output goes to --output_dir, else
// $BUILD_WORKSPACE_DIRECTORY/report (set by `bazel run`), else ./report.
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/file_util.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "conformance/reporting/gtest_results.h"
#include "conformance/reporting/matrix.h"
#include "conformance/reporting/render.h"
#include "conformance/reporting/report_files.h"
#include "conformance/reporting/robustness.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"

ABSL_FLAG(std::string, registry, "", "the clause registry (clauses.json)");
ABSL_FLAG(std::vector<std::string>, instances, {},
          "the suite instances to run, comma-separated, each "
          "<backend>:<start method>:<suite binary>:<capabilities.json>:"
          "<expectations.json>");
ABSL_FLAG(std::vector<std::string>, robustness_records, {},
          "committed records the Robustness section shows (robustness.h), "
          "comma-separated");
ABSL_FLAG(std::string, output_dir, "",
          "where the report goes (default: $BUILD_WORKSPACE_DIRECTORY/report, "
          "else ./report)");

namespace conformance {
namespace {

namespace os = ::procspec::platform::testing;

// Generous: a suite that hangs this long is broken, and the report says so
// instead of hanging.
constexpr absl::Duration kSuiteDeadline = absl::Hours(1);

struct Instance {
  Column column;
  std::string binary;
  std::string capabilities;
  std::string expectations;
};

// --instances, parsed.
absl::StatusOr<std::vector<Instance>> InstancesFromFlag() {
  std::vector<Instance> instances;
  for (const std::string& instance : absl::GetFlag(FLAGS_instances)) {
    std::vector<std::string> parts = absl::StrSplit(instance, ':');
    if (parts.size() != 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--instances: each wants <backend>:<start method>:<suite binary>:"
          "<capabilities.json>:<expectations.json>, not ",
          instance));
    }
    instances.push_back({{parts[0], parts[1]}, parts[2], parts[3], parts[4]});
  }
  return instances;
}

// --output_dir, else $BUILD_WORKSPACE_DIRECTORY/report, else ./report.
std::filesystem::path OutputDir() {
  if (std::string dir = absl::GetFlag(FLAGS_output_dir); !dir.empty()) {
    return dir;
  }
  return std::filesystem::path(
             os::GetEnv("BUILD_WORKSPACE_DIRECTORY")
                 .value_or(std::filesystem::current_path().string())) /
         "report";
}

// Runs one instance: its citations, then its tests with JSON output.
ColumnRun RunInstance(const Instance& instance, const std::string& registry,
                      const std::filesystem::path& scratch,
                      const std::filesystem::path& logs) {
  ColumnRun run;
  run.column = instance.column;
  const std::string name =
      absl::StrCat(instance.column.backend, "_", instance.column.start_method);
  absl::StatusOr<Expectations> expectations =
      LoadExpectations(instance.expectations);
  if (!expectations.ok()) {
    run.run_status = expectations.status();
    return run;
  }
  run.expectations = *std::move(expectations);

  absl::StatusOr<os::CommandResult> listed =
      os::RunCommand({instance.binary, "--list_clauses"});
  absl::StatusOr<std::vector<TestCitation>> citations =
      listed.ok() ? ParseCitations(listed->out)
                  : absl::StatusOr<std::vector<TestCitation>>(listed.status());
  if (!citations.ok()) {
    run.run_status = citations.status();
    return run;
  }
  run.citations = *std::move(citations);

  const std::string json_path = (scratch / (name + ".json")).string();
  std::fprintf(stderr, "report: running %s (%s)\n", instance.binary.c_str(),
               instance.column.Label().c_str());
  absl::StatusOr<os::CommandResult> ran = os::RunCommand(
      {instance.binary, "--backend=" + instance.column.backend,
       "--start_method=" + instance.column.start_method,
       "--capabilities=" + instance.capabilities,
       "--expectations=" + instance.expectations, "--registry=" + registry,
       "--gtest_output=json:" + json_path},
      absl::Now() + kSuiteDeadline);
  if (!ran.ok()) {
    run.run_status = ran.status();
    return run;
  }
  const std::string log_path = (logs / (name + ".log")).string();
  (void)WriteFile(log_path, ran->out + ran->err);
  std::fprintf(stderr, "report:   exit code %d; log %s\n",
               ran->status.exitcode(), log_path.c_str());
  absl::StatusOr<std::string> json = ReadFile(json_path);
  absl::StatusOr<std::vector<TestResult>> results =
      json.ok() ? ParseGtestResults(*json)
                : absl::StatusOr<std::vector<TestResult>>(json.status());
  if (!results.ok()) {
    // A suite that dies mid-run writes no JSON: every cited test is then
    // missing (FAIL).
    run.run_status = absl::Status(
        results.status().code(),
        absl::StrCat("exit code ", ran->status.exitcode(), ", ",
                     results.status().message(), "; see ", log_path));
    return run;
  }
  run.results = *std::move(results);
  return run;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "runs every suite instance and writes the conformance report; run it as "
      "./bazelw run //conformance:report");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    return InputError("report", absl::InvalidArgumentError(absl::StrCat(
                                    "unexpected argument ", positional[1])));
  }
  const std::string registry_path = absl::GetFlag(FLAGS_registry);
  absl::StatusOr<std::vector<Instance>> instances = InstancesFromFlag();
  if (!instances.ok()) return InputError("report", instances.status());
  if (registry_path.empty() || instances->empty()) {
    return InputError("report", absl::InvalidArgumentError(
                                    "needs --registry and --instances; run it "
                                    "as ./bazelw run //conformance:report"));
  }
  absl::StatusOr<Registry> registry = Registry::Load(registry_path);
  if (!registry.ok()) return InputError("report", registry.status());
  const std::filesystem::path output = OutputDir();
  const std::filesystem::path logs = output / "logs";
  const std::filesystem::path scratch =
      std::filesystem::temp_directory_path() /
      absl::StrCat("procspec-report-", procspec::platform::CurrentPid());
  std::error_code error;
  std::filesystem::create_directories(logs, error);
  std::filesystem::create_directories(scratch, error);
  if (error) {
    return InputError(
        "report", absl::InternalError(absl::StrCat(
                      "cannot create ", logs.string(), ": ", error.message())));
  }

  std::vector<ColumnRun> runs;
  for (const Instance& instance : *instances) {
    runs.push_back(RunInstance(instance, registry_path, scratch, logs));
  }
  std::filesystem::remove_all(scratch, error);

  Report report = BuildReport(*registry, runs);
  std::vector<RobustnessRecord> records;
  for (const std::string& path : absl::GetFlag(FLAGS_robustness_records))
    records.push_back({path, ReadFile(path)});
  report.robustness = BuildRobustness(report, records);
  std::printf("%s", RenderText(report).c_str());
  if (absl::Status status = WriteReportFiles(report, output, "conformance");
      !status.ok()) {
    return InputError("report", status);
  }
  const int exit_code = ExitCode(report);
  PrintVerdict("report", output, "conformance", exit_code);
  return exit_code;
}

}  // namespace
}  // namespace conformance

int main(int argc, char** argv) { return conformance::Main(argc, argv); }
