// End-to-end checks of the harness: this binary re-runs itself (SelfCommand)
// with the hidden probes of harness_probes.cc and inspects exit status, output
// and gtest's JSON results.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/handshake.h"
#include "conformance/harness/timeout.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/status_matchers.h"

namespace conformance {
namespace {

namespace platform = ::procspec::platform;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// What BUILD.bazel puts on this test's command line: the posix backend with
// fork where the build has it (Linux), else the OS's one backend with spawn
// (windows).
bool BuildHasPosix() {
  for (const std::string& name : platform::BackendNames()) {
    if (name == "posix") return true;
  }
  return false;
}
std::string ExpectedBackend() {
  return BuildHasPosix() ? "posix" : platform::BackendNames().front();
}
std::string ExpectedStartMethod() { return BuildHasPosix() ? "fork" : "spawn"; }

// The tests whose children are forked run where the backend can fork.
bool HasFork() { return platform::CurrentBackend().SupportsFork(); }
std::string NoForkReason() {
  return absl::StrCat("backend ",
                      std::string(platform::CurrentBackend().name()),
                      " has no fork");
}

struct ProbeRun {
  platform::testing::CommandResult command;
  Json results;  // gtest's JSON output
  std::string Output() const { return command.out + command.err; }
};

std::string TempPath(absl::string_view name) {
  std::optional<std::string> directory =
      platform::testing::GetEnv("TEST_TMPDIR");
  return absl::StrCat(directory.value_or("/tmp"), "/", name, "-",
                      platform::CurrentPid());
}

// Runs the hidden tests matching `filter` in a fresh copy of this binary.
ProbeRun RunProbes(absl::string_view filter) {
  // The copy must not touch the file by which Bazel detects this test exiting
  // early (gtest creates it at start and removes it at exit); an empty name
  // disables it in the copy.
  platform::testing::SetEnv("TEST_PREMATURE_EXIT_FILE", "");
  const std::string json_path = TempPath("probe.json");
  absl::StatusOr<std::vector<std::string>> argv =
      SelfCommand({"--gtest_also_run_disabled_tests",
                   absl::StrCat("--gtest_filter=", filter),
                   absl::StrCat("--gtest_output=json:", json_path)});
  ProbeRun run;
  if (!argv.ok()) {
    ADD_FAILURE() << argv.status();
    return run;
  }
  absl::StatusOr<platform::testing::CommandResult> result =
      platform::testing::RunCommand(
          *argv, absl::Now() + ScaledTimeout(absl::Seconds(60)));
  if (!result.ok()) {
    ADD_FAILURE() << result.status();
    return run;
  }
  run.command = *std::move(result);
  absl::StatusOr<std::string> text = ReadFile(json_path);
  if (!text.ok()) {
    ADD_FAILURE() << text.status() << "\n" << run.Output();
    return run;
  }
  run.results = Json::parse(*text);
  return run;
}

// The JSON object of test `suite.name` in a gtest result document (null if
// absent).
Json FindTest(const Json& results, absl::string_view suite,
              absl::string_view name) {
  for (const Json& test_suite : results.value("testsuites", Json::array())) {
    if (test_suite.value("name", "") != suite) continue;
    for (const Json& test : test_suite.value("testsuite", Json::array())) {
      if (test.value("name", "") == name) return test;
    }
  }
  return nullptr;
}

TEST(EnvironmentTest, ReflectsTheCommandLine) {
  EXPECT_EQ(BackendName(), ExpectedBackend());
  EXPECT_EQ(platform::CurrentBackend().name(), ExpectedBackend());
  EXPECT_EQ(StartMethod(), ExpectedStartMethod());
  ASSERT_NE(Capabilities(), nullptr);
  EXPECT_TRUE(Capabilities()->Has("probe"));
  ASSERT_NE(ClauseRegistry(), nullptr);
  EXPECT_NE(ClauseRegistry()->Find("harness.probe.basic"), nullptr);
  EXPECT_NE(BackendExpectations(), nullptr);
}

class ProbeFixture : public ::testing::Test {
 protected:
  void SetUp() override { value_ = 42; }
  int value_ = 0;
};

CONFORMANCE_TEST_F(ProbeFixture, BodySeesTheFixture, "harness.probe.basic") {
  EXPECT_EQ(value_, 42);
}

// A plain TEST_F may share the fixture: both register under the fixture's type.
TEST_F(ProbeFixture, PlainTestSharesTheFixture) { EXPECT_EQ(value_, 42); }

TEST(ClauseTest, ListClausesPrintsCitationsWithoutRunningTests) {
  absl::StatusOr<std::vector<std::string>> argv =
      SelfCommand({"--list_clauses"});
  ASSERT_OK(argv);
  absl::StatusOr<platform::testing::CommandResult> result =
      platform::testing::RunCommand(*argv);
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 0) << result->err;
  EXPECT_THAT(result->out, Not(HasSubstr("[ RUN")));
  absl::StatusOr<std::vector<TestCitation>> citations =
      ParseCitations(result->out);
  ASSERT_TRUE(citations.ok()) << citations.status() << "\n" << result->out;
  bool found = false;
  for (const TestCitation& citation : *citations) {
    if (citation.test != "HarnessProbe.DISABLED_Unsupported") continue;
    found = true;
    EXPECT_THAT(citation.clauses,
                ::testing::ElementsAre("harness.probe.basic",
                                       "harness.probe.teleport"));
    EXPECT_THAT(citation.file,
                HasSubstr("conformance/harness/harness_probes.cc"));
    EXPECT_GT(citation.line, 0);
  }
  EXPECT_TRUE(found) << result->out;
  EXPECT_THAT(result->out, HasSubstr("\"ProbeFixture.BodySeesTheFixture\""));
}

// A suite started without its capability manifest refuses to run any test
// (a test that asked for a capability would have nothing to ask), with a
// usage error that names the flag, instead of crashing in the first test.
TEST(ClauseTest, RunWithoutTheManifestIsAUsageError) {
  absl::StatusOr<std::vector<std::string>> argv = SelfCommand();
  ASSERT_OK(argv);
  std::vector<std::string> without_manifest;
  for (const std::string& arg : *argv) {
    if (!absl::StartsWith(arg, "--capabilities=")) {
      without_manifest.push_back(arg);
    }
  }
  ASSERT_LT(without_manifest.size(), argv->size());
  absl::StatusOr<platform::testing::CommandResult> result =
      platform::testing::RunCommand(
          without_manifest, absl::Now() + ScaledTimeout(absl::Seconds(60)));
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 2) << result->err;
  EXPECT_THAT(result->err, HasSubstr("--capabilities=<capabilities.json>"));
  EXPECT_THAT(result->out, Not(HasSubstr("[ RUN")));
}

