#include "conformance/harness/clause.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "conformance/harness/environment.h"
#include "platform/testing/os_testing.h"

namespace conformance {
namespace {

constexpr absl::string_view kUnsupportedPrefix = "UNSUPPORTED: ";
constexpr absl::string_view kPython3Capability = "python3_differential";

// Citations are referenced by the test classes for the life of the program, so
// they must not move: a deque never relocates its elements on push_back.
std::deque<TestCitation>& CitationStore() {
  static auto* store = new std::deque<TestCitation>;
  return *store;
}

std::vector<TestCitation>& CitationList() {
  static auto* list = new std::vector<TestCitation>;
  return *list;
}

bool IsExecutableFile(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error || !std::filesystem::is_regular_file(status)) return false;
  using std::filesystem::perms;
  return (status.permissions() & (perms::owner_exec | perms::group_exec |
                                  perms::others_exec)) != perms::none;
}

// The capabilities the test host provides whatever the backend (see
// procspec::platform::testing::HostCapabilities).
bool IsHostCapability(absl::string_view capability) {
  return capability == "proc_fs" || capability == "child_subreaper" ||
         capability == "pid_namespace";
}

bool HostHas(absl::string_view capability) {
  static const auto* const host = new std::vector<std::string>(
      procspec::platform::testing::HostCapabilities());
  return std::find(host->begin(), host->end(), capability) != host->end();
}

}  // namespace

absl::Status Unsupported(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat(kUnsupportedPrefix, why));
}

bool IsUnsupported(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

absl::Status RequireCapability(absl::string_view capability) {
  const CapabilityManifest* manifest = Capabilities();
  if (manifest == nullptr) {
    return absl::FailedPreconditionError(
        "no capability manifest loaded: run the suite with "
        "--capabilities=<capabilities.json>");
  }
  const Registry* registry = ClauseRegistry();
  if (registry != nullptr && !registry->HasCapability(capability)) {
    return absl::InvalidArgumentError(
        absl::StrCat("capability \"", capability,
                     "\" is not declared in the clause registry"));
  }
  if (manifest->Has(capability)) return absl::OkStatus();
  // Properties of the test machine, not of a backend: no manifest lists them.
  if (capability == kPython3Capability) return RequirePython3();
  if (IsHostCapability(capability)) {
    if (HostHas(capability)) return absl::OkStatus();
    return Unsupported(
        absl::StrCat("this test host lacks capability \"", capability, "\""));
  }
  return Unsupported(absl::StrCat("backend ", BackendName(),
                                  " lacks capability \"", capability, "\""));
}

absl::Status RequirePython3() {
  std::optional<std::string> path = procspec::platform::testing::GetEnv("PATH");
  for (absl::string_view directory : absl::StrSplit(path.value_or(""), ':')) {
    if (directory.empty()) continue;
    if (IsExecutableFile(std::filesystem::path(std::string(directory)) /
                         "python3")) {
      return absl::OkStatus();
    }
  }
  return Unsupported(
      "python3 is not on PATH; this differential check needs CPython");
}

const std::vector<TestCitation>& RegisteredCitations() {
  return CitationList();
}

namespace internal {

const TestCitation& RegisterCitation(
    const char* suite, const char* name, const char* file, int line,
    std::initializer_list<const char*> clauses) {
  TestCitation citation;
  citation.test = absl::StrCat(suite, ".", name);
  citation.clauses.assign(clauses.begin(), clauses.end());
  citation.file = file;
  citation.line = line;
  CitationList().push_back(citation);
  return CitationStore().emplace_back(std::move(citation));
}

absl::Status EnterConformanceTest(const TestCitation& citation) {
  ::testing::Test::RecordProperty("clauses",
                                  absl::StrJoin(citation.clauses, ","));
  const Registry* registry = ClauseRegistry();
  if (registry == nullptr) {
    return absl::FailedPreconditionError(
        "no clause registry loaded: run the suite with "
        "--registry=<clauses.json>");
  }
  // Unknown clauses fail the test before any capability can turn it into a
  // skip.
  std::vector<const Clause*> clauses;
  for (const std::string& id : citation.clauses) {
    const Clause* clause = registry->Find(id);
    if (clause == nullptr) {
      return absl::NotFoundError(
          absl::StrCat(citation.test, " cites unknown clause \"", id,
                       "\" (not in the clause registry)"));
    }
    clauses.push_back(clause);
  }
  for (const Clause* clause : clauses) {
    for (const std::string& capability : clause->requires_capabilities) {
      absl::Status status = RequireCapability(capability);
      if (IsUnsupported(status)) {
        return Unsupported(
            absl::StrCat(status.message().substr(kUnsupportedPrefix.size()),
                         ", which clause ", clause->id, " requires"));
      }
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

void RecordUnsupported(const absl::Status& status) {
  ::testing::Test::RecordProperty("outcome", "UNSUPPORTED");
  absl::string_view reason = status.message();
  absl::ConsumePrefix(&reason, kUnsupportedPrefix);
  ::testing::Test::RecordProperty("reason", std::string(reason));
}

}  // namespace internal
}  // namespace conformance
