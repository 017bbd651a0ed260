// Tests that watch grandchildren (what terminate() leaves behind, daemonic
// children of a killed parent) need orphans to re-parent to the test process
// instead of to init.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_SUBREAPER_H_
#define PROCSPEC_CONFORMANCE_HARNESS_SUBREAPER_H_

#include "absl/status/status.h"

namespace conformance {

// Makes this test process a child subreaper. Unsupported (skip as UNSUPPORTED
// via CONFORMANCE_REQUIRE) when the test host lacks "child_subreaper";
// an error when the manifest claims it but the OS refuses. It stays in effect
// for the rest of the process, which is harmless: the leak check reaps any
// orphan that re-parents to it.
//   CONFORMANCE_REQUIRE(conformance::BecomeChildSubreaper());
absl::Status BecomeChildSubreaper();

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_HARNESS_SUBREAPER_H_