TEST(ClauseTest, PassingTestRecordsItsClauses) {
  ProbeRun run = RunProbes("HarnessProbe.DISABLED_Supported");
  EXPECT_EQ(run.command.status.exitcode(), 0) << run.Output();
  Json test = FindTest(run.results, "HarnessProbe", "DISABLED_Supported");
  EXPECT_EQ(test.value("clauses", ""), "harness.probe.basic") << test.dump();
  EXPECT_EQ(test.value("result", ""), "COMPLETED");
  EXPECT_FALSE(test.contains("failures"));
  EXPECT_FALSE(test.contains("outcome"));
}

TEST(ClauseTest, MissingCapabilityIsUnsupportedNotRun) {
  ProbeRun run = RunProbes("HarnessProbe.DISABLED_Unsupported");
  EXPECT_EQ(run.command.status.exitcode(), 0) << run.Output();
  Json test = FindTest(run.results, "HarnessProbe", "DISABLED_Unsupported");
  EXPECT_EQ(test.value("result", ""), "SKIPPED") << test.dump();
  EXPECT_EQ(test.value("outcome", ""), "UNSUPPORTED");
  EXPECT_EQ(test.value("clauses", ""),
            "harness.probe.basic,harness.probe.teleport");
  EXPECT_THAT(test.value("reason", ""),
              HasSubstr("lacks capability \"teleport\""));
  EXPECT_THAT(test.value("reason", ""), HasSubstr("harness.probe.teleport"));
  EXPECT_THAT(run.Output(),
              HasSubstr(absl::StrCat("UNSUPPORTED: backend ", ExpectedBackend(),
                                     " lacks capability \"teleport\"")));
}

