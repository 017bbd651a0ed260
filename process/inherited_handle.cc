#include "process/inherited_handle.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "process/internal/handle_passing.h"

namespace procspec {
namespace internal {
namespace {

thread_local HandleCollector* t_collector = nullptr;

struct Received {
  std::mutex mu;
  std::vector<platform::NativeHandle> handles;
};

Received& GetReceived() {
  static auto* received = new Received;
  return *received;
}

}  // namespace

HandleCollector::HandleCollector() : previous_(t_collector) {
  t_collector = this;
}

HandleCollector::~HandleCollector() { t_collector = previous_; }

std::int64_t AddToCurrentCollector(platform::NativeHandle handle) {
  HandleCollector* collector = t_collector;
  if (collector == nullptr) {
    throw std::runtime_error(
        "an InheritedHandle can only be sent as an argument of a Process (or "
        "in the state of a registered Process class)");
  }
  std::vector<platform::NativeHandle>& handles = collector->handles_;
  auto it = std::find(handles.begin(), handles.end(), handle);
  if (it != handles.end()) return it - handles.begin();
  if (handles.size() == kMaxInheritedHandles) {
    throw std::runtime_error(absl::StrCat("a child can receive at most ",
                                          kMaxInheritedHandles,
                                          " InheritedHandles"));
  }
  handles.push_back(handle);
  return static_cast<std::int64_t>(handles.size() - 1);
}

void AdoptReceivedHandles(std::vector<platform::UniqueHandle> handles) {
  Received& received = GetReceived();
  std::lock_guard<std::mutex> lock(received.mu);
  // Released: owned by this process until it exits, as an inherited
  // descriptor is under fork.
  for (platform::UniqueHandle& handle : handles)
    received.handles.push_back(handle.release());
}

}  // namespace internal

namespace spawn_internal {

std::int64_t PassHandle(platform::NativeHandle handle) {
  if (handle == platform::kInvalidHandle) return -1;
  return internal::AddToCurrentCollector(handle);
}

platform::NativeHandle ReceivedHandle(std::int64_t index) {
  if (index == -1) return platform::kInvalidHandle;
  internal::Received& received = internal::GetReceived();
  std::lock_guard<std::mutex> lock(received.mu);
  if (index < 0 || static_cast<std::size_t>(index) >= received.handles.size()) {
    throw std::runtime_error(
        absl::StrCat("InheritedHandle #", index,
                     " names no descriptor passed to this process"));
  }
  return received.handles[static_cast<std::size_t>(index)];
}

}  // namespace spawn_internal
}  // namespace procspec
