// The ports report's merge step (conformance/ports/ports_report.sh runs the
// lanes, then this): results files -> one report, one column per
// host x backend x start method, written as report/ports.{md,json,html} in
// the native report's format.
//
//   ports_main --registry=<clauses.json> --results=<results file> ...
//              [--host_expectations=<host>=<hosts/<host>.json>] ...
//              [--not_run=<lane>=<reason>] ... [--baseline=<file>]
//              [--output_dir=<dir>]
//
// A results file's column is labelled host/backend/start_method, the host
// being the file's label ("native", "gvisor", ... or what whoever ran it
// chose), else "<sysname>-<machine>" from the file. A host's expectations
// apply on top of the file's own (the backend's). A lane that could not run
// is listed with its reason, never failing the report. --baseline (a results
// file, or an earlier ports.json or conformance.json) lists every clause
// whose outcome differs from it, column by column. Exits 1 when a normative
// clause FAILs in a column or a results file cannot be read, else 0.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "conformance/registry/file_util.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "conformance/reporting/matrix.h"
#include "conformance/reporting/render.h"
#include "conformance/reporting/report_files.h"
#include "conformance/reporting/results_file.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kProgram = "ports report";

struct Options {
  std::string registry;
  std::vector<std::string> results;
  std::map<std::string, std::string> host_expectations;  // host -> path
  std::vector<std::pair<std::string, std::string>> not_run;
  std::string baseline;
  std::string output_dir = "report";
};

// "name=value" -> {name, value}.
absl::StatusOr<std::pair<std::string, std::string>> NameValue(
    absl::string_view flag, absl::string_view arg) {
  std::size_t equals = arg.find('=');
  if (equals == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " wants <name>=<value>: ", arg));
  }
  return std::pair<std::string, std::string>(arg.substr(0, equals),
                                             arg.substr(equals + 1));
}

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--registry=")) {
      options.registry = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--results=")) {
      options.results.push_back(std::string(arg));
    } else if (absl::ConsumePrefix(&arg, "--host_expectations=")) {
      absl::StatusOr<std::pair<std::string, std::string>> pair =
          NameValue("--host_expectations", arg);
      if (!pair.ok()) return pair.status();
      options.host_expectations[pair->first] = pair->second;
    } else if (absl::ConsumePrefix(&arg, "--not_run=")) {
      absl::StatusOr<std::pair<std::string, std::string>> pair =
          NameValue("--not_run", arg);
      if (!pair.ok()) return pair.status();
      options.not_run.push_back(*pair);
    } else if (absl::ConsumePrefix(&arg, "--baseline=")) {
      options.baseline = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--output_dir=")) {
      options.output_dir = std::string(arg);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument ", arg));
    }
  }
  if (options.registry.empty()) {
    return absl::InvalidArgumentError("needs --registry");
  }
  return options;
}

// A host's expectations file: {"host": "<name>", "expected": {...}}, entries
// as in a backend's expectations.json.
absl::StatusOr<Expectations> LoadHostExpectations(const std::string& host,
                                                  const std::string& path,
                                                  const Registry& registry) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Json document = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || document.value("host", "") != host) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": wants {\"host\": \"", host, "\", ...}"));
  }
  document.erase("host");
  document["backend"] = host;
  absl::StatusOr<Expectations> expectations =
      ParseExpectations(document.dump());
  if (!expectations.ok()) {
    return absl::Status(
        expectations.status().code(),
        absl::StrCat(path, ": ", expectations.status().message()));
  }
  if (absl::Status status = ValidateExpectations(*expectations, registry);
      !status.ok()) {
    return status;
  }
  return expectations;
}

// Label -> clause id -> outcome, from a results file or a report's JSON.
absl::StatusOr<std::map<std::string, std::map<std::string, std::string>>>
LoadBaseline(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::map<std::string, std::map<std::string, std::string>> baseline;
  if (absl::StatusOr<ResultsFile> file = ParseResultsFile(*text); file.ok()) {
    const std::string label = ToColumnRun(*file).column.Label();
    for (const ResultsFile::ClauseOutcome& clause : file->clauses)
      baseline[label][clause.id] = clause.outcome;
    return baseline;
  }
  Json document = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto clauses =
      document.is_object() ? document.find("clauses") : document.end();
  if (clauses == document.end() || !clauses->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": neither a results file nor a report's JSON"));
  }
  for (const Json& clause : *clauses) {
    auto outcomes = clause.find("outcomes");
    if (outcomes == clause.end() || !outcomes->is_object()) continue;
    for (const auto& [label, cell] : outcomes->items()) {
      baseline[label][clause.value("id", "")] = cell.value("outcome", "");
    }
  }
  return baseline;
}

