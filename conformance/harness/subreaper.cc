#include "conformance/harness/subreaper.h"

#include "absl/strings/str_cat.h"
#include "conformance/harness/clause.h"
#include "platform/testing/os_testing.h"

namespace conformance {

absl::Status BecomeChildSubreaper() {
  if (absl::Status status = RequireCapability("child_subreaper"); !status.ok())
    return status;
  absl::Status status = procspec::platform::testing::BecomeChildSubreaper();
  if (status.ok()) return status;
  // The manifest promised the capability, so the OS refusing is a defect, not a
  // skip.
  return absl::InternalError(
      absl::StrCat("the test host reports child_subreaper but the OS refused: ",
                   status.ToString()));
}

}  // namespace conformance
