// Synchronises a test with a child it forked, without sleeping.
//
//   absl::StatusOr<conformance::Handshake> handshake =
//       conformance::Handshake::Create();
//   ... fork; in the child:
//     handshake->SignalReady();     // "I reached the point the test waits for"
//     handshake->WaitForRelease();  // until released, killed or orphaned
//     return 0;
//   ... in the parent:
//     ASSERT_TRUE(handshake->WaitReady().ok());  // the child is now running
//     ... act on the running child (terminate, join with a timeout, ...) ...
//     handshake->Release();  // or kill it
//
// Two close-on-exec pipes. Each side closes the other side's ends before using
// its own, so a child that dies before signalling is seen by WaitReady at once
// (end of file), and a child whose parent dies is released from WaitForRelease
// instead of blocking forever.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_HANDSHAKE_H_
#define PROCSPEC_CONFORMANCE_HARNESS_HANDSHAKE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace conformance {

class Handshake {
 public:
  static absl::StatusOr<Handshake> Create();

  Handshake(Handshake&&) = default;
  Handshake& operator=(Handshake&&) = default;

  // ---- In the child ----
  // Tells the parent the child is ready.
  absl::Status SignalReady();
  // Blocks until the parent calls Release() (OK), or the parent's end closes
  // without a release (Aborted: the parent died or gave up).
  absl::Status WaitForRelease();

  // ---- In the parent ----
  // Waits up to ScaledTimeout(timeout) for the child's SignalReady().
  // DeadlineExceeded on timeout; FailedPrecondition if the child exited (or
  // closed its end) without signalling.
  absl::Status WaitReady(absl::Duration timeout = absl::Seconds(30));
  // Lets the child return from WaitForRelease().
  absl::Status Release();

 private:
  Handshake() = default;
  void CloseParentEnds();
  void CloseChildEnds();

  procspec::platform::PipeEnds to_parent_;  // child writes "ready"
  procspec::platform::PipeEnds to_child_;   // parent writes "released"
};

}  // namespace conformance

#endif  // PROCSPEC_CONFORMANCE_HARNESS_HANDSHAKE_H_
