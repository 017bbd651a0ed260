#include "conformance/suite/module/functions/functions_testing.h"

#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::module_functions {

void ModuleNoop() {}
PROCSPEC_TARGET(ModuleNoop);

void ModuleHold(HandshakeChild handshake) {
  (void)handshake.SignalReady();
  (void)handshake.WaitForRelease();
}
PROCSPEC_TARGET(ModuleHold);

}  // namespace conformance::module_functions
