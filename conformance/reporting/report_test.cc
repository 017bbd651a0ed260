// The report's logic on canned gtest JSON: outcomes per cell, expectations, the
// exit rule and the rendered forms.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"
#include "conformance/reporting/gtest_results.h"
#include "conformance/reporting/matrix.h"
#include "conformance/reporting/render.h"
#include "conformance/reporting/results_file.h"
#include "conformance/reporting/robustness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "platform/testing/status_matchers.h"

namespace conformance {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kRegistry[] = R"({
  "capabilities": {"fork": "forks", "child_subreaper": "adopts orphans"},
  "clauses": [
    {"id": "process.a.pass", "area": "process", "title": "passes <everywhere>",
     "seed": "p.start()：启动进程", "cpython": "starts", "kind": "normative"},
    {"id": "process.b.fail", "area": "process", "title": "fails on posix", "seed": "",
     "cpython": "c", "kind": "normative", "erratum": "the seed says zombie"},
    {"id": "process.c.unsupported", "area": "process", "title": "needs a subreaper",
     "seed": "", "cpython": "c", "kind": "optional", "requires": ["child_subreaper"]},
    {"id": "process.d.untested", "area": "process", "title": "no test yet", "seed": "",
     "cpython": "c", "kind": "normative", "untested": "needs spawn"},
    {"id": "process.e.xfail", "area": "process", "title": "expected to fail on posix",
     "seed": "", "cpython": "c", "kind": "normative"},
    {"id": "process.f.xpass", "area": "process", "title": "expected to fail, passes",
     "seed": "", "cpython": "c", "kind": "normative"},
    {"id": "module.g.silent_skip", "area": "module", "title": "skipped without a reason",
     "seed": "", "cpython": "c", "kind": "optional"},
    {"id": "module.h.crash", "area": "module", "title": "its test never reported",
     "seed": "", "cpython": "c", "kind": "optional"}
  ]})";

Registry MakeRegistry() {
  absl::StatusOr<Registry> registry = Registry::Parse(kRegistry);
  EXPECT_OK(registry);
  return *std::move(registry);
}

std::vector<TestCitation> Citations() {
  return {
      {"Start.Passes", {"process.a.pass"}, "suite/start_test.cc", 10},
      {"Kill.FailsOnPosix", {"process.b.fail"}, "suite/kill_test.cc", 20},
      {"Orphans.Adopted",
       {"process.c.unsupported"},
       "suite/orphan_test.cc",
       30},
      {"Join.Expected",
       {"process.e.xfail", "process.f.xpass"},
       "suite/join_test.cc",
       40},
      {"Join.Unexpected", {"process.f.xpass"}, "suite/join_test.cc", 50},
      {"Module.Silent", {"module.g.silent_skip"}, "suite/module_test.cc", 60},
      {"Module.Crash", {"module.h.crash"}, "suite/module_test.cc", 70}};
}

// One gtest testcase object, as --gtest_output=json writes it.
Json TestCase(const std::string& name, const std::string& clauses,
              const std::string& result, const std::string& failure = "",
              const std::string& outcome = "") {
  Json test = {{"name", name},
               {"status", "RUN"},
               {"result", result},
               {"classname", "x"}};
  if (!clauses.empty()) test["clauses"] = clauses;
  if (!outcome.empty()) {
    test["outcome"] = outcome;
    test["reason"] = "backend posix lacks capability \"child_subreaper\"";
  }
  if (!failure.empty())
    test["failures"] = {{{"failure", failure}, {"type", ""}}};
  return test;
}

std::string GtestJson(bool posix) {
  Json start = {
      {"name", "Start"},
      {"testsuite", {TestCase("Passes", "process.a.pass", "COMPLETED")}}};
  Json kill = {
      {"name", "Kill"},
      {"testsuite",
       {TestCase("FailsOnPosix", "process.b.fail", "COMPLETED",
                 posix ? "kill_test.cc:22\nExpected -9, got 0" : "")}}};
  Json orphans = {
      {"name", "Orphans"},
      {"testsuite",
       {posix ? TestCase("Adopted", "process.c.unsupported", "SKIPPED", "",
                         "UNSUPPORTED")
              : TestCase("Adopted", "process.c.unsupported", "COMPLETED")}}};
  Json join = {
      {"name", "Join"},
      {"testsuite",
       {TestCase("Expected", "process.e.xfail,process.f.xpass", "COMPLETED",
                 posix ? "join_test.cc:41\ntimed out" : ""),
        TestCase("Unexpected", "process.f.xpass", "COMPLETED")}}};
  // Module.Crash has no result at all: the suite "died" before it.
  Json module = {
      {"name", "Module"},
      {"testsuite", {TestCase("Silent", "module.g.silent_skip", "SKIPPED")}}};
  Json harness = {{"name", "HarnessSelfTest"},
                  {"testsuite", {TestCase("Backend", "", "COMPLETED")}}};
  return Json{{"testsuites", {start, kill, orphans, join, module, harness}}}
      .dump();
}

