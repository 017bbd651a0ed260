// Registered targets shared by the module functions' tests (module/functions/),
// so that every test runs under every start method (fork, spawn, forkserver).
#ifndef PROCSPEC_CONFORMANCE_SUITE_MODULE_FUNCTIONS_FUNCTIONS_TESTING_H_
#define PROCSPEC_CONFORMANCE_SUITE_MODULE_FUNCTIONS_FUNCTIONS_TESTING_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/harness/handshake.h"
#include "conformance/suite/common/module_testing.h"
#include "process/inherited_handle.h"

namespace conformance::module_functions {

// Returns at once: exit code 0.
void ModuleNoop();
// Signals the handshake and blocks until released (errors ignored).
void ModuleHold(HandshakeChild handshake);

}  // namespace conformance::module_functions

#endif  // PROCSPEC_CONFORMANCE_SUITE_MODULE_FUNCTIONS_FUNCTIONS_TESTING_H_
