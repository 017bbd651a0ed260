// main() of every conformance suite instance (see conformance_suite in
// conformance/defs.bzl).
//
//   <suite> [--backend=linux] [--start_method=fork]
//           [--capabilities=<capabilities.json>]
//           [--expectations=<expectations.json>] [--registry=<clauses.json>]
//           [--list_clauses | --child=<name> [args...]]
//           [--results_file=<path|-> [--test_deadline=<seconds>]
//            [--host_label=<name>] [--child_runner=<program>]] [gtest flags]
//
// --child=<name> runs a CONFORMANCE_CHILD_ENTRY instead of the tests;
// everything after it is the entry's arguments. --list_clauses prints which
// clauses each test cites (JSON) and runs nothing. --results_file runs the
// tests under supervision, each with a deadline, and writes the results file
// (supervisor.h). Otherwise the tests run under gtest with the leak check
// installed.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/leak_check.h"
#include "conformance/harness/supervisor.h"
#include "conformance/registry/citations.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "platform/testing/supervision.h"
#include "process/init.h"

namespace conformance {
namespace {

constexpr int kUsageError = 2;

struct CommandLine {
  internal::SuiteOptions options;
  bool list_clauses = false;
  std::string child;  // --child=<name>; "" runs the tests
  internal::SupervisorOptions supervisor;
  std::string test_deadline;  // --test_deadline, in seconds
  int progress_fd = -1;       // --progress_fd: a test child of a supervisor
  std::vector<std::string> child_args;  // what follows --child=<name>
  std::vector<char*> rest;              // argv for gtest (program name first)
};

// Takes the harness flags out of argv; what remains goes to gtest.
CommandLine ParseCommandLine(int argc, char** argv) {
  CommandLine command;
  command.rest.push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--child=")) {
      command.child = std::string(arg);
      command.child_args.assign(argv + i + 1, argv + argc);
      break;
    }
    if (absl::ConsumePrefix(&arg, "--backend=")) {
      command.options.backend = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--start_method=")) {
      command.options.start_method = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--capabilities=")) {
      command.options.capabilities_path = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--expectations=")) {
      command.options.expectations_path = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--registry=")) {
      command.options.registry_path = std::string(arg);
    } else if (arg == "--list_clauses") {
      command.list_clauses = true;
    } else if (absl::ConsumePrefix(&arg, "--results_file=")) {
      command.supervisor.results_file = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--test_deadline=")) {
      command.test_deadline = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--child_runner=")) {
      command.supervisor.child_runner = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--host_label=")) {
      command.supervisor.host_label = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--progress_fd=")) {
      if (!absl::SimpleAtoi(arg, &command.progress_fd))
        command.progress_fd = -1;
    } else {
      // A supervisor gives its test children filters of its own, and every
      // other gtest flag.
      if (absl::ConsumePrefix(&arg, "--gtest_filter=")) {
        command.supervisor.gtest_filter = std::string(arg);
      } else if (absl::StartsWith(arg, "--gtest_")) {
        command.supervisor.child_flags.emplace_back(argv[i]);
      }
      command.rest.push_back(argv[i]);
    }
  }
  command.rest.push_back(nullptr);  // gtest expects argv[argc] == nullptr
  return command;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "conformance suite: %s\n",
               std::string(status.message()).c_str());
  return kUsageError;
}

}  // namespace

bool HasFlag(int argc, char** argv, absl::string_view prefix) {
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], prefix)) return true;
  }
  return false;
}

// Whether the command line runs tests or a child entry under forkserver. If
// so, selects its --backend now: Init forks the server of the backend in use.
bool PrepareForkServer(int argc, char** argv) {
  bool forkserver = false;
  std::string backend;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--list_clauses") return false;
    // A supervisor runs no test itself: its test children start servers.
    if (absl::StartsWith(arg, "--results_file=") &&
        !HasFlag(argc, argv, "--progress_fd="))
      return false;
    if (absl::StartsWith(arg, "--child=")) break;
    if (arg == "--start_method=forkserver") forkserver = true;
    if (absl::ConsumePrefix(&arg, "--backend=")) backend = std::string(arg);
  }
  // A bad name is reported by Main.
  if (forkserver && !backend.empty())
    (void)procspec::platform::SelectBackend(backend);
  return forkserver;
}

