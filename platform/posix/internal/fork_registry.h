// The lock that orders this library's forks with the descriptors its backends
// own, and the registry of those descriptors.
//
// A backend owns descriptors on behalf of one child (the sentinel, the
// parent-watch pipe) or of the current process's own parent watch. None of them
// may leak into another child: a sibling holding a child's pipe end would delay
// that child's sentinel until the sibling exits, and a grandchild holding its
// parent's parent-watch pipe would hide the grandparent's death. So every such
// descriptor is registered, and a new child closes all registered descriptors
// before it runs anything. Registration, closing and fork() all happen under
// `ForkMutex()`, so a descriptor number is never closed in a child after the
// parent has reused it for something else.
#ifndef PROCSPEC_PLATFORM_POSIX_INTERNAL_FORK_REGISTRY_H_
#define PROCSPEC_PLATFORM_POSIX_INTERNAL_FORK_REGISTRY_H_

#include <mutex>
#include <vector>

#include "platform/platform.h"

namespace procspec::platform::internal {

// Held across pipe creation and fork(). A std::mutex, not absl::Mutex: the
// child unlocks it right after fork(), on the same thread that locked it in the
// parent, which a plain pthread mutex allows.
std::mutex& ForkMutex();

// Adds `handle` to the descriptors a new child closes. Requires ForkMutex().
void RegisterLocked(NativeHandle handle);
// In a child right after fork(), with ForkMutex() held: closes every registered
// descriptor (they belong to the parent's other children and to the parent's
// own parent watch) and forgets them.
void CloseRegisteredInChildLocked();
// The registered descriptors. Requires ForkMutex().
std::vector<NativeHandle> RegisteredLocked();

// A backend-owned descriptor: registered while open, unregistered and closed
// together under ForkMutex(). Inert in a process other than the one that
// adopted it: a forked child has already closed it
// (CloseRegisteredInChildLocked), and its number may name something else there.
class RegisteredHandle {
 public:
  RegisteredHandle() = default;
  // Takes `handle` and registers it. Requires ForkMutex(); returns an empty
  // handle for an invalid one.
  static RegisteredHandle AdoptLocked(UniqueHandle handle);

  RegisteredHandle(RegisteredHandle&& other) noexcept;
  RegisteredHandle& operator=(RegisteredHandle&& other) noexcept;
  RegisteredHandle(const RegisteredHandle&) = delete;
  RegisteredHandle& operator=(const RegisteredHandle&) = delete;
  // Must not run with ForkMutex() held (it takes it).
  ~RegisteredHandle() { Reset(); }

  NativeHandle get() const { return handle_; }
  bool valid() const { return handle_ != kInvalidHandle; }
  // Unregisters and closes it (takes ForkMutex()); nothing in another process.
  void Reset();

 private:
  NativeHandle handle_ = kInvalidHandle;
  Pid owner_ = 0;
};

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_POSIX_INTERNAL_FORK_REGISTRY_H_