TEST(ClauseTest, CitingAnUnknownClauseFails) {
  ProbeRun run = RunProbes("HarnessProbe.DISABLED_UnknownClause");
  EXPECT_NE(run.command.status.exitcode(), 0);
  EXPECT_THAT(
      run.Output(),
      HasSubstr("cites unknown clause \"harness.probe.no_such_clause\""));
}

TEST(ClauseTest, MissingPython3IsUnsupported) {
  ProbeRun run = RunProbes("HarnessProbe.DISABLED_NoPython3");
  EXPECT_EQ(run.command.status.exitcode(), 0) << run.Output();
  Json test = FindTest(run.results, "HarnessProbe", "DISABLED_NoPython3");
  EXPECT_EQ(test.value("result", ""), "SKIPPED") << test.dump();
  EXPECT_EQ(test.value("outcome", ""), "UNSUPPORTED");
  EXPECT_THAT(test.value("reason", ""), HasSubstr("python3 is not on PATH"));
}

TEST(LeakCheckTest, ReportsALeakedDescriptor) {
  // The leak check compares lists of open descriptors, which Windows cannot
  // give (os_testing_windows.cc): there the check is off.
  if (absl::Status listed = platform::testing::OpenDescriptors().status();
      listed.code() == absl::StatusCode::kUnimplemented) {
    GTEST_SKIP() << listed;
  }
  ProbeRun run = RunProbes(
      "LeakProbe.DISABLED_LeaksDescriptor:LeakProbe.DISABLED_LaterTestIsClean");
  EXPECT_NE(run.command.status.exitcode(), 0);
  EXPECT_THAT(run.Output(), HasSubstr("leaked descriptor"));
  EXPECT_THAT(run.Output(), HasSubstr("pipe"));
  EXPECT_TRUE(FindTest(run.results, "LeakProbe", "DISABLED_LeaksDescriptor")
                  .contains("failures"));
  EXPECT_FALSE(FindTest(run.results, "LeakProbe", "DISABLED_LaterTestIsClean")
                   .contains("failures"));
}

TEST(LeakCheckTest, ReportsAndReapsALeakedZombie) {
  if (!HasFork()) GTEST_SKIP() << NoForkReason();
  ProbeRun run = RunProbes(
      "LeakProbe.DISABLED_LeaksZombie:LeakProbe.DISABLED_LaterTestIsClean");
  EXPECT_NE(run.command.status.exitcode(), 0);
  EXPECT_THAT(run.Output(), HasSubstr("leaked child process"));
  EXPECT_THAT(run.Output(), HasSubstr("zombie"));
  EXPECT_THAT(run.Output(), HasSubstr("the harness reaped it"));
  EXPECT_TRUE(FindTest(run.results, "LeakProbe", "DISABLED_LeaksZombie")
                  .contains("failures"));
  EXPECT_FALSE(FindTest(run.results, "LeakProbe", "DISABLED_LaterTestIsClean")
                   .contains("failures"));
}