namespace {

int Supervise(CommandLine& command) {
  internal::SupervisorOptions& options = command.supervisor;
  options.test_deadline = internal::DefaultTestDeadline();
  if (!command.test_deadline.empty()) {
    double seconds = 0;
    if (!absl::SimpleAtod(command.test_deadline, &seconds) || !(seconds > 0)) {
      return Fail(absl::InvalidArgumentError(
          "--test_deadline wants a positive number of seconds"));
    }
    options.test_deadline = absl::Seconds(seconds);
  }
  if (options.gtest_filter.empty()) {
    options.gtest_filter =
        procspec::platform::testing::GetEnv("GTEST_FILTER").value_or("");
  }
  return internal::RunSupervised(command.options, options);
}

int RunChild(const CommandLine& command) {
  ChildEntry entry = internal::FindChildEntry(command.child);
  if (entry == nullptr) {
    return Fail(absl::NotFoundError("--child=" + command.child +
                                    ": no such child entry"));
  }
  return entry(command.child_args);
}

int Main(int argc, char** argv) {
  CommandLine command = ParseCommandLine(argc, argv);
  if (absl::Status status =
          internal::SelectBackendAndStartMethod(command.options);
      !status.ok()) {
    return Fail(status);
  }
  // Child entries run before gtest is initialised: a re-executed binary is a
  // child program, not a second test run.
  if (!command.child.empty()) return RunChild(command);
  if (command.list_clauses) {
    std::printf("%s\n", CitationsToJson(RegisteredCitations()).c_str());
    return 0;
  }
  if (absl::Status status = internal::LoadSuiteFiles(command.options);
      !status.ok()) {
    return Fail(status);
  }
  // Every test is gated by its clauses' capabilities: without the registry
  // and the backend's manifest no test could tell what it may run.
  if (ClauseRegistry() == nullptr || Capabilities() == nullptr) {
    return Fail(absl::InvalidArgumentError(
        "the suite needs --registry=<clauses.json> and "
        "--capabilities=<capabilities.json> (bazel test passes both: see "
        "conformance/defs.bzl)"));
  }
  if (command.progress_fd < 0 && !command.supervisor.results_file.empty()) {
    return Supervise(command);
  }
  int gtest_argc = static_cast<int>(command.rest.size()) - 1;
  ::testing::InitGoogleTest(&gtest_argc, command.rest.data());
  ::testing::TestEventListeners& listeners =
      ::testing::UnitTest::GetInstance()->listeners();
  if (command.progress_fd >= 0) {
    // A test child of a supervisor. Kept open for the life of the program.
    absl::StatusOr<procspec::platform::UniqueHandle> progress =
        procspec::platform::testing::AdoptProgressDescriptor(
            command.progress_fd);
    if (!progress.ok()) return Fail(progress.status());
    listeners.Append(
        internal::NewProgressReporter(static_cast<int>(progress->release())));
  }
  // Appended last, so its OnTestEnd runs first and its failures count for the
  // test.
  listeners.Append(new LeakCheckListener);
  return RUN_ALL_TESTS();
}

}  // namespace
}  // namespace conformance

int main(int argc, char** argv) {
  // The main guard, first: a child the spawn start method started from this
  // binary runs its target here and never returns. Under
  // --start_method=forkserver the fork server is forked here too, while the
  // program has one thread and before the leak check's first snapshot (a
  // server started during a test would count as that test's leaked child).
  procspec::InitOptions init;
  init.start_forkserver = conformance::PrepareForkServer(argc, argv);
  procspec::Init(argc, argv, init);
  return conformance::Main(argc, argv);
}