ColumnRun MakeRun(const std::string& backend,
                  const std::string& expectations_json) {
  ColumnRun run;
  run.column = {backend, "fork"};
  run.citations = Citations();
  absl::StatusOr<std::vector<TestResult>> results =
      ParseGtestResults(GtestJson(backend == "posix"));
  EXPECT_OK(results);
  run.results = *std::move(results);
  absl::StatusOr<Expectations> expectations =
      ParseExpectations(expectations_json);
  EXPECT_OK(expectations);
  run.expectations = *std::move(expectations);
  return run;
}

std::vector<ColumnRun> MakeRuns() {
  return {MakeRun("linux", R"({"backend": "linux", "expected": {}})"),
          MakeRun("posix", R"({"backend": "posix", "expected": {
              "process.e.xfail": {"outcome": "FAIL", "reason": "no pidfd"},
              "process.f.xpass": {"outcome": "FAIL", "reason": "was racy"}}})")};
}

const Cell& CellOf(const Report& report, const std::string& id,
                   std::size_t column) {
  for (const ClauseRow& row : report.rows) {
    if (row.clause.id == id) return row.cells.at(column);
  }
  ADD_FAILURE() << "no row " << id;
  static const Cell* none = new Cell;
  return *none;
}

TEST(GtestResultsTest, ClassifiesEachTest) {
  absl::StatusOr<std::vector<TestResult>> results =
      ParseGtestResults(GtestJson(true));
  ASSERT_OK(results);
  std::map<std::string, TestResult> by_name;
  for (const TestResult& result : *results) by_name[result.test] = result;
  EXPECT_EQ(by_name["Start.Passes"].status, TestStatus::kPassed);
  EXPECT_EQ(by_name["Kill.FailsOnPosix"].status, TestStatus::kFailed);
  EXPECT_THAT(by_name["Kill.FailsOnPosix"].message, HasSubstr("Expected -9"));
  EXPECT_EQ(by_name["Orphans.Adopted"].status, TestStatus::kUnsupported);
  EXPECT_THAT(by_name["Orphans.Adopted"].message, HasSubstr("child_subreaper"));
  EXPECT_EQ(by_name["Module.Silent"].status, TestStatus::kSkipped);
  EXPECT_THAT(by_name["Join.Expected"].clauses,
              ::testing::ElementsAre("process.e.xfail", "process.f.xpass"));
}

TEST(GtestResultsTest, DisabledTestsAreNotRun) {
  absl::StatusOr<std::vector<TestResult>> results = ParseGtestResults(
      R"({"testsuites": [{"name": "S", "testsuite": [{"name": "DISABLED_T", "status": "NOTRUN",
          "result": "SUPPRESSED", "clauses": "a.b.c"}]}]})");
  ASSERT_OK(results);
  EXPECT_EQ((*results)[0].status, TestStatus::kDisabled);
}

TEST(GtestResultsTest, RejectsSomethingElse) {
  EXPECT_FALSE(ParseGtestResults("{").ok());
  EXPECT_FALSE(ParseGtestResults(R"({"tests": 1})").ok());
}