// Under fork a forked child; where there is no fork (Windows), a spawned one,
// which the check finds in a Toolhelp snapshot and ends with TerminateProcess.
TEST(LeakCheckTest, KillsAndReapsALeakedRunningChild) {
  ProbeRun run = RunProbes(
      "LeakProbe.DISABLED_LeaksRunningChild:LeakProbe.DISABLED_"
      "LaterTestIsClean");
  EXPECT_NE(run.command.status.exitcode(), 0);
  EXPECT_THAT(run.Output(), HasSubstr("leaked child process"));
  EXPECT_THAT(run.Output(), HasSubstr("the harness killed and reaped it"));
  EXPECT_FALSE(FindTest(run.results, "LeakProbe", "DISABLED_LaterTestIsClean")
                   .contains("failures"));
}

TEST(ChildEntryTest, ReExecutedBinaryRunsTheNamedEntry) {
  absl::StatusOr<std::vector<std::string>> argv =
      ChildCommand("echo_args", {"a", "b c"});
  ASSERT_OK(argv);
  absl::StatusOr<platform::testing::CommandResult> result =
      platform::testing::RunCommand(*argv);
  ASSERT_OK(result);
  EXPECT_EQ(result->status.exitcode(), 7) << result->err;
  EXPECT_EQ(result->out, absl::StrCat(ExpectedBackend(), "|a b c\n"));
}

TEST(ChildEntryTest, UnknownEntryIsAnError) {
  EXPECT_EQ(ChildCommand("no_such_entry").status().code(),
            absl::StatusCode::kNotFound);
}

// Forks a child running `child_main` with the handshake; returns its exit code.
int RunWithHandshake(Handshake& handshake,
                     absl::FunctionRef<int(Handshake&)> child_main,
                     absl::FunctionRef<void(Handshake&)> parent_main) {
  absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
      platform::CurrentBackend().Fork(
          {}, [&](platform::ChildContext&) { return child_main(handshake); });
  if (!child.ok()) {
    ADD_FAILURE() << child.status();
    return -1000;
  }
  parent_main(handshake);
  absl::StatusOr<std::optional<platform::ExitStatus>> status =
      (*child)->Wait(absl::Now() + ScaledTimeout(absl::Seconds(30)));
  if (!status.ok() || !status->has_value()) {
    ADD_FAILURE() << "the child did not exit";
    (void)(*child)->SendSignal(platform::Signal::kKill);
    (void)(*child)->Wait(absl::InfiniteFuture());
    return -1000;
  }
  return (*status)->exitcode();
}

TEST(HandshakeTest, ParentWaitsForReadyThenReleases) {
  if (!HasFork()) GTEST_SKIP() << NoForkReason();
  absl::StatusOr<Handshake> handshake = Handshake::Create();
  ASSERT_OK(handshake);
  int exitcode = RunWithHandshake(
      *handshake,
      [](Handshake& h) {
        return h.SignalReady().ok() && h.WaitForRelease().ok() ? 0 : 1;
      },
      [](Handshake& h) {
        EXPECT_OK(h.WaitReady());
        EXPECT_OK(h.Release());
      });
  EXPECT_EQ(exitcode, 0);
}

TEST(HandshakeTest, ChildDyingBeforeReadyIsSeenAtOnce) {
  if (!HasFork()) GTEST_SKIP() << NoForkReason();
  absl::StatusOr<Handshake> handshake = Handshake::Create();
  ASSERT_OK(handshake);
  int exitcode = RunWithHandshake(
      *handshake, [](Handshake&) { return 3; },
      [](Handshake& h) {
        // An hour: only end of file, not the timeout, can end this wait in
        // time.
        EXPECT_EQ(h.WaitReady(absl::Hours(1)).code(),
                  absl::StatusCode::kFailedPrecondition);
      });
  EXPECT_EQ(exitcode, 3);
}

TEST(HandshakeTest, ChildIsFreedWhenTheParentGivesUp) {
  if (!HasFork()) GTEST_SKIP() << NoForkReason();
  std::optional<absl::StatusOr<Handshake>> handshake(Handshake::Create());
  ASSERT_TRUE(handshake->ok()) << handshake->status();
  int exitcode = RunWithHandshake(
      **handshake,
      [](Handshake& h) {
        if (!h.SignalReady().ok()) return 1;
        return h.WaitForRelease().code() == absl::StatusCode::kAborted ? 5 : 6;
      },
      [&](Handshake& h) {
        EXPECT_OK(h.WaitReady());
        handshake.reset();  // closes the release pipe without releasing
      });
  EXPECT_EQ(exitcode, 5);
}

