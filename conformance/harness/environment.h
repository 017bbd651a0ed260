// What the running suite instance was started with: backend, start method, the
// clause registry and the backend's manifests. Set once by suite_main.cc before
// any test runs; read by the CONFORMANCE_TEST macros and by tests.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_ENVIRONMENT_H_
#define PROCSPEC_CONFORMANCE_HARNESS_ENVIRONMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "conformance/registry/manifest.h"
#include "conformance/registry/registry.h"

namespace conformance {

// The start method this instance tests ("fork"; later "spawn", "forkserver").
absl::string_view StartMethod();
// The backend this instance tests, as named by --backend (else the default
// backend's name).
absl::string_view BackendName();

// nullptr when the suite was run without --registry / --capabilities /
// --expectations.
const Registry* ClauseRegistry();
const CapabilityManifest* Capabilities();
const Expectations* BackendExpectations();

// The command that re-runs this test binary with the same harness flags plus
// `extra`, e.g. to check how a whole test run behaves.
absl::StatusOr<std::vector<std::string>> SelfCommand(
    const std::vector<std::string>& extra = {});

namespace internal {

struct SuiteOptions {
  std::string backend;  // "" = the default backend
  std::string start_method = "fork";
  std::string capabilities_path;
  std::string expectations_path;
  std::string registry_path;
};

// Selects the backend and start method (cheap; also done for --child runs).
absl::Status SelectBackendAndStartMethod(const SuiteOptions& options);
// Loads and cross-validates the registry and the manifests named in `options`.
absl::Status LoadSuiteFiles(const SuiteOptions& options);

}  // namespace internal
}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_HARNESS_ENVIRONMENT_H_
