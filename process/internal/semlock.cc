#include "process/internal/semlock.h"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/internal/deadline.h"

namespace procspec::sync_internal {
namespace {

using platform::SharedRegion;
using platform::SharedSemaphore;

// Regions and SemLocks received by this process, so that every object a
// child receives for the same region shares one mapping, and every copy of the
// same SemLock is one object (as copies are in the parent).
struct Received {
  std::mutex mu;
  std::map<platform::NativeHandle, std::weak_ptr<SharedRegion>> regions;
  std::map<std::pair<const SharedRegion*, std::size_t>, std::weak_ptr<SemLock>>
      semlocks;
};

Received& GetReceived() {
  static auto* received = new Received;
  return *received;
}

}  // namespace

absl::Time DeadlineFor(bool block, std::optional<double> timeout) {
  if (!block) return absl::InfinitePast();
  return internal::DeadlineAfter(timeout);
}

bool RegionObjectsCross() { return SharedRegion::ObjectsHaveHandles(); }

std::vector<std::int64_t> SendObjectHandles(const SharedRegion& region,
                                            std::size_t skip_begin,
                                            std::size_t skip_end) {
  std::vector<std::int64_t> objects;
  if (!SharedRegion::ObjectsHaveHandles()) return objects;
  for (const auto& [offset, handle] : region.object_handles()) {
    if (offset >= skip_begin && offset < skip_end) continue;
    objects.push_back(static_cast<std::int64_t>(offset));
    objects.push_back(spawn_internal::PassHandle(handle));
  }
  return objects;
}

void ReceiveObjectHandles(SharedRegion& region,
                          const std::vector<std::int64_t>& objects) {
  if (objects.size() % 2 != 0) {
    throw std::runtime_error(
        "a received synchronization object's handles are not in pairs");
  }
  for (std::size_t i = 0; i < objects.size(); i += 2) {
    if (objects[i] < 0) {
      throw std::runtime_error(
          "a received synchronization object's handle "
          "has a negative offset");
    }
    const absl::Status adopted = region.AdoptObjectHandle(
        static_cast<std::size_t>(objects[i]),
        spawn_internal::ReceivedHandle(objects[i + 1]));
    if (!adopted.ok()) {
      throw std::runtime_error(
          absl::StrCat("cannot adopt a received synchronization object: ",
                       adopted.ToString()));
    }
  }
}

RegionRef SendRegion(const SharedRegion* region, std::size_t offset,
                     std::size_t skip_begin, std::size_t skip_end) {
  if (region == nullptr || !region->valid()) return RegionRef();
  return RegionRef{.handle = spawn_internal::PassHandle(region->handle()),
                   .offset = offset,
                   .objects = SendObjectHandles(*region, skip_begin, skip_end)};
}

std::shared_ptr<SharedRegion> ReceiveRegion(const RegionRef& ref,
                                            std::size_t object_size) {
  if (ref.handle == -1) return nullptr;
  const platform::NativeHandle handle =
      spawn_internal::ReceivedHandle(ref.handle);
  Received& received = GetReceived();
  std::lock_guard<std::mutex> lock(received.mu);
  std::shared_ptr<SharedRegion> region = received.regions[handle].lock();
  if (region == nullptr) {
    absl::StatusOr<SharedRegion> mapped = platform::MapSharedRegion(handle);
    if (!mapped.ok()) {
      throw std::runtime_error(
          absl::StrCat("cannot map a received synchronization object: ",
                       mapped.status().ToString()));
    }
    region = std::make_shared<SharedRegion>(*std::move(mapped));
    received.regions[handle] = region;
  }
  ReceiveObjectHandles(*region, ref.objects);
  if (ref.offset > region->size() ||
      region->size() - ref.offset < object_size) {
    throw std::runtime_error(absl::StrCat(
        "a received synchronization object lies outside its region (offset ",
        ref.offset, ", region of ", region->size(), " bytes)"));
  }
  return region;
}

SemLock::SemLock(std::shared_ptr<SharedRegion> region, std::size_t offset,
                 Kind kind, int maxvalue)
    : region_(std::move(region)),
      offset_(offset),
      semaphore_(
          SharedSemaphore::At(static_cast<char*>(region_->data()) + offset)),
      kind_(kind),
      maxvalue_(maxvalue) {}

absl::StatusOr<std::shared_ptr<SemLock>> SemLock::Create(Kind kind, int value,
                                                         int maxvalue) {
  // Checked before any memory is made, as sem_open would refuse it.
  if (value < 0)
    return OSError(absl::InvalidArgumentError("[Errno 22] Invalid argument"));
  absl::StatusOr<SharedRegion> region =
      platform::CreateSharedRegion(SharedSemaphore::kSize);
  if (!region.ok()) return OSError(region.status());
  return CreateIn(std::make_shared<SharedRegion>(*std::move(region)), 0, kind,
                  value, maxvalue);
}

absl::StatusOr<std::shared_ptr<SemLock>> SemLock::CreateIn(
    std::shared_ptr<SharedRegion> region, std::size_t offset, Kind kind,
    int value, int maxvalue) {
  if (value < 0)
    return OSError(absl::InvalidArgumentError("[Errno 22] Invalid argument"));
  absl::StatusOr<SharedSemaphore> semaphore =
      SharedSemaphore::Init(static_cast<char*>(region->data()) + offset,
                            static_cast<unsigned>(value));
  if (!semaphore.ok()) return OSError(semaphore.status());
  return std::shared_ptr<SemLock>(
      new SemLock(std::move(region), offset, kind, maxvalue));
}

void SemLock::AddCount(std::uint32_t generation, int delta, bool acquired) {
  if (acquired) last_thread_.store(ThisThread(), std::memory_order_relaxed);
  std::uint64_t state = state_.load(std::memory_order_relaxed);
  while (!state_.compare_exchange_weak(
      state, Pack(generation, Unpack(state, generation) + delta),
      std::memory_order_release, std::memory_order_relaxed)) {
  }
}

bool SemLock::IsMine() {
  return CountNow(Generation()) > 0 &&
         last_thread_.load(std::memory_order_relaxed) == ThisThread();
}

int SemLock::Count() { return CountNow(Generation()); }

absl::Status SemLock::TooManyOrOSError(const absl::Status& status) {
  if (status.ok()) {
    // As CPython: not an absolute guarantee that the value never exceeds
    // maxvalue (two releases may race), but it catches the bug.
    return ValueError("semaphore or lock released too many times");
  }
  return OSError(status);
}

bool SemLock::AcquireSlow(bool block, std::optional<double> timeout) {
  const std::uint32_t generation = Generation();
  if (kind_ == Kind::kRecursiveMutex && IsMine()) {
    // Only the holder changes the count of a held RLock.
    StoreCount(generation, CountNow(generation) + 1, /*acquired=*/false);
    return true;
  }
  if (!semaphore_.Wait(DeadlineFor(block, timeout))) return false;
  if (Serialized()) {
    StoreCount(generation, CountNow(generation) + 1, /*acquired=*/true);
  } else {
    AddCount(generation, 1, /*acquired=*/true);
  }
  return true;
}

absl::Status SemLock::ReleaseSlow() {
  const std::uint32_t generation = Generation();
  if (kind_ == Kind::kRecursiveMutex) {
    if (!IsMine()) {
      return AssertionError(
          "attempt to release recursive lock not owned by thread");
    }
    const int count = CountNow(generation);
    if (count > 1) {
      StoreCount(generation, count - 1, /*acquired=*/false);
      return absl::OkStatus();
    }
    // The last level: posted without a value check, as CPython.
    StoreCount(generation, 0, /*acquired=*/false);
    if (absl::Status status = semaphore_.Post(); !status.ok()) {
      StoreCount(generation, count, /*acquired=*/false);
      return OSError(status);
    }
    return absl::OkStatus();
  }
  // As Release: the count goes down before the post, back up if nothing
  // was posted.
  const auto add = [&](int delta) {
    if (Serialized()) {
      StoreCount(generation, CountNow(generation) + delta, /*acquired=*/false);
    } else {
      AddCount(generation, delta, /*acquired=*/false);
    }
  };
  add(-1);
  absl::StatusOr<bool> posted = semaphore_.PostBelow(maxvalue_);
  if (posted.ok() && *posted) return absl::OkStatus();
  add(1);
  return TooManyOrOSError(posted.status());
}

SemLockWire SaveSemLock(const std::shared_ptr<SemLock>& semlock) {
  if (semlock == nullptr) return SemLockWire();
  return SemLockWire{
      .region = SendRegion(semlock->region_.get(), semlock->offset_),
      .kind = static_cast<std::int32_t>(semlock->kind_),
      .maxvalue = semlock->maxvalue_};
}

std::shared_ptr<SemLock> LoadSemLock(const SemLockWire& wire) {
  std::shared_ptr<SharedRegion> region =
      ReceiveRegion(wire.region, SharedSemaphore::kSize);
  if (region == nullptr) return nullptr;
  if (wire.kind != static_cast<std::int32_t>(SemLock::Kind::kSemaphore) &&
      wire.kind != static_cast<std::int32_t>(SemLock::Kind::kRecursiveMutex)) {
    throw std::runtime_error(
        absl::StrCat("unrecognized kind of semaphore: ", wire.kind));
  }
  Received& received = GetReceived();
  std::lock_guard<std::mutex> lock(received.mu);
  const auto key = std::make_pair(region.get(),
                                  static_cast<std::size_t>(wire.region.offset));
  std::shared_ptr<SemLock> semlock = received.semlocks[key].lock();
  if (semlock == nullptr) {
    semlock = std::shared_ptr<SemLock>(
        new SemLock(region, key.second, static_cast<SemLock::Kind>(wire.kind),
                    wire.maxvalue));
    received.semlocks[key] = semlock;
  }
  return semlock;
}

}  // namespace procspec::sync_internal
