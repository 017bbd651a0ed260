#include "conformance/harness/supervisor.h"

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/timeout.h"
#include "conformance/registry/file_util.h"
#include "conformance/reporting/results_file.h"
#include "nlohmann/json.hpp"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/supervision.h"

namespace conformance::internal {
namespace {

namespace os = ::procspec::platform::testing;
using Json = nlohmann::json;

constexpr absl::Duration kDefaultTestDeadline = absl::Minutes(2);

// Reports on the progress descriptor. Installed before the leak check, so that
// its OnTestEnd (gtest calls those in reverse order) sees the leak check's
// failures.
class ProgressReporter : public ::testing::EmptyTestEventListener {
 public:
  explicit ProgressReporter(int fd) : fd_(fd) {}

  void OnTestStart(const ::testing::TestInfo& test) override {
    Send({{"event", "start"}, {"test", Name(test)}});
  }

  void OnTestEnd(const ::testing::TestInfo& test) override {
    const ::testing::TestResult& result = *test.result();
    std::map<std::string, std::string> properties;
    for (int i = 0; i < result.test_property_count(); ++i) {
      properties[result.GetTestProperty(i).key()] =
          result.GetTestProperty(i).value();
    }
    std::string outcome = "PASS";
    std::string reason;
    if (result.Failed()) {
      outcome = "FAIL";
      std::vector<std::string> failures;
      for (int i = 0; i < result.total_part_count(); ++i) {
        const ::testing::TestPartResult& part = result.GetTestPartResult(i);
        if (!part.failed()) continue;
        failures.push_back(
            absl::StrCat(part.file_name() != nullptr ? part.file_name() : "",
                         ":", part.line_number(), "\n", part.message()));
      }
      reason = absl::StrJoin(failures, "\n");
    } else if (result.Skipped()) {
      if (properties["outcome"] == "UNSUPPORTED") {
        outcome = "UNSUPPORTED";
        reason = properties["reason"];
      } else {
        outcome = "SKIPPED";
        reason =
            "skipped without an UNSUPPORTED outcome (use CONFORMANCE_REQUIRE)";
      }
    }
    Send({{"event", "end"},
          {"test", Name(test)},
          {"clauses", properties["clauses"]},
          {"outcome", outcome},
          {"reason", reason},
          {"seconds", static_cast<double>(result.elapsed_time()) / 1000}});
  }

