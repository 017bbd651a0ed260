// How InheritedHandles cross to a spawned or fork-server child: the parent
// collects the descriptors while it serializes the bootstrap; the child adopts
// the copies it received before it deserializes anything.
#ifndef PROCSPEC_PROCESS_INTERNAL_HANDLE_PASSING_H_
#define PROCSPEC_PROCESS_INTERNAL_HANDLE_PASSING_H_

#include <cstdint>
#include <vector>

#include "platform/platform.h"

namespace procspec::internal {

// While one is alive, InheritedHandles serialized on this thread are
// collected in it (and only then may they be serialized).
class HandleCollector {
 public:
  HandleCollector();
  ~HandleCollector();
  HandleCollector(const HandleCollector&) = delete;
  HandleCollector& operator=(const HandleCollector&) = delete;

  // The descriptors to pass, in index order.
  const std::vector<platform::NativeHandle>& handles() const {
    return handles_;
  }

 private:
  friend std::int64_t AddToCurrentCollector(platform::NativeHandle handle);
  HandleCollector* previous_;
  std::vector<platform::NativeHandle> handles_;
};

// In a child: the descriptors passed with its bootstrap, by index. They stay
// open for the life of the process (as inherited ones do under fork).
void AdoptReceivedHandles(std::vector<platform::UniqueHandle> handles);

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_HANDLE_PASSING_H_
