// Shared memory, semaphores and robust mutexes are not implemented on
// Windows yet: every call fails (or, where it cannot, reports nothing done),
// so that Lock, Queue and the rest fail to be created with a clear message
// instead of the program failing to link.
#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform {
namespace {

absl::Status NotYet() {
  return absl::UnimplementedError(
      "shared memory is not implemented on the windows backend yet (Lock, "
      "Semaphore, Queue and the other synchronization objects need it)");
}

}  // namespace

SharedRegion::SharedRegion(UniqueHandle handle, void* data, std::size_t size)
    : handle_(std::move(handle)), data_(data), size_(size) {}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : handle_(std::move(other.handle_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    handle_ = std::move(other.handle_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() { Reset(); }

void SharedRegion::Reset() {
  data_ = nullptr;
  size_ = 0;
  handle_.reset();
}

absl::StatusOr<SharedRegion> SharedRegion::Adopt(UniqueHandle handle) {
  (void)handle;
  return NotYet();
}

absl::StatusOr<SharedRegion> MapSharedRegion(NativeHandle handle) {
  (void)handle;
  return NotYet();
}

int SharedSemaphore::MaxValue() { return 0x7fffffff; }

absl::StatusOr<SharedSemaphore> SharedSemaphore::Init(void* memory,
                                                      unsigned value) {
  (void)memory;
  (void)value;
  return NotYet();
}

// No semaphore can exist (Init fails), so these are never reached.
bool SharedSemaphore::WaitSlow(absl::Time deadline) const {
  (void)deadline;
  return false;
}
void SharedSemaphore::WakeOneWaiter() const {}
absl::Status SharedSemaphore::PostSlow() const { return NotYet(); }
absl::StatusOr<bool> SharedSemaphore::PostBelowSemaphore(int maxvalue) const {
  (void)maxvalue;
  return NotYet();
}
int SharedSemaphore::Value() const { return 0; }

absl::StatusOr<RobustMutex> RobustMutex::Init(void* memory) {
  (void)memory;
  return NotYet();
}
absl::StatusOr<RobustMutex::LockResult> RobustMutex::Lock(
    absl::Time deadline) const {
  (void)deadline;
  return NotYet();
}
absl::Status RobustMutex::MakeConsistent() const { return NotYet(); }
absl::Status RobustMutex::Unlock() const { return NotYet(); }

bool windows::WindowsBackend::WaitSemaphoreUntil(void* semaphore, absl::Time deadline) {
  (void)semaphore;
  (void)deadline;
  return false;
}

int windows::WindowsBackend::LockMutexUntil(void* mutex, absl::Time deadline) {
  (void)mutex;
  (void)deadline;
  return 38;  // ENOSYS
}

}  // namespace procspec::platform