// The baseline column to compare `column` with: the same label, else the only
// one with the same backend and start method.
const std::map<std::string, std::string>* BaselineColumn(
    const std::map<std::string, std::map<std::string, std::string>>& baseline,
    const Column& column) {
  if (auto it = baseline.find(column.Label()); it != baseline.end())
    return &it->second;
  const std::string suffix =
      absl::StrCat(column.backend, "/", column.start_method);
  const std::map<std::string, std::string>* found = nullptr;
  for (const auto& [label, outcomes] : baseline) {
    if (label == suffix || absl::EndsWith(label, absl::StrCat("/", suffix))) {
      if (found != nullptr) return nullptr;  // ambiguous
      found = &outcomes;
    }
  }
  return found;
}

std::vector<std::string> CompareWithBaseline(
    const Report& report,
    const std::map<std::string, std::map<std::string, std::string>>& baseline) {
  std::vector<std::string> differences;
  for (std::size_t k = 0; k < report.columns.size(); ++k) {
    const std::map<std::string, std::string>* before =
        BaselineColumn(baseline, report.columns[k]);
    if (before == nullptr) {
      differences.push_back(absl::StrCat(report.columns[k].Label(),
                                         ": no column to compare with"));
      continue;
    }
    for (const ClauseRow& row : report.rows) {
      auto it = before->find(row.clause.id);
      const std::string was = it == before->end() ? "(absent)" : it->second;
      const std::string now(OutcomeName(row.cells[k].outcome));
      if (was != now) {
        differences.push_back(absl::StrCat(row.clause.id, " on ",
                                           report.columns[k].Label(), ": ", was,
                                           " -> ", now));
      }
    }
  }
  return differences;
}

int Main(int argc, char** argv) {
  absl::StatusOr<Options> options = ParseOptions(argc, argv);
  if (!options.ok()) return InputError(kProgram, options.status());
  absl::StatusOr<Registry> registry = Registry::Load(options->registry);
  if (!registry.ok()) return InputError(kProgram, registry.status());
  std::map<std::string, Expectations> hosts;
  for (const auto& [host, path] : options->host_expectations) {
    absl::StatusOr<Expectations> expectations =
        LoadHostExpectations(host, path, *registry);
    if (!expectations.ok()) return InputError(kProgram, expectations.status());
    hosts[host] = *std::move(expectations);
  }
  std::vector<ColumnRun> runs;
  std::vector<std::string> unreadable;
  for (const std::string& path : options->results) {
    absl::StatusOr<std::string> text = ReadFile(path);
    absl::StatusOr<ResultsFile> file =
        text.ok() ? ParseResultsFile(*text)
                  : absl::StatusOr<ResultsFile>(text.status());
    if (!file.ok()) {
      unreadable.push_back(absl::StrCat(path, ": ", file.status().message()));
      continue;
    }
    if (file->host_label.empty())
      file->host_label = absl::StrCat(file->sysname, "-", file->machine);
    auto host = hosts.find(file->host_label);
    runs.push_back(ToColumnRun(
        *file, host == hosts.end() ? Expectations() : host->second));
  }
  Report report = BuildReport(*registry, runs);
  for (const std::string& problem : unreadable)
    report.problems.push_back(absl::StrCat("results file ", problem));
  for (const auto& [lane, reason] : options->not_run)
    report.flags.push_back(absl::StrCat("not run: ", lane, ": ", reason));
  std::vector<std::string> differences;
  if (!options->baseline.empty()) {
    absl::StatusOr<std::map<std::string, std::map<std::string, std::string>>>
        baseline = LoadBaseline(options->baseline);
    if (!baseline.ok()) return InputError(kProgram, baseline.status());
    differences = CompareWithBaseline(report, *baseline);
    for (const std::string& difference : differences)
      report.flags.push_back(
          absl::StrCat("differs from the baseline: ", difference));
  }
  std::printf("%s", RenderText(report).c_str());
  const std::filesystem::path output(options->output_dir);
  std::error_code error;
  std::filesystem::create_directories(output, error);  // a write reports it
  if (absl::Status status = WriteReportFiles(report, output, "ports");
      !status.ok()) {
    return InputError(kProgram, status);
  }
  for (const std::string& flag : report.flags)
    std::printf("\n%s", flag.c_str());
  if (!options->baseline.empty()) {
    std::printf("\n\nports report: %zu difference(s) from %s\n",
                differences.size(), options->baseline.c_str());
  }
  const int exit_code = ExitCode(report);
  PrintVerdict(kProgram, output, "ports", exit_code);
  return exit_code;
}

}  // namespace
}  // namespace conformance

int main(int argc, char** argv) { return conformance::Main(argc, argv); }
