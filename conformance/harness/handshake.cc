#include "conformance/harness/handshake.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "conformance/harness/timeout.h"

namespace conformance {
namespace {

namespace platform = ::procspec::platform;

constexpr char kReady[] = "R";
constexpr char kRelease[] = "G";

}  // namespace

HandshakeChild Handshake::ChildSide() const {
  HandshakeChild child;
  child.ready_ = procspec::InheritedHandle(to_parent_.write.get());
  child.release_ = procspec::InheritedHandle(to_child_.read.get());
  child.parent_ends_ = {to_parent_.read.get(), to_child_.write.get()};
  return child;
}

void HandshakeChild::CloseInheritedParentEnds() {
  for (platform::NativeHandle handle : parent_ends_) {
    if (handle != platform::kInvalidHandle)
      platform::UniqueHandle(handle).reset();
  }
  parent_ends_.clear();
}

absl::Status HandshakeChild::SignalReady() {
  CloseInheritedParentEnds();
  if (!ready_.valid())
    return absl::FailedPreconditionError("already signalled");
  absl::Status status = platform::WriteAll(ready_.get(), kReady);
  platform::UniqueHandle(ready_.get()).reset();
  ready_ = procspec::InheritedHandle();
  return status;
}

absl::Status HandshakeChild::WaitForRelease() {
  CloseInheritedParentEnds();
  if (!release_.valid())
    return absl::FailedPreconditionError("already released");
  absl::StatusOr<std::string> byte = platform::ReadSome(release_.get(), 1);
  if (!byte.ok()) return byte.status();
  if (*byte == kRelease) return absl::OkStatus();
  return absl::AbortedError(
      "the parent closed the handshake without releasing the child");
}

absl::StatusOr<Handshake> Handshake::Create() {
  Handshake handshake;
  absl::StatusOr<platform::PipeEnds> to_parent = platform::MakePipe();
  if (!to_parent.ok()) return to_parent.status();
  absl::StatusOr<platform::PipeEnds> to_child = platform::MakePipe();
  if (!to_child.ok()) return to_child.status();
  handshake.to_parent_ = *std::move(to_parent);
  handshake.to_child_ = *std::move(to_child);
  return handshake;
}

void Handshake::CloseParentEnds() {
  to_parent_.read.reset();
  to_child_.write.reset();
}

void Handshake::CloseChildEnds() {
  to_parent_.write.reset();
  to_child_.read.reset();
}

absl::Status Handshake::SignalReady() {
  CloseParentEnds();
  if (!to_parent_.write.valid())
    return absl::FailedPreconditionError("already signalled");
  absl::Status status = platform::WriteAll(to_parent_.write.get(), kReady);
  to_parent_.write.reset();
  return status;
}

absl::Status Handshake::WaitForRelease() {
  CloseParentEnds();
  if (!to_child_.read.valid())
    return absl::FailedPreconditionError("already released");
  absl::StatusOr<std::string> byte =
      platform::ReadSome(to_child_.read.get(), 1);
  if (!byte.ok()) return byte.status();
  if (*byte == kRelease) return absl::OkStatus();
  return absl::AbortedError(
      "the parent closed the handshake without releasing the child");
}

absl::Status Handshake::WaitReady(absl::Duration timeout) {
  CloseChildEnds();
  if (!to_parent_.read.valid())
    return absl::FailedPreconditionError("already waited");
  const absl::Duration scaled = ScaledTimeout(timeout);
  const platform::NativeHandle handle = to_parent_.read.get();
  absl::StatusOr<std::vector<std::size_t>> ready = platform::WaitReadable(
      absl::MakeConstSpan(&handle, 1), absl::Now() + scaled);
  if (!ready.ok()) return ready.status();
  if (ready->empty()) {
    return absl::DeadlineExceededError(
        absl::StrCat("the child did not signal ready within ",
                     absl::FormatDuration(scaled)));
  }
  absl::StatusOr<std::string> byte = platform::ReadSome(handle, 1);
  if (!byte.ok()) return byte.status();
  to_parent_.read.reset();
  if (*byte == kReady) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "the child exited before signalling ready");
}

absl::Status Handshake::Release() {
  CloseChildEnds();
  if (!to_child_.write.valid())
    return absl::FailedPreconditionError("already released");
  absl::Status status = platform::WriteAll(to_child_.write.get(), kRelease);
  to_child_.write.reset();
  return status;
}

}  // namespace conformance
