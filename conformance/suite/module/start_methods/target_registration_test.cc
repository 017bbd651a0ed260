// PROCSPEC_TARGET names a function so that a spawned (or forkserver) child can
// find it again, as pickle names a function by its module and qualified name.
// Two functions with the same bare name, in two namespaces or with internal
// linkage in two files, are different targets: each child runs its own.
#include <tuple>

#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/module/start_methods/target_registration_testing.h"
#include "gtest/gtest.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace registration_first {
void RegistrationSameName(int code) { procspec::Exit(code); }
PROCSPEC_TARGET(RegistrationSameName);
}  // namespace registration_first

namespace registration_second {
void RegistrationSameName(int code) { procspec::Exit(code + 1); }
PROCSPEC_TARGET(RegistrationSameName);
}  // namespace registration_second

namespace {

void RegistrationTwin(int code) { procspec::Exit(code); }
PROCSPEC_TARGET(RegistrationTwin);

// Starts `target(5)` with the suite's start method and returns its exitcode.
absl::StatusOr<int> RunWithFive(void (*target)(int)) {
  procspec::Process p(target, std::tuple{5});
  testing::KillOnExit guard(p);
  if (absl::Status started = p.start(); !started.ok()) return started;
  return testing::JoinAndGetExitcode(p);
}

CONFORMANCE_TEST(TargetRegistration, SameNameInTwoNamespacesRunsItsOwnBody,
                 "process.target.unique_registration") {
  ASSERT_OK_AND_ASSIGN(int first,
                       RunWithFive(&registration_first::RegistrationSameName));
  EXPECT_EQ(first, 5);
  ASSERT_OK_AND_ASSIGN(int second,
                       RunWithFive(&registration_second::RegistrationSameName));
  EXPECT_EQ(second, 6);
}

CONFORMANCE_TEST(TargetRegistration, SameInternalNameInTwoFilesRunsItsOwnBody,
                 "process.target.unique_registration") {
  ASSERT_OK_AND_ASSIGN(int here, RunWithFive(&RegistrationTwin));
  EXPECT_EQ(here, 5);
  ASSERT_OK_AND_ASSIGN(int other, RunWithFive(OtherFileRegistrationTwin()));
  EXPECT_EQ(other, 7);
}

}  // namespace
}  // namespace conformance
