#include "platform/posix/internal/fork_registry.h"

#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace procspec::platform::internal {
namespace {

// Guarded by ForkMutex(). Leaked on purpose: a child exiting with _exit never
// destroys it, and a thread forking during static destruction must still find
// it.
std::vector<NativeHandle>& Registered() {
  static auto* registered = new std::vector<NativeHandle>();
  return *registered;
}

void UnregisterLocked(NativeHandle handle) {
  std::vector<NativeHandle>& registered = Registered();
  auto it = std::find(registered.begin(), registered.end(), handle);
  if (it != registered.end()) registered.erase(it);
}

}  // namespace

std::mutex& ForkMutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}

void RegisterLocked(NativeHandle handle) { Registered().push_back(handle); }

void CloseRegisteredInChildLocked() {
  for (NativeHandle handle : Registered()) close(static_cast<int>(handle));
  Registered().clear();
}

std::vector<NativeHandle> RegisteredLocked() { return Registered(); }

RegisteredHandle RegisteredHandle::AdoptLocked(UniqueHandle handle) {
  RegisteredHandle adopted;
  if (!handle.valid()) return adopted;
  adopted.handle_ = handle.release();
  adopted.owner_ = CurrentPid();
  RegisterLocked(adopted.handle_);
  return adopted;
}

RegisteredHandle::RegisteredHandle(RegisteredHandle&& other) noexcept
    : handle_(std::exchange(other.handle_, kInvalidHandle)),
      owner_(other.owner_) {}

RegisteredHandle& RegisteredHandle::operator=(
    RegisteredHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    handle_ = std::exchange(other.handle_, kInvalidHandle);
    owner_ = other.owner_;
  }
  return *this;
}

void RegisteredHandle::Reset() {
  const NativeHandle handle = std::exchange(handle_, kInvalidHandle);
  if (handle == kInvalidHandle || owner_ != CurrentPid()) return;
  std::lock_guard<std::mutex> lock(ForkMutex());
  UnregisterLocked(handle);
  close(static_cast<int>(handle));
}

}  // namespace procspec::platform::internal