 private:
  static std::string Name(const ::testing::TestInfo& test) {
    return absl::StrCat(test.test_suite_name(), ".", test.name());
  }
  void Send(const Json& event) {
    // Invalid UTF-8 in a message is replaced rather than thrown on.
    (void)procspec::platform::WriteAll(
        fd_, event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
  }
  int fd_;
};

// gtest's filter syntax: "POSITIVE[-NEGATIVE]", patterns separated by ':'.
std::string FilterWithout(const std::string& filter,
                          const std::vector<std::string>& done) {
  std::string positive = filter;
  std::string negative;
  if (std::size_t dash = filter.find('-'); dash != std::string::npos) {
    positive = filter.substr(0, dash);
    negative = filter.substr(dash + 1);
  }
  if (positive.empty()) positive = "*";
  std::vector<std::string> excluded;
  if (!negative.empty()) excluded.push_back(negative);
  excluded.insert(excluded.end(), done.begin(), done.end());
  if (excluded.empty()) return positive;
  return absl::StrCat(positive, "-", absl::StrJoin(excluded, ":"));
}

std::string DescribeEnd(const procspec::platform::ExitStatus& status) {
  return status.signaled ? absl::StrCat("killed by signal ", status.value)
                         : absl::StrCat("exit code ", status.value);
}

struct Run {
  std::vector<ResultsFile::Test> tests;
  std::vector<std::string> done;  // names, for the next child's filter
  int exit_code = 0;
  std::vector<std::string> problems;
};

void Record(Run& run, const std::string& name, const std::string& clauses,
            TestStatus status, const std::string& reason, double seconds) {
  static const auto* const citations = [] {
    auto* map = new std::map<std::string, TestCitation>;
    for (const TestCitation& citation : RegisteredCitations())
      (*map)[citation.test] = citation;
    return map;
  }();
  ResultsFile::Test test;
  if (auto it = citations->find(name); it != citations->end())
    test.citation = it->second;
  test.citation.test = name;
  if (!clauses.empty()) {
    test.citation.clauses = absl::StrSplit(clauses, ',', absl::SkipEmpty());
  }
  test.result.test = name;
  test.result.clauses = test.citation.clauses;
  test.result.status = status;
  test.result.message = reason;
  test.seconds = seconds;
  run.tests.push_back(std::move(test));
  run.done.push_back(name);
}

// Runs one test child over the tests not yet done. Returns whether another
// child must run the rest (this one timed out or died during a test).
absl::StatusOr<bool> RunChild(const SupervisorOptions& options, Run& run) {
  absl::StatusOr<std::vector<std::string>> argv = SelfCommand({absl::StrCat(
      "--progress_fd=", os::WatchedProgram::kProgressFdPlaceholder)});
  if (!argv.ok()) return argv.status();
  if (!options.child_runner.empty())
    argv->insert(argv->begin(), options.child_runner);
  argv->insert(argv->end(), options.child_flags.begin(),
               options.child_flags.end());
  argv->push_back(absl::StrCat("--gtest_filter=",
                               FilterWithout(options.gtest_filter, run.done)));
  absl::StatusOr<std::unique_ptr<os::WatchedProgram>> child =
      os::WatchedProgram::Start(*argv, options.results_file == "-");
  if (!child.ok()) return child.status();

  std::optional<std::string> current;  // the test running now
  absl::Time last_event = absl::Now();
  bool timed_out = false;
  while (true) {
    absl::StatusOr<std::optional<std::string>> line =
        (*child)->NextLine(last_event + options.test_deadline);
    if (!line.ok()) return line.status();
    if (!line->has_value()) {
      if ((*child)->ended()) break;
      timed_out = true;
      break;
    }
    Json event = Json::parse(**line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object()) continue;  // not ours: ignore
    last_event = absl::Now();
    const std::string name = event.value("test", "");
    if (event.value("event", "") == "start") {
      current = name;
      continue;
    }
    TestStatus status = TestStatus::kPassed;
    const std::string outcome = event.value("outcome", "");
    if (outcome == "FAIL") status = TestStatus::kFailed;
    if (outcome == "UNSUPPORTED") status = TestStatus::kUnsupported;
    if (outcome == "SKIPPED") status = TestStatus::kSkipped;
    Record(run, name, event.value("clauses", ""), status,
           event.value("reason", ""), event.value("seconds", 0.0));
    current.reset();
  }
  absl::StatusOr<procspec::platform::ExitStatus> ended =
      (*child)->KillGroupAndReap();
  if (!ended.ok()) return ended.status();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - last_event);
  if (timed_out && current.has_value()) {
    Record(run, *current, "", TestStatus::kFailed,
           absl::StrCat("timed out: still running after ",
                        absl::FormatDuration(options.test_deadline),
                        " (the test's process group was killed)"),
           seconds);
    return true;
  }
  if (timed_out) {
    run.problems.push_back(
        absl::StrCat("the suite made no progress outside any test for ",
                     absl::FormatDuration(options.test_deadline), "; stopped"));
    run.exit_code = 1;
    return false;
  }
  if (current.has_value()) {
    Record(run, *current, "", TestStatus::kFailed,
           absl::StrCat("the suite process ended during the test (",
                        DescribeEnd(*ended), ")"),
           seconds);
    return true;
  }
  run.exit_code = ended->exitcode();
  return false;
}

}  // namespace

absl::Duration DefaultTestDeadline() {
  return ScaledTimeout(kDefaultTestDeadline);
}

::testing::TestEventListener* NewProgressReporter(int fd) {
  return new ProgressReporter(fd);
}

int RunSupervised(const SuiteOptions& suite, const SupervisorOptions& options) {
  const absl::Time started = absl::Now();
  Run run;
  while (true) {
    absl::StatusOr<bool> again = RunChild(options, run);
    if (!again.ok()) {
      std::fprintf(stderr, "conformance suite: %s\n",
                   again.status().ToString().c_str());
      return 2;
    }
    if (!*again) break;
  }

  ResultsFile file;
  absl::StatusOr<std::string> executable = os::CurrentExecutable();
  if (executable.ok())
    file.suite = executable->substr(executable->rfind('/') + 1);
  file.started =
      absl::FormatTime(absl::RFC3339_sec, started, absl::UTCTimeZone());
  file.host_label = options.host_label;
  if (absl::StatusOr<os::HostDescription> host = os::DescribeHost();
      host.ok()) {
    file.sysname = host->sysname;
    file.release = host->release;
    file.machine = host->machine;
  }
  file.backend = std::string(BackendName());
  file.start_method = suite.start_method;
  if (const CapabilityManifest* manifest = Capabilities(); manifest != nullptr)
    file.backend_capabilities.assign(manifest->capabilities.begin(),
                                     manifest->capabilities.end());
  file.host_capabilities = os::HostCapabilities();
  if (RequirePython3().ok())
    file.host_capabilities.push_back("python3_differential");
  if (const Expectations* expected = BackendExpectations();
      expected != nullptr) {
    file.expectations = *expected;
  }
  file.expectations.backend = file.backend;
  file.tests = std::move(run.tests);
  if (const Registry* registry = ClauseRegistry(); registry != nullptr)
    ComputeClauseOutcomes(*registry, file);

  int counts[4] = {0, 0, 0, 0};  // pass, fail, unsupported, timed out
  int exit_code = run.exit_code;
  for (const ResultsFile::Test& test : file.tests) {
    switch (test.result.status) {
      case TestStatus::kPassed:
        ++counts[0];
        break;
      case TestStatus::kUnsupported:
        ++counts[2];
        break;
      default:
        ++counts[1];
        exit_code = exit_code == 0 ? 1 : exit_code;
        if (absl::StartsWith(test.result.message, "timed out")) ++counts[3];
        break;
    }
  }
  file.exit_code = exit_code;
  const std::string text = RenderResultsFile(file);
  if (options.results_file == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else if (absl::Status status = WriteFile(options.results_file, text);
             !status.ok()) {
    std::fprintf(stderr, "conformance suite: %s\n", status.ToString().c_str());
    return 2;
  }
  for (const std::string& problem : run.problems)
    std::fprintf(stderr, "conformance suite: %s\n", problem.c_str());
  std::fprintf(stderr,
               "conformance suite: %zu tests: %d passed, %d failed (%d timed "
               "out), %d unsupported; results in %s\n",
               file.tests.size(), counts[0], counts[1], counts[3], counts[2],
               options.results_file == "-" ? "standard output"
                                           : options.results_file.c_str());
  return exit_code;
}

}  // namespace conformance::internal