TEST(MatrixTest, ComputesEachOutcome) {
  Report report = BuildReport(MakeRegistry(), MakeRuns());
  ASSERT_EQ(report.columns.size(), 2u);
  EXPECT_EQ(report.columns[1].Label(), "posix/fork");
  EXPECT_EQ(CellOf(report, "process.a.pass", 0).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.a.pass", 1).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.b.fail", 0).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.b.fail", 1).outcome, Outcome::kFail);
  EXPECT_THAT(CellOf(report, "process.b.fail", 1).note,
              HasSubstr("Expected -9, got 0"));
  EXPECT_EQ(CellOf(report, "process.c.unsupported", 0).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.c.unsupported", 1).outcome,
            Outcome::kUnsupported);
  EXPECT_THAT(CellOf(report, "process.c.unsupported", 1).note,
              HasSubstr("child_subreaper"));
  EXPECT_EQ(CellOf(report, "process.d.untested", 0).outcome,
            Outcome::kUntested);
  EXPECT_EQ(CellOf(report, "process.d.untested", 0).note, "needs spawn");
  EXPECT_EQ(CellOf(report, "process.e.xfail", 0).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.e.xfail", 1).outcome, Outcome::kXfail);
  EXPECT_THAT(CellOf(report, "process.e.xfail", 1).note, HasSubstr("no pidfd"));
  // process.f.xpass: its tests are Join.Expected (fails on posix) and
  // Join.Unexpected.
  EXPECT_EQ(CellOf(report, "process.f.xpass", 1).outcome, Outcome::kXfail);
  EXPECT_EQ(CellOf(report, "module.g.silent_skip", 0).outcome, Outcome::kFail);
  EXPECT_THAT(CellOf(report, "module.g.silent_skip", 0).note,
              HasSubstr("skipped"));
  EXPECT_EQ(CellOf(report, "module.h.crash", 0).outcome, Outcome::kFail);
  EXPECT_THAT(CellOf(report, "module.h.crash", 0).note, HasSubstr("missing"));
  EXPECT_EQ(report.summary[1].at(Outcome::kXfail), 2);
}

TEST(MatrixTest, FlagsAnExpectedFailureThatPasses) {
  std::vector<ColumnRun> runs = MakeRuns();
  runs[0].expectations.expected["process.a.pass"] = {ExpectedOutcome::kFail,
                                                     "flaky once"};
  Report report = BuildReport(MakeRegistry(), runs);
  EXPECT_EQ(CellOf(report, "process.a.pass", 0).outcome, Outcome::kXpass);
  ASSERT_EQ(report.flags.size(), 1u);
  EXPECT_THAT(report.flags[0], HasSubstr("process.a.pass on linux/fork"));
  EXPECT_THAT(report.flags[0], HasSubstr("platform/linux/expectations.json"));
}

TEST(MatrixTest, ExitRule) {
  // As canned: process.b.fail is a normative FAIL on posix.
  EXPECT_EQ(ExitCode(BuildReport(MakeRegistry(), MakeRuns())), 1);

  // Expected failures, optional failures and XPASS do not fail the run.
  std::vector<ColumnRun> runs = MakeRuns();
  runs[1].expectations.expected["process.b.fail"] = {ExpectedOutcome::kFail,
                                                     "known"};
  Report report = BuildReport(MakeRegistry(), runs);
  EXPECT_EQ(CellOf(report, "module.g.silent_skip", 0).outcome,
            Outcome::kFail);  // optional
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_EQ(ExitCode(report), 0);

  // A suite that produced nothing fails the run.
  runs[0].run_status = absl::InternalError("crashed");
  runs[0].results.clear();
  report = BuildReport(MakeRegistry(), runs);
  EXPECT_EQ(CellOf(report, "process.a.pass", 0).outcome, Outcome::kFail);
  EXPECT_EQ(ExitCode(report), 1);
}

TEST(MatrixTest, AFailingTestOutsideTheSpecificationIsAProblem) {
  std::vector<ColumnRun> runs = MakeRuns();
  runs[1].expectations.expected["process.b.fail"] = {ExpectedOutcome::kFail,
                                                     "known"};
  TestResult leak{
      "HarnessSelfTest.Leak", TestStatus::kFailed, {}, "leaked descriptor 5"};
  runs[0].results.push_back(leak);
  Report report = BuildReport(MakeRegistry(), runs);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(report.problems[0], HasSubstr("leaked descriptor 5"));
  EXPECT_EQ(ExitCode(report), 1);
}

TEST(MatrixTest, AnUnknownCitedClauseIsAProblem) {
  std::vector<ColumnRun> runs = MakeRuns();
  runs[0].citations.push_back({"X.Y", {"process.z.typo"}, "x.cc", 1});
  Report report = BuildReport(MakeRegistry(), runs);
  EXPECT_THAT(report.problems,
              ::testing::Contains(HasSubstr("process.z.typo")));
}

// A clause the registry marks not applicable under a start method: N/A there
// whatever its (skipped or passing) tests say, FAIL if a test fails, and the
// summary counts N/A apart from UNSUPPORTED.
TEST(MatrixTest, NotApplicableUnderAStartMethod) {
  absl::StatusOr<Registry> registry = Registry::Parse(R"({
    "capabilities": {},
    "clauses": [
      {"id": "process.n.skipped", "area": "process", "title": "t", "seed": "",
       "cpython": "c", "kind": "normative",
       "start_methods": {"spawn": "not_applicable: a spawned child holds no parent object",
                         "forkserver": "differs: the server reaps"}},
      {"id": "process.n.passing", "area": "process", "title": "t", "seed": "",
       "cpython": "c", "kind": "normative",
       "start_methods": {"spawn": "not_applicable: nothing to see"}},
      {"id": "process.n.failing", "area": "process", "title": "t", "seed": "",
       "cpython": "c", "kind": "normative",
       "start_methods": {"spawn": "not_applicable: nothing to see"}},
      {"id": "process.n.untested", "area": "process", "title": "t", "seed": "",
       "cpython": "c", "kind": "normative", "untested": "later",
       "start_methods": {"spawn": "not_applicable: nothing to see"}}
    ]})");
  ASSERT_OK(registry);
  std::vector<ColumnRun> runs;
  for (const std::string method : {"fork", "spawn", "forkserver"}) {
    ColumnRun run;
    run.column = {"linux", method};
    run.citations = {{"N.Skipped", {"process.n.skipped"}, "n_test.cc", 1},
                     {"N.Passing", {"process.n.passing"}, "n_test.cc", 2},
                     {"N.Failing", {"process.n.failing"}, "n_test.cc", 3}};
    const bool spawn = method == "spawn";
    run.results = {
        {"N.Skipped",
         spawn ? TestStatus::kUnsupported : TestStatus::kPassed,
         {"process.n.skipped"},
         spawn ? "needs the fork start method" : ""},
        {"N.Passing", TestStatus::kPassed, {"process.n.passing"}, ""},
        {"N.Failing",
         spawn ? TestStatus::kFailed : TestStatus::kPassed,
         {"process.n.failing"},
         spawn ? "n_test.cc:4\nwrong" : ""}};
    runs.push_back(std::move(run));
  }
  // An expectation does not turn an N/A cell into something else.
  runs[1].expectations.expected["process.n.passing"] = {ExpectedOutcome::kFail,
                                                        "stale"};
  Report report = BuildReport(*registry, runs);
  EXPECT_EQ(CellOf(report, "process.n.skipped", 0).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.n.skipped", 1).outcome,
            Outcome::kNotApplicable);
  EXPECT_EQ(CellOf(report, "process.n.skipped", 1).note,
            "not applicable under spawn: a spawned child holds no parent "
            "object");
  // "differs" is a note for the reader; the tests decide.
  EXPECT_EQ(CellOf(report, "process.n.skipped", 2).outcome, Outcome::kPass);
  EXPECT_EQ(CellOf(report, "process.n.passing", 1).outcome,
            Outcome::kNotApplicable);
  EXPECT_EQ(CellOf(report, "process.n.failing", 1).outcome, Outcome::kFail);
  EXPECT_EQ(CellOf(report, "process.n.untested", 0).outcome,
            Outcome::kUntested);
  EXPECT_EQ(CellOf(report, "process.n.untested", 1).outcome,
            Outcome::kNotApplicable);
  EXPECT_THAT(report.flags, IsEmpty());
  EXPECT_EQ(report.summary[1].at(Outcome::kNotApplicable), 3);
  EXPECT_EQ(report.summary[1].count(Outcome::kUnsupported), 0u);
  EXPECT_EQ(report.summary[0].count(Outcome::kNotApplicable), 0u);
  EXPECT_EQ(ExitCode(report), 1);  // the FAIL, not the N/A cells

  EXPECT_THAT(RenderText(report), HasSubstr("3 N/A"));
  const std::string html = RenderHtml(report);
  EXPECT_THAT(html, HasSubstr("class=\"outcome o-NA\">N/A"));
  EXPECT_THAT(html, HasSubstr("<b>Under forkserver:</b> differs: the server"));
  Json json = Json::parse(RenderJson(report));
  EXPECT_EQ(json["columns"][1]["summary"]["N/A"], 3);
  EXPECT_EQ(json["clauses"][0]["outcomes"]["linux/spawn"]["outcome"], "N/A");
  EXPECT_EQ(json["clauses"][0]["start_methods"]["forkserver"],
            "differs: the server reaps");
}

