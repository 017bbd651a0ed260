// A registered target whose name is also used, with internal linkage, by
// target_registration_test.cc: two translation units may each have their own
// function of one name, and each must run its own.
#include "conformance/suite/module/start_methods/target_registration_testing.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

void RegistrationTwin(int code) { procspec::Exit(code + 2); }
PROCSPEC_TARGET(RegistrationTwin);

}  // namespace

void (*OtherFileRegistrationTwin())(int) { return &RegistrationTwin; }

}  // namespace conformance
