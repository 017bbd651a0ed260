// A descriptor passed to a child as a Process argument, under every start
// method (CPython passes a Connection or a file descriptor the same way).
//
//   void task(procspec::InheritedHandle out, std::string text) {
//     (void)procspec::platform::WriteAll(out.get(), text);
//   }
//   PROCSPEC_TARGET(task);
//   ...
//   procspec::Process p(task, std::tuple{procspec::InheritedHandle(
//                                            pipe.write.get()), "hi"});
//
// Under fork the child's argument is the same descriptor (the child inherited
// every descriptor of its parent). Under spawn and forkserver the library
// passes exactly the descriptors the arguments (and a registered Process
// class's state) name to the child: across the exec (SpawnOptions::handles) or
// with the fork server request (SCM_RIGHTS); the child's argument then names
// its own copy. Every other descriptor stays close-on-exec, and the copies are
// close-on-exec again in the child. The parent keeps ownership of its
// descriptor: it must stay open until start() returns. The child owns its copy
// (open until it exits, or until it closes it).
//
// Serialized (cereal) as an index into the descriptors passed with the
// bootstrap; serializing one outside a spawn bootstrap fails (PicklingError at
// start()), as does passing more than kMaxInheritedHandles.
#ifndef PROCSPEC_PROCESS_INHERITED_HANDLE_H_
#define PROCSPEC_PROCESS_INHERITED_HANDLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "platform/platform.h"

namespace procspec {

// The most InheritedHandles one child can receive (a fork server request
// carries them in batches of SCM_RIGHTS messages; a spawned child's bootstrap
// header lists them).
inline constexpr std::size_t kMaxInheritedHandles =
    platform::kMaxForkServerHandles;

namespace spawn_internal {
// In the parent, while a bootstrap is serialized: the index of `handle` among
// the descriptors passed to the child (added if new); -1 for an invalid
// handle. Throws std::runtime_error outside a bootstrap or past the limit.
std::int64_t PassHandle(platform::NativeHandle handle);
// In the child: the descriptor passed as `index`; kInvalidHandle for -1.
// Throws std::runtime_error for an index that names no passed descriptor.
platform::NativeHandle ReceivedHandle(std::int64_t index);
}  // namespace spawn_internal

class InheritedHandle {
 public:
  InheritedHandle() = default;
  explicit InheritedHandle(platform::NativeHandle handle) : handle_(handle) {}

  // The descriptor in the current process (the child's copy in a child).
  platform::NativeHandle get() const { return handle_; }
  bool valid() const { return handle_ != platform::kInvalidHandle; }

  template <class Archive>
  void save(Archive& archive) const {
    archive(spawn_internal::PassHandle(handle_));
  }
  template <class Archive>
  void load(Archive& archive) {
    std::int64_t index = -1;
    archive(index);
    handle_ = spawn_internal::ReceivedHandle(index);
  }

 private:
  platform::NativeHandle handle_ = platform::kInvalidHandle;
};

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_INHERITED_HANDLE_H_
