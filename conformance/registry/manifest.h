// A backend's two manifests under platform/<backend>/:
//   capabilities.json
//     {"backend": "linux", "capabilities": ["fork", ...]}
//   expectations.json
//     {"backend": "linux",
//      "expected": {"clause.id": {"outcome": "FAIL", "reason": "..."}}}
// The capability manifest decides which clauses a backend reports UNSUPPORTED;
// the expectations file lists clauses the backend is known not to pass, so the
// report shows them as expected (XFAIL) instead of failing the run, and flags
// them once they start passing.
#ifndef PROCSPEC_CONFORMANCE_REGISTRY_MANIFEST_H_
#define PROCSPEC_CONFORMANCE_REGISTRY_MANIFEST_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "conformance/registry/registry.h"

namespace conformance {

struct CapabilityManifest {
  std::string backend;
  std::set<std::string, std::less<>> capabilities;

  bool Has(absl::string_view capability) const {
    return capabilities.contains(capability);
  }
};

absl::StatusOr<CapabilityManifest> ParseCapabilityManifest(
    absl::string_view json_text);
absl::StatusOr<CapabilityManifest> LoadCapabilityManifest(
    const std::string& path);
// Every capability the manifest claims must be declared in the registry (a typo
// would otherwise silently turn clauses UNSUPPORTED).
absl::Status ValidateManifest(const CapabilityManifest& manifest,
                              const Registry& registry);

enum class ExpectedOutcome { kUnsupported, kFail };
absl::string_view ExpectedOutcomeName(ExpectedOutcome outcome);

struct Expectation {
  ExpectedOutcome outcome = ExpectedOutcome::kFail;
  std::string reason;
};

struct Expectations {
  std::string backend;
  // clause id -> expectation
  std::map<std::string, Expectation, std::less<>> expected;

  const Expectation* Find(absl::string_view clause_id) const {
    auto it = expected.find(clause_id);
    return it == expected.end() ? nullptr : &it->second;
  }
};

absl::StatusOr<Expectations> ParseExpectations(absl::string_view json_text);
absl::StatusOr<Expectations> LoadExpectations(const std::string& path);
// Every clause an expectations file names must exist in the registry.
absl::Status ValidateExpectations(const Expectations& expectations,
                                  const Registry& registry);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REGISTRY_MANIFEST_H_