TEST(TimeoutTest, ScalesByTheEnvironment) {
  std::optional<std::string> saved =
      platform::testing::GetEnv("PROCSPEC_TIMEOUT_SCALE");
  platform::testing::SetEnv("PROCSPEC_TIMEOUT_SCALE", "3");
  EXPECT_EQ(ScaledTimeout(absl::Seconds(2)), absl::Seconds(6));
  platform::testing::SetEnv("PROCSPEC_TIMEOUT_SCALE", "not a number");
  EXPECT_GE(TimeoutScale(), 1);
  platform::testing::SetEnv("PROCSPEC_TIMEOUT_SCALE", saved.value_or(""));
}

}  // namespace
}  // namespace conformance

namespace conformance {
namespace {

// A test that never returns is FAIL "timed out" at its deadline, what it
// started is killed, and the run goes on with the next test in a fresh child.
TEST(Supervisor, HangingTestTimesOutAndTheRunGoesOn) {
  platform::testing::SetEnv("TEST_PREMATURE_EXIT_FILE", "");
  const std::string results_path = TempPath("results.json");
  constexpr double kDeadlineSeconds = 2;
  absl::StatusOr<std::vector<std::string>> argv =
      SelfCommand({"--gtest_also_run_disabled_tests",
                   "--gtest_filter=HangProbe.*:HarnessProbe.DISABLED_Supported",
                   absl::StrCat("--test_deadline=", kDeadlineSeconds),
                   absl::StrCat("--results_file=", results_path)});
  ASSERT_OK(argv);
  const absl::Time start = absl::Now();
  absl::StatusOr<platform::testing::CommandResult> ran =
      platform::testing::RunCommand(
          *argv, absl::Now() + ScaledTimeout(absl::Seconds(60)));
  const absl::Duration took = absl::Now() - start;
  ASSERT_OK(ran);
  EXPECT_EQ(ran->status.exitcode(), 1) << ran->out << ran->err;
  // One deadline, plus the start of two test children.
  EXPECT_LT(took,
            absl::Seconds(kDeadlineSeconds) + ScaledTimeout(absl::Seconds(20)));
  absl::StatusOr<std::string> text = ReadFile(results_path);
  ASSERT_TRUE(text.ok()) << text.status() << ran->err;
  Json results = Json::parse(*text);
  EXPECT_EQ(results["schema"], "procspec-results/1");
  EXPECT_EQ(results["backend"], ExpectedBackend());
  EXPECT_FALSE(results["host"]["sysname"].get<std::string>().empty());
  std::map<std::string, Json> tests;
  for (const Json& test : results["tests"])
    tests[test["name"].get<std::string>()] = test;
  ASSERT_TRUE(tests.contains("HangProbe.DISABLED_NeverReturns")) << *text;
  const Json& hung = tests["HangProbe.DISABLED_NeverReturns"];
  EXPECT_EQ(hung["outcome"], "FAIL");
  EXPECT_THAT(hung["reason"].get<std::string>(), HasSubstr("timed out"));
  ASSERT_TRUE(tests.contains("HangProbe.DISABLED_AfterTheHang")) << *text;
  EXPECT_EQ(tests["HangProbe.DISABLED_AfterTheHang"]["outcome"], "PASS");
  ASSERT_TRUE(tests.contains("HarnessProbe.DISABLED_Supported")) << *text;
  EXPECT_EQ(tests["HarnessProbe.DISABLED_Supported"]["outcome"], "PASS");
  EXPECT_EQ(tests["HarnessProbe.DISABLED_Supported"]["clauses"],
            Json::array({"harness.probe.basic"}));
}

}  // namespace
}  // namespace conformance
