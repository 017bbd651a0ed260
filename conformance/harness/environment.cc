#include "conformance/harness/environment.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"

namespace conformance {
namespace {

// The start methods this build can run.
constexpr absl::string_view kStartMethods[] = {"fork", "spawn", "forkserver"};

struct SuiteState {
  internal::SuiteOptions options;
  std::string backend;
  std::optional<Registry> registry;
  std::optional<CapabilityManifest> capabilities;
  std::optional<Expectations> expectations;
};

// Set before any test runs and read-only afterwards, so it needs no lock.
SuiteState& State() {
  static auto* state = new SuiteState;
  return *state;
}

}  // namespace

absl::string_view StartMethod() { return State().options.start_method; }

absl::string_view BackendName() { return State().backend; }

const Registry* ClauseRegistry() {
  return State().registry.has_value() ? &*State().registry : nullptr;
}

const CapabilityManifest* Capabilities() {
  return State().capabilities.has_value() ? &*State().capabilities : nullptr;
}

const Expectations* BackendExpectations() {
  return State().expectations.has_value() ? &*State().expectations : nullptr;
}

absl::StatusOr<std::vector<std::string>> SelfCommand(
    const std::vector<std::string>& extra) {
  absl::StatusOr<std::string> executable =
      procspec::platform::testing::CurrentExecutable();
  if (!executable.ok()) return executable.status();
  const internal::SuiteOptions& options = State().options;
  std::vector<std::string> argv = {
      *executable, absl::StrCat("--backend=", BackendName()),
      absl::StrCat("--start_method=", options.start_method)};
  for (const auto& [flag, value] :
       {std::pair<absl::string_view, const std::string&>{
            "--capabilities=", options.capabilities_path},
        {"--expectations=", options.expectations_path},
        {"--registry=", options.registry_path}}) {
    if (!value.empty()) argv.push_back(absl::StrCat(flag, value));
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

namespace internal {

absl::Status SelectBackendAndStartMethod(const SuiteOptions& options) {
  SuiteState& state = State();
  state.options = options;
  if (!options.backend.empty()) {
    if (absl::Status status =
            procspec::platform::SelectBackend(options.backend);
        !status.ok()) {
      // The platform's message already lists the backends compiled in.
      return absl::Status(
          status.code(),
          absl::StrCat("--backend=", options.backend, ": ", status.message()));
    }
  }
  // What the backend reports, which a self-test compares with what was asked
  // for.
  std::string_view name = procspec::platform::CurrentBackend().name();
  state.backend = options.backend.empty() ? std::string(name) : options.backend;
  if (std::find(std::begin(kStartMethods), std::end(kStartMethods),
                options.start_method) == std::end(kStartMethods)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--start_method=", options.start_method, ": not available (available: ",
        absl::StrJoin(kStartMethods, ", "), ")"));
  }
  // Every Process of this instance without an explicit context uses it.
  if (absl::Status status = procspec::set_start_method(
          std::string_view(options.start_method), /*force=*/true);
      !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("--start_method=", options.start_method,
                                     ": ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status LoadSuiteFiles(const SuiteOptions& options) {
  SuiteState& state = State();
  if (!options.registry_path.empty()) {
    absl::StatusOr<Registry> registry = Registry::Load(options.registry_path);
    if (!registry.ok()) return registry.status();
    state.registry = *std::move(registry);
  }
  if (!options.capabilities_path.empty()) {
    absl::StatusOr<CapabilityManifest> manifest =
        LoadCapabilityManifest(options.capabilities_path);
    if (!manifest.ok()) return manifest.status();
    // A manifest of another backend would gate tests on the wrong capabilities.
    if (manifest->backend != state.backend) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.capabilities_path, " describes backend ",
                       manifest->backend, ", not ", state.backend));
    }
    if (state.registry.has_value()) {
      if (absl::Status status = ValidateManifest(*manifest, *state.registry);
          !status.ok()) {
        return status;
      }
    }
    state.capabilities = *std::move(manifest);
  }
  if (!options.expectations_path.empty()) {
    absl::StatusOr<Expectations> expectations =
        LoadExpectations(options.expectations_path);
    if (!expectations.ok()) return expectations.status();
    if (expectations->backend != state.backend) {
      return absl::InvalidArgumentError(
          absl::StrCat(options.expectations_path, " describes backend ",
                       expectations->backend, ", not ", state.backend));
    }
    if (state.registry.has_value()) {
      if (absl::Status status =
              ValidateExpectations(*expectations, *state.registry);
          !status.ok()) {
        return status;
      }
    }
    state.expectations = *std::move(expectations);
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace conformance
