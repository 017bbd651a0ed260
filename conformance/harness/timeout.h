// Timeouts in tests are upper bounds on how long to wait for an event that
// should come much sooner; a slow machine or a sanitizer build must not turn
// them into failures.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_TIMEOUT_H_
#define PROCSPEC_CONFORMANCE_HARNESS_TIMEOUT_H_

#include "absl/time/time.h"

namespace conformance {

// `timeout` multiplied by $PROCSPEC_TIMEOUT_SCALE (a positive number), or when
// that is unset by 1, or 5 in a sanitizer build.
absl::Duration ScaledTimeout(absl::Duration timeout);
// The factor ScaledTimeout applies.
double TimeoutScale();

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_HARNESS_TIMEOUT_H_