TEST(RenderTest, TextShowsTheMatrixAndFailures) {
  std::string text = RenderText(BuildReport(MakeRegistry(), MakeRuns()));
  EXPECT_THAT(text, HasSubstr("linux/fork"));
  EXPECT_THAT(text, HasSubstr("FAIL process.b.fail (normative) on posix/fork"));
}

TEST(RenderTest, HtmlIsSelfContainedAndReadsAsTheSpecification) {
  std::string html = RenderHtml(BuildReport(MakeRegistry(), MakeRuns()));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, HasSubstr("p.start()：启动进程"));        // the seed quote
  EXPECT_THAT(html, HasSubstr("passes &lt;everywhere&gt;"));  // escaped
  EXPECT_THAT(html, HasSubstr("the seed says zombie"));       // erratum
  EXPECT_THAT(html,
              HasSubstr("suite/start_test.cc:10"));  // the test that checks it
  EXPECT_THAT(html, HasSubstr("id=\"area-module\""));  // grouped by area
  EXPECT_THAT(html, HasSubstr("o-XFAIL"));
}

TEST(RenderTest, JsonAndMarkdownCarryTheOutcomes) {
  Report report = BuildReport(MakeRegistry(), MakeRuns());
  Json json = Json::parse(RenderJson(report));
  EXPECT_EQ(json["exit_code"], 1);
  EXPECT_EQ(json["clauses"][1]["outcomes"]["posix/fork"]["outcome"], "FAIL");
  EXPECT_EQ(json["columns"][1]["summary"]["XFAIL"], 2);
  std::string markdown = RenderMarkdown(report);
  EXPECT_THAT(markdown, HasSubstr("## module"));
  EXPECT_THAT(markdown, HasSubstr("| posix/fork |"));
}

