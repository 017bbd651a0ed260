// The clause registry (conformance/clauses.json): the specification as data.
//
// Every behaviour procspec promises is a clause with a stable id; conformance
// tests cite clause ids, and the report is a clause x (backend, start method)
// matrix. This library parses the registry and validates it, so a malformed
// entry fails loudly in one place (registry_test) instead of skewing the
// report. See docs/design.md for the schema.
#ifndef PROCSPEC_CONFORMANCE_REGISTRY_REGISTRY_H_
#define PROCSPEC_CONFORMANCE_REGISTRY_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace conformance {

enum class ClauseKind { kNormative, kImplementationDefined, kOptional };
// "normative", "implementation-defined", "optional": the spelling used in the
// registry.
absl::string_view ClauseKindName(ClauseKind kind);

struct Clause {
  // "<area>.<topic>.<behaviour>", lower case, never renamed once cited.
  std::string id;
  // The first component of `id`; the report groups by it.
  std::string area;
  // One line.
  std::string title;
  // The tutorial's Chinese sentence(s), verbatim (docs/seed/); "" where it is
  // silent.
  std::string seed;
  // CPython 3.11's precise behaviour.
  std::string cpython;
  ClauseKind kind = ClauseKind::kNormative;
  // Keys of Registry::capabilities().
  std::vector<std::string> requires_capabilities;
  // Where the tutorial is wrong.
  std::string erratum;
  // Where procspec deliberately differs from CPython.
  std::string deviation;
  // Non-empty only while no test cites the clause: why.
  std::string untested;
  // Optional, per start method ("fork", "spawn", "forkserver"): where the
  // clause depends on the start method. Each note is either
  //   "not_applicable: <reason>"  the clause cannot be observed under that
  //                               method (the report shows N/A, not
  //                               UNSUPPORTED)
  //   "differs: <text>"           CPython behaves differently under that
  //                               method; the tests check that behaviour there
  std::map<std::string, std::string> start_methods;
};

// The reason a clause is not applicable under `start_method` ("" when it is):
// the text after "not_applicable: " in its start_methods note.
std::string NotApplicableReason(const Clause& clause,
                                absl::string_view start_method);

// The start methods a start_methods note may name, in canonical order.
inline constexpr absl::string_view kKnownStartMethods[] = {"fork", "spawn",
                                                           "forkserver"};

class Registry {
 public:
  // Parses and validates registry JSON. On failure the message lists every
  // problem found, one per line, so that one run shows all of them.
  static absl::StatusOr<Registry> Parse(absl::string_view json_text);
  static absl::StatusOr<Registry> Load(const std::string& path);

  // Capability name -> what a backend must be able to do.
  const std::map<std::string, std::string>& capabilities() const {
    return capabilities_;
  }
  // In file order.
  const std::vector<Clause>& clauses() const { return clauses_; }

  // nullptr if there is no clause `id`.
  const Clause* Find(absl::string_view id) const;
  bool HasCapability(absl::string_view name) const;

 private:
  std::map<std::string, std::string> capabilities_;
  std::vector<Clause> clauses_;
  // id -> position in clauses_.
  std::map<std::string, std::size_t, std::less<>> index_;
};

// Whether `id` is a well-formed clause id: at least three dot-separated
// components, each [a-z][a-z0-9_]*.
bool IsValidClauseId(absl::string_view id);
// Whether `name` is a well-formed capability name: [a-z][a-z0-9_]*.
bool IsValidCapabilityName(absl::string_view name);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_REGISTRY_REGISTRY_H_
