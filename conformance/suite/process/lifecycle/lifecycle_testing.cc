#include "conformance/suite/process/lifecycle/lifecycle_testing.h"

#include "process/spawn.h"

namespace conformance::lifecycle {

void LifecycleNoop() {}
PROCSPEC_TARGET(LifecycleNoop);

void LifecycleBlockThenExit(HandshakeChild handshake, int code) {
  if (!handshake.SignalReady().ok()) procspec::Exit(100);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(101);
  procspec::Exit(code);
}
PROCSPEC_TARGET(LifecycleBlockThenExit);

}  // namespace conformance::lifecycle