// The Robustness section: the robustness clauses' outcomes across columns,
// then the records as they are (missing and malformed ones shown as such).
TEST(RobustnessTest, ListsClausesAndRecordedRuns) {
  Report report = BuildReport(MakeRegistry(), MakeRuns());
  ClauseRow stress;
  stress.clause.id = "robustness.stress";
  stress.clause.area = kRobustnessArea;
  stress.clause.title = "500 children";
  auto cell = [](Outcome outcome) {
    Cell made;
    made.outcome = outcome;
    return made;
  };
  stress.cells = {cell(Outcome::kPass), cell(Outcome::kUnsupported)};
  ClauseRow reuse = stress;
  reuse.clause.id = "robustness.pid_reuse";
  reuse.cells = {cell(Outcome::kPass), cell(Outcome::kFail)};
  report.rows.push_back(stress);
  report.rows.push_back(reuse);
  const std::vector<RobustnessRecord> records = {
      {"conformance/records/sanitizers.json",
       std::string(R"({"kind": "sanitizers",
          "date": "D", "commit": "C", "command": ".ci/run --record",
          "runs": [{"config": "plain", "passed": 21, "failed": 0, "seconds": 200},
                   {"config": "asan_ubsan", "passed": 20, "failed": 1, "seconds": 400,
                    "cached": 3},
                   {"config": "windows", "passed": 20, "failed": 0, "seconds": 90}]})")},
      {"conformance/records/fuzz.json",
       std::string(R"({"kind": "fuzz", "build": "clang-14",
          "targets": [{"target": "spawn_bootstrap", "seconds": 30,
                       "executions": 695613, "coverage": 1860, "result": "pass"},
                      {"target": "frames", "seconds": 30, "executions": 12,
                       "result": "crash"}]})")},
      {"conformance/records/missing.json", absl::NotFoundError("no such file")},
      {"conformance/records/bad.json", std::string("{\"kind\": 3")},
  };
  const std::vector<RobustnessCheck> checks = BuildRobustness(report, records);
  ASSERT_EQ(checks.size(), 9u);
  EXPECT_EQ(checks[0].name, "robustness.stress");
  EXPECT_EQ(checks[0].result, "PASS");
  EXPECT_THAT(checks[0].detail, HasSubstr("UNSUPPORTED on 1 of 2 columns"));
  EXPECT_EQ(checks[1].result, "FAIL");
  EXPECT_EQ(checks[2].category, "ci run");
  EXPECT_EQ(checks[2].result, "PASS");
  EXPECT_THAT(checks[2].detail, HasSubstr("21 test targets passed, 0 failed"));
  EXPECT_THAT(checks[2].detail, HasSubstr("commit C"));
  EXPECT_EQ(checks[3].name, "asan_ubsan");
  EXPECT_EQ(checks[3].category, "sanitizer");
  EXPECT_EQ(checks[3].result, "FAIL");
  // Results Bazel kept from an earlier run are named as such.
  EXPECT_THAT(checks[3].detail, HasSubstr("3 of them cached"));
  EXPECT_THAT(checks[2].detail, Not(HasSubstr("cached")));
  // The Windows lane is a CI run, not a sanitizer.
  EXPECT_EQ(checks[4].name, "windows");
  EXPECT_EQ(checks[4].category, "ci run");
  EXPECT_EQ(checks[5].category, "fuzz");
  EXPECT_EQ(checks[5].result, "PASS");
  EXPECT_THAT(checks[5].detail, HasSubstr("695613 executions in 30 s"));
  EXPECT_EQ(checks[6].result, "CRASH");
  EXPECT_EQ(checks[7].result, "NO RECORD");
  EXPECT_EQ(checks[8].result, "MALFORMED");

  report.robustness = checks;
  EXPECT_THAT(RenderText(report), HasSubstr("Robustness\n"));
  EXPECT_THAT(RenderMarkdown(report), HasSubstr("## Robustness"));
  EXPECT_THAT(RenderHtml(report), HasSubstr("id=\"robustness\""));
  EXPECT_EQ(Json::parse(RenderJson(report))["robustness"][5]["name"],
            "spawn_bootstrap");
}

