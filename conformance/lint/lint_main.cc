// //conformance:clause_lint_test: runs each suite binary with --list_clauses
// and lints what it cites against the registry (see lint.h). Arguments, set by
// conformance_lint_test in defs.bzl:
//   --registry=<clauses.json> --suite=<suite binary> [--suite=...]
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "conformance/lint/lint.h"
#include "conformance/registry/citations.h"
#include "conformance/registry/registry.h"
#include "platform/testing/os_testing.h"

namespace conformance {
namespace {

absl::StatusOr<std::vector<TestCitation>> ListClauses(
    const std::string& suite) {
  absl::StatusOr<procspec::platform::testing::CommandResult> result =
      procspec::platform::testing::RunCommand({suite, "--list_clauses"});
  if (!result.ok()) return result.status();
  if (result->status.exitcode() != 0) {
    return absl::InternalError(
        absl::StrCat(suite, " --list_clauses exited with ",
                     result->status.exitcode(), ": ", result->err));
  }
  return ParseCitations(result->out);
}

int Main(int argc, char** argv) {
  std::string registry_path;
  std::vector<std::string> suites;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--registry=")) {
      registry_path = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--suite=")) {
      suites.emplace_back(arg);
    } else {
      std::fprintf(stderr, "clause lint: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  absl::StatusOr<Registry> registry = Registry::Load(registry_path);
  if (!registry.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(registry.status().message()).c_str());
    return 1;
  }
  if (suites.empty()) {
    std::fprintf(stderr, "clause lint: no --suite given\n");
    return 2;
  }
  // Instances link the same tests; merge them by test name.
  std::map<std::string, TestCitation> by_test;
  for (const std::string& suite : suites) {
    absl::StatusOr<std::vector<TestCitation>> citations = ListClauses(suite);
    if (!citations.ok()) {
      std::fprintf(stderr, "%s\n", citations.status().ToString().c_str());
      return 1;
    }
    for (TestCitation& citation : *citations)
      by_test[citation.test] = std::move(citation);
  }
  std::vector<TestCitation> citations;
  for (auto& [test, citation] : by_test)
    citations.push_back(std::move(citation));
  std::vector<std::string> problems = LintCitations(*registry, citations);
  for (const std::string& problem : problems)
    std::fprintf(stderr, "%s\n", problem.c_str());
  std::printf(
      "clause lint: %zu tests cite clauses; %zu clauses; %zu problems\n",
      citations.size(), registry->clauses().size(), problems.size());
  return problems.empty() ? 0 : 1;
}

}  // namespace
}  // namespace conformance

int main(int argc, char** argv) { return conformance::Main(argc, argv); }
