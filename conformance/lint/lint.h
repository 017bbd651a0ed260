// The clause lint: every citation points at a real clause, and every clause is
// either tested or says why not. Without it the report's UNTESTED column could
// hide a typo in a citation.
#ifndef PROCSPEC_CONFORMANCE_LINT_LINT_H_
#define PROCSPEC_CONFORMANCE_LINT_LINT_H_

#include <string>
#include <vector>

#include "conformance/registry/citations.h"
#include "conformance/registry/registry.h"

namespace conformance {

// One message per problem, empty when the registry and the citations agree:
//   - a test cites a clause the registry does not have;
//   - a test cites no clause at all;
//   - a clause has neither a test nor a non-empty `untested` reason;
//   - a clause has a test and still an `untested` reason (stale);
//   - a clause is not_applicable under every start method (start_methods), so
//     that no column could ever check it.
std::vector<std::string> LintCitations(
    const Registry& registry, const std::vector<TestCitation>& citations);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_LINT_LINT_H_