// Without any robustness clause, the section says so rather than staying
// silent.
TEST(RobustnessTest, NoClauseIsShown) {
  const std::vector<RobustnessCheck> checks =
      BuildRobustness(BuildReport(MakeRegistry(), MakeRuns()), {});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].result, "NONE");
}

// A results file made by a suite run elsewhere round-trips, and becomes a
// column labelled by its host whose host expectations turn a FAIL into XFAIL.
TEST(ResultsFile, RoundTripsAndBecomesAHostColumn) {
  const Registry registry = MakeRegistry();
  ResultsFile file;
  file.suite = "suite_posix_fork";
  file.host_label = "gvisor";
  file.sysname = "Linux";
  file.release = "4.4.0";
  file.machine = "x86_64";
  file.backend = "posix";
  file.start_method = "fork";
  file.backend_capabilities = {"fork"};
  file.host_capabilities = {"proc_fs"};
  ResultsFile::Test pass;
  pass.citation = {"Start.Passes", {"process.a.pass"}, "start_test.cc", 10};
  pass.result = {"Start.Passes", TestStatus::kPassed, {"process.a.pass"}, ""};
  ResultsFile::Test hang;
  hang.citation = {"Kill.FailsOnPosix", {"process.b.fail"}, "kill_test.cc", 20};
  hang.result = {"Kill.FailsOnPosix",
                 TestStatus::kFailed,
                 {"process.b.fail"},
                 "timed out: still running after 2m"};
  file.tests = {pass, hang};
  ComputeClauseOutcomes(registry, file);
  ASSERT_EQ(file.clauses.size(), registry.clauses().size());
  EXPECT_EQ(file.clauses[0].outcome, "PASS");
  EXPECT_EQ(file.clauses[1].outcome, "FAIL");

  absl::StatusOr<ResultsFile> parsed =
      ParseResultsFile(RenderResultsFile(file));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->release, "4.4.0");
  EXPECT_EQ(parsed->host_capabilities, std::vector<std::string>{"proc_fs"});
  ASSERT_EQ(parsed->tests.size(), 2u);
  EXPECT_EQ(parsed->tests[1].citation.Location(), "kill_test.cc:20");
  EXPECT_EQ(parsed->tests[1].result.status, TestStatus::kFailed);
  EXPECT_EQ(parsed->clauses[1].outcome, "FAIL");

  Expectations host;
  host.expected["process.b.fail"] = {ExpectedOutcome::kFail, "the host's bug"};
  Report report = BuildReport(registry, {ToColumnRun(*parsed, host)});
  ASSERT_EQ(report.columns.size(), 1u);
  EXPECT_EQ(report.columns[0].Label(), "gvisor/posix/fork");
  EXPECT_EQ(report.rows[0].cells[0].outcome, Outcome::kPass);
  EXPECT_EQ(report.rows[1].cells[0].outcome, Outcome::kXfail);
  EXPECT_THAT(report.rows[1].cells[0].note, HasSubstr("the host's bug"));
  EXPECT_EQ(ExitCode(report), 0);  // an expected failure of the host
}

TEST(ResultsFile, RejectsOtherDocuments) {
  EXPECT_FALSE(ParseResultsFile("{}").ok());
  EXPECT_FALSE(ParseResultsFile("not json").ok());
  EXPECT_FALSE(ParseResultsFile(R"({"schema": "procspec-results/1"})").ok());
}

}  // namespace
}  // namespace conformance
