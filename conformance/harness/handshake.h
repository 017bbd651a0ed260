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
// Under every start method, pass the child's side as a Process argument to a
// registered target instead (it is serializable: its descriptors are
// procspec::InheritedHandles):
//   void Blocked(conformance::HandshakeChild handshake) {
//     (void)handshake.SignalReady();
//     (void)handshake.WaitForRelease();
//   }
//   PROCSPEC_TARGET(Blocked);
//   procspec::Process p(Blocked, std::tuple{handshake->ChildSide()});
//
// Two close-on-exec pipes. Each side closes the other side's ends before using
// its own, so a child that dies before signalling is seen by WaitReady at once
// (end of file), and a child whose parent dies is released from WaitForRelease
// instead of blocking forever.
#ifndef PROCSPEC_CONFORMANCE_HARNESS_HANDSHAKE_H_
#define PROCSPEC_CONFORMANCE_HARNESS_HANDSHAKE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"

namespace conformance {

// The child's side of a Handshake, for a child that has it as an argument.
class HandshakeChild {
 public:
  HandshakeChild() = default;

  // As Handshake::SignalReady and Handshake::WaitForRelease.
  absl::Status SignalReady();
  absl::Status WaitForRelease();

  // Only the child's ends are sent; a forked child closes the parent's ends
  // it inherited first, a spawned one never has them.
  template <class Archive>
  void serialize(Archive& archive) {
    archive(ready_, release_);
  }

 private:
  friend class Handshake;
  void CloseInheritedParentEnds();

  procspec::InheritedHandle ready_;    // the child writes "ready"
  procspec::InheritedHandle release_;  // the parent writes "released"
  // The parent's ends, as numbers valid only in a forked copy; not sent.
  std::vector<procspec::platform::NativeHandle> parent_ends_;
};

class Handshake {
 public:
  static absl::StatusOr<Handshake> Create();

  Handshake(Handshake&&) = default;
  Handshake& operator=(Handshake&&) = default;

  // The child's side, to pass as a Process argument. Call it before start();
  // the parent's WaitReady()/Release() close its copies of the child's ends.
  HandshakeChild ChildSide() const;

  // ---- In the child (a forked child with a copy of this object) ----
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
