#include "conformance/reporting/results_file.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "conformance/reporting/json_fields.h"
#include "nlohmann/json.hpp"

namespace conformance {
namespace {

using Json = nlohmann::json;

absl::StatusOr<TestStatus> ParseTestOutcome(const std::string& name) {
  for (TestStatus status :
       {TestStatus::kPassed, TestStatus::kFailed, TestStatus::kUnsupported,
        TestStatus::kSkipped, TestStatus::kDisabled}) {
    if (TestOutcomeName(status) == name) return status;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("results file: unknown test outcome \"", name, "\""));
}

// file:line -> {file, line}.
void SplitLocation(const std::string& location, TestCitation& citation) {
  std::size_t colon = location.rfind(':');
  if (colon == std::string::npos) {
    citation.file = location;
    return;
  }
  citation.file = location.substr(0, colon);
  try {
    citation.line = std::stoi(location.substr(colon + 1));
  } catch (const std::exception&) {
    citation.file = location;  // not a line number: keep it whole
  }
}

}  // namespace

void ComputeClauseOutcomes(const Registry& registry, ResultsFile& file) {
  Report report = BuildReport(registry, {ToColumnRun(file)});
  file.clauses.clear();
  for (const ClauseRow& row : report.rows) {
    const Cell& cell = row.cells.front();
    file.clauses.push_back(
        {row.clause.id, std::string(OutcomeName(cell.outcome)), cell.note});
  }
}

std::string RenderResultsFile(const ResultsFile& file) {
  Json expectations = Json::object();
  for (const auto& [id, expected] : file.expectations.expected) {
    expectations[id] = {
        {"outcome", std::string(ExpectedOutcomeName(expected.outcome))},
        {"reason", expected.reason}};
  }
  Json tests = Json::array();
  for (const ResultsFile::Test& test : file.tests) {
    tests.push_back(
        {{"name", test.citation.test},
         {"location", test.citation.Location()},
         {"clauses", test.citation.clauses},
         {"outcome", std::string(TestOutcomeName(test.result.status))},
         {"reason", test.result.message},
         {"seconds", test.seconds}});
  }
  Json clauses = Json::array();
  for (const ResultsFile::ClauseOutcome& clause : file.clauses) {
    clauses.push_back({{"id", clause.id},
                       {"outcome", clause.outcome},
                       {"reason", clause.reason}});
  }
  Json document = {
      {"schema", std::string(kResultsSchema)},
      {"suite", file.suite},
      {"started", file.started},
      {"host",
       {{"label", file.host_label},
        {"sysname", file.sysname},
        {"release", file.release},
        {"machine", file.machine}}},
      {"backend", file.backend},
      {"start_method", file.start_method},
      {"capabilities",
       {{"backend", file.backend_capabilities},
        {"host", file.host_capabilities}}},
      {"expectations", expectations},
      {"tests", tests},
      {"clauses", clauses},
      {"exit_code", file.exit_code},
  };
  return document.dump(2) + "\n";
}

absl::StatusOr<ResultsFile> ParseResultsFile(absl::string_view json_text) {
  absl::StatusOr<Json> json = ParseJson(json_text, "results file is");
  if (!json.ok()) return json.status();
  const Json& document = *json;
  if (!document.is_object() ||
      StringField(document, "schema") != kResultsSchema) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a results file (wants \"schema\": \"", kResultsSchema, "\")"));
  }
  ResultsFile file;
  file.suite = StringField(document, "suite");
  file.started = StringField(document, "started");
  if (auto host = document.find("host");
      host != document.end() && host->is_object()) {
    file.host_label = StringField(*host, "label");
    file.sysname = StringField(*host, "sysname");
    file.release = StringField(*host, "release");
    file.machine = StringField(*host, "machine");
  }
  file.backend = StringField(document, "backend");
  file.start_method = StringField(document, "start_method");
  if (file.backend.empty() || file.start_method.empty()) {
    return absl::InvalidArgumentError(
        "results file: no \"backend\" or \"start_method\"");
  }
  if (auto capabilities = document.find("capabilities");
      capabilities != document.end() && capabilities->is_object()) {
    file.backend_capabilities = StringList(*capabilities, "backend");
    file.host_capabilities = StringList(*capabilities, "host");
  }
  Json expectations = {
      {"backend", file.backend},
      {"expected", document.value("expectations", Json::object())}};
  absl::StatusOr<Expectations> parsed = ParseExpectations(expectations.dump());
  if (!parsed.ok()) return parsed.status();
  file.expectations = *std::move(parsed);
  auto tests = document.find("tests");
  if (tests == document.end() || !tests->is_array()) {
    return absl::InvalidArgumentError("results file: no \"tests\" array");
  }
  for (const Json& entry : *tests) {
    if (!entry.is_object()) continue;
    ResultsFile::Test test;
    test.citation.test = StringField(entry, "name");
    test.citation.clauses = StringList(entry, "clauses");
    SplitLocation(StringField(entry, "location"), test.citation);
    absl::StatusOr<TestStatus> status =
        ParseTestOutcome(StringField(entry, "outcome"));
    if (!status.ok()) return status.status();
    test.result.test = test.citation.test;
    test.result.clauses = test.citation.clauses;
    test.result.status = *status;
    test.result.message = StringField(entry, "reason");
    if (auto seconds = entry.find("seconds");
        seconds != entry.end() && seconds->is_number()) {
      test.seconds = seconds->get<double>();
    }
    file.tests.push_back(std::move(test));
  }
  if (auto clauses = document.find("clauses");
      clauses != document.end() && clauses->is_array()) {
    for (const Json& entry : *clauses) {
      if (!entry.is_object()) continue;
      file.clauses.push_back({StringField(entry, "id"),
                              StringField(entry, "outcome"),
                              StringField(entry, "reason")});
    }
  }
  if (auto code = document.find("exit_code");
      code != document.end() && code->is_number_integer()) {
    file.exit_code = code->get<int>();
  }
  return file;
}

ColumnRun ToColumnRun(const ResultsFile& file, const Expectations& extra) {
  ColumnRun run;
  run.column = {file.backend, file.start_method, file.host_label};
  run.expectations = file.expectations;
  for (const auto& [id, expected] : extra.expected)
    run.expectations.expected[id] = expected;
  for (const ResultsFile::Test& test : file.tests) {
    run.citations.push_back(test.citation);
    run.results.push_back(test.result);
  }
  return run;
}

}  // namespace conformance
