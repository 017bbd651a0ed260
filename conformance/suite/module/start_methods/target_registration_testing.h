// Shared by target_registration_test.cc and target_registration_other.cc.
#ifndef PROCSPEC_CONFORMANCE_SUITE_MODULE_START_METHODS_TARGET_REGISTRATION_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_MODULE_START_METHODS_TARGET_REGISTRATION_TESTING_H_

namespace conformance {

// target_registration_other.cc's RegistrationTwin, a function with internal
// linkage that exits with its argument + 2.
void (*OtherFileRegistrationTwin())(int);

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_SUITE_MODULE_START_METHODS_TARGET_REGISTRATION_TESTING_H_
