// Shared memory, semaphores and robust mutexes on Windows.
//
// A region is an anonymous pagefile-backed file mapping (CreateFileMapping
// with no name, its handle not inheritable) mapped read-write; another
// process maps it through a handle passed to it in the handle list of its
// CreateProcess, like any InheritedHandle.
//
// A semaphore or mutex cannot be bytes of the memory on Windows: no wait on
// an address works across processes. Each is a kernel object (a semaphore, as
// CPython's _multiprocessing.SemLock on Windows; a mutex, whose WAIT_ABANDONED
// is a robust mutex's owner-died), and its bytes in the memory record its kind
// ("kernel semaphore" or "kernel mutex") and an identity that names it. Each
// process finds the object by the address of those bytes (At(memory)), as on
// POSIX: a table of this process's handles per mapping of a region, filled
// when the object is made here (Init), adopted with the region
// (AdoptObjectHandle: the handles a parent passes beside the region's), or
// opened by its name otherwise. The handles close with the mapping.
//
// Why the handles are passed and not only named: a kernel object lives as
// long as a handle on it does, so a name alone would let a parent that drops
// a Lock right after start() destroy it before its child opens it. Every
// object the parent knows crosses in the handle list instead, held by the
// child before the parent can drop anything. The name serves only objects
// made after the region crossed (a Condition's or Event's waiter slots, made
// by whichever process first waits on them): while any process that uses one
// maps the region it holds its handle, so the name resolves; if every such
// process has gone, the slot's owner is gone with it and the next user makes
// the object afresh from the value recorded at Init, which is what a slot
// whose waiter died needs (its mutex unowned, its posts for nobody).
#include "platform/shared_memory.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/windows/win32.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform {
namespace {

// The bytes of a kernel object in the memory (SharedSemaphore::kSize and
// RobustMutex::kSize). The kind is at SharedSemaphore's kKindIndex (byte 48),
// where the other kinds record theirs.
struct KernelObjectRecord {
  std::uint64_t id_high;        // the identity: the creator's pid and a counter
  std::uint64_t id_low;         // random bits
  std::uint32_t initial_value;  // a semaphore's value at Init
  std::atomic<std::uint32_t> owner_process;  // a mutex's owner (0: none)
  std::atomic<std::uint32_t> owner_thread;
  std::atomic<std::uint32_t> state;  // a mutex's MutexState
  std::uint32_t unused[4];
  std::uint32_t kind;  // kSemaphoreKind or kMutexKind
  std::uint32_t unused_tail[3];
};
static_assert(sizeof(KernelObjectRecord) == SharedSemaphore::kSize);
static_assert(sizeof(KernelObjectRecord) == RobustMutex::kSize);
static_assert(offsetof(KernelObjectRecord, kind) == 12 * 4);

constexpr std::uint32_t kSemaphoreKind = 0x4b534d31;  // "KSM1"
constexpr std::uint32_t kMutexKind = 0x4b4d5831;      // "KMX1"

// A robust mutex's state, as POSIX's: consistent; its owner died and the
// new owner has not called MakeConsistent yet; unlocked while inconsistent,
// unusable for ever.
enum MutexState : std::uint32_t {
  kConsistent = 0,
  kInconsistent = 1,
  kNotRecoverable = 2,
};

KernelObjectRecord& RecordAt(void* memory) {
  return *static_cast<KernelObjectRecord*>(memory);
}

std::wstring ObjectName(const KernelObjectRecord& record) {
  return windows::Widen(absl::StrFormat("procspec-sync-%016x-%016x",
                                        record.id_high, record.id_low));
}

void NewIdentity(KernelObjectRecord& record) {
  static std::atomic<std::uint32_t> counter{0};
  static std::mutex random_mu;
  static std::mt19937_64 random{std::random_device{}()};
  record.id_high = (std::uint64_t{GetCurrentProcessId()} << 32) |
                   counter.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(random_mu);
  record.id_low = random();
}

// This process's handles on the kernel objects of each mapping of a region,
// by the mapping's first byte, then by the object's offset in it.
struct View {
  std::size_t size = 0;
  std::map<std::size_t, HANDLE> objects;
};
struct Views {
  std::mutex mu;
  std::map<const char*, View> by_base;
  // Objects at addresses outside any registered mapping (memory a caller
  // shares by other means): kept for the life of the process.
  std::map<const char*, HANDLE> loose;
};

Views& GetViews() {
  static auto* views = new Views;
  return *views;
}

// The table entry for the object at `memory` (the caller holds the lock).
HANDLE* EntryFor(Views& views, const void* memory) {
  const char* address = static_cast<const char*>(memory);
  auto it = views.by_base.upper_bound(address);
  if (it != views.by_base.begin()) {
    --it;
    if (address < it->first + it->second.size)
      return &it->second.objects[static_cast<std::size_t>(address - it->first)];
  }
  return &views.loose[address];
}

// Makes (or, if its name exists already, opens) the object `record` names.
HANDLE CreateNamed(const KernelObjectRecord& record) {
  const std::wstring name = ObjectName(record);
  if (record.kind == kMutexKind)
    return CreateMutexW(nullptr, FALSE, name.c_str());
  return CreateSemaphoreW(nullptr, static_cast<LONG>(record.initial_value),
                          SharedSemaphore::MaxValue(), name.c_str());
}

// Records the object `handle` at `memory` (replacing one an earlier Init
// there left).
void Register(const void* memory, HANDLE handle) {
  Views& views = GetViews();
  std::lock_guard<std::mutex> lock(views.mu);
  HANDLE* entry = EntryFor(views, memory);
  if (*entry != nullptr) CloseHandle(*entry);
  *entry = handle;
}

// The handle of the object at `memory` in this process: from the table, else
// opened by its name (made afresh if every holder has gone: see above).
// nullptr if Windows refuses.
HANDLE ObjectAt(void* memory) {
  Views& views = GetViews();
  std::lock_guard<std::mutex> lock(views.mu);
  HANDLE* entry = EntryFor(views, memory);
  if (*entry == nullptr) *entry = CreateNamed(RecordAt(memory));
  return *entry;
}

absl::Status MakeObject(void* memory, std::uint32_t kind,
                        std::uint32_t initial_value) {
  std::memset(memory, 0, sizeof(KernelObjectRecord));
  KernelObjectRecord& record = RecordAt(memory);
  NewIdentity(record);
  record.initial_value = initial_value;
  record.kind = kind;
  // Named so that a process that did not receive its handle can open it;
  // a name that exists already is someone else's object: fail rather than
  // share it.
  HANDLE handle = CreateNamed(record);
  if (handle == nullptr)
    return windows::LastWinError(kind == kMutexKind ? "CreateMutex"
                                                    : "CreateSemaphore");
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(handle);
    return windows::WinError(ERROR_ALREADY_EXISTS, "CreateSemaphore");
  }
  Register(memory, handle);
  return absl::OkStatus();
}

// Waits for `object` until `deadline`: WAIT_OBJECT_0, WAIT_ABANDONED,
// WAIT_TIMEOUT (only once the deadline has passed: a Win32 timeout may end a
// little early, and the wait resumes for what is left) or WAIT_FAILED.
DWORD WaitUntil(HANDLE object, absl::Time deadline) {
  for (;;) {
    const DWORD result =
        WaitForSingleObject(object, windows::WaitMillis(deadline));
    if (result != WAIT_TIMEOUT || deadline == absl::InfinitePast() ||
        absl::Now() >= deadline) {
      return result;
    }
  }
}

std::uint32_t ThisProcess() { return GetCurrentProcessId(); }
std::uint32_t ThisThread() { return GetCurrentThreadId(); }

bool OwnedByThisThread(const KernelObjectRecord& record) {
  return record.owner_process.load(std::memory_order_relaxed) ==
             ThisProcess() &&
         record.owner_thread.load(std::memory_order_relaxed) == ThisThread();
}

}  // namespace

// ---- SharedRegion

SharedRegion::SharedRegion(UniqueHandle handle, void* data, std::size_t size)
    : handle_(std::move(handle)), data_(data), size_(size) {
  Views& views = GetViews();
  std::lock_guard<std::mutex> lock(views.mu);
  views.by_base[static_cast<const char*>(data_)].size = size_;
}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : handle_(std::move(other.handle_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    Reset();
    handle_ = std::move(other.handle_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() { Reset(); }

void SharedRegion::Reset() {
  if (data_ != nullptr) {
    Views& views = GetViews();
    {
      std::lock_guard<std::mutex> lock(views.mu);
      auto it = views.by_base.find(static_cast<const char*>(data_));
      if (it != views.by_base.end()) {
        for (const auto& [offset, object] : it->second.objects) {
          if (object != nullptr) CloseHandle(object);
        }
        views.by_base.erase(it);
      }
    }
    UnmapViewOfFile(data_);
  }
  data_ = nullptr;
  size_ = 0;
  handle_.reset();
}

bool SharedRegion::ObjectsHaveHandles() { return true; }

std::vector<std::pair<std::size_t, NativeHandle>> SharedRegion::object_handles()
    const {
  std::vector<std::pair<std::size_t, NativeHandle>> handles;
  if (data_ == nullptr) return handles;
  Views& views = GetViews();
  std::lock_guard<std::mutex> lock(views.mu);
  auto it = views.by_base.find(static_cast<const char*>(data_));
  if (it == views.by_base.end()) return handles;
  for (const auto& [offset, object] : it->second.objects) {
    if (object != nullptr)
      handles.emplace_back(offset, windows::FromHandle(object));
  }
  return handles;
}

absl::Status SharedRegion::AdoptObjectHandle(std::size_t offset,
                                             NativeHandle handle) {
  if (data_ == nullptr || offset > size_ ||
      size_ - offset < SharedSemaphore::kSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("a synchronization object at offset ", offset,
                     " lies outside its region of ", size_, " bytes"));
  }
  HANDLE copy = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), windows::ToHandle(handle),
                       GetCurrentProcess(), &copy, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    return windows::LastWinError("DuplicateHandle");
  }
  Views& views = GetViews();
  std::lock_guard<std::mutex> lock(views.mu);
  HANDLE& entry =
      views.by_base[static_cast<const char*>(data_)].objects[offset];
  // One handle per object and mapping: a second copy of the same object
  // (passed again with another argument) is not needed.
  if (entry != nullptr) {
    CloseHandle(copy);
  } else {
    entry = copy;
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueHandle> windows::WindowsBackend::CreateSharedMemory(
    std::size_t size) {
  if (size == 0)
    return absl::InvalidArgumentError("a shared region needs at least 1 byte");
  // Anonymous and backed by the paging file; not inheritable: it reaches a
  // child only through a handle list.
  HANDLE mapping =
      CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
                         static_cast<DWORD>(std::uint64_t{size} >> 32),
                         static_cast<DWORD>(size & 0xffffffffu), nullptr);
  if (mapping == nullptr) return windows::LastWinError("CreateFileMapping");
  return UniqueHandle(windows::FromHandle(mapping));
}

absl::StatusOr<SharedRegion> SharedRegion::Adopt(UniqueHandle handle) {
  void* data = MapViewOfFile(windows::ToHandle(handle.get()),
                             FILE_MAP_ALL_ACCESS, 0, 0, 0);
  if (data == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a shared memory handle: ",
                     windows::LastWinError("MapViewOfFile").message()));
  }
  MEMORY_BASIC_INFORMATION info{};
  if (VirtualQuery(data, &info, sizeof(info)) == 0) {
    const absl::Status error = windows::LastWinError("VirtualQuery");
    UnmapViewOfFile(data);
    return error;
  }
  return SharedRegion(std::move(handle), data, info.RegionSize);
}

absl::StatusOr<SharedRegion> MapSharedRegion(NativeHandle handle) {
  HANDLE copy = nullptr;
  if (handle == kInvalidHandle || handle == 0 ||
      !DuplicateHandle(GetCurrentProcess(), windows::ToHandle(handle),
                       GetCurrentProcess(), &copy, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a shared memory handle: ",
        handle == kInvalidHandle || handle == 0
            ? std::string("invalid handle")
            : std::string(windows::LastWinError("DuplicateHandle").message())));
  }
  return SharedRegion::Adopt(UniqueHandle(windows::FromHandle(copy)));
}

// ---- SharedSemaphore: a kernel semaphore

int SharedSemaphore::MaxValue() { return 0x7fffffff; }

absl::StatusOr<SharedSemaphore> SharedSemaphore::Init(void* memory,
                                                      unsigned value) {
  if (value > static_cast<unsigned>(MaxValue()))
    return absl::InvalidArgumentError("[Errno 22] Invalid argument");
  if (absl::Status made = MakeObject(memory, kSemaphoreKind, value);
      !made.ok()) {
    return made;
  }
  return At(memory);
}

bool SharedSemaphore::WaitSlow(absl::Time deadline) const {
  HANDLE semaphore = ObjectAt(sem_);
  if (semaphore == nullptr) return false;
  return WaitUntil(semaphore, deadline) == WAIT_OBJECT_0;
}

// Never called: the word kind does not exist on Windows.
void SharedSemaphore::WakeOneWaiter() const {}

absl::Status SharedSemaphore::PostSlow() const {
  HANDLE semaphore = ObjectAt(sem_);
  if (semaphore == nullptr) return windows::LastWinError("OpenSemaphore");
  if (!ReleaseSemaphore(semaphore, 1, nullptr)) {
    const DWORD error = GetLastError();
    if (error == ERROR_TOO_MANY_POSTS)
      return absl::OutOfRangeError(
          "[Errno 75] Value too large for defined data type");
    return windows::WinError(error, "ReleaseSemaphore");
  }
  return absl::OkStatus();
}

// A kernel semaphore's limit is fixed when it is made (MaxValue()): a lower
// `maxvalue` is checked by the previous count ReleaseSemaphore reports, and a
// post that went past it is taken back at once. As racy as the POSIX check
// (a waiter may take the extra post in between); it catches the bug of
// releasing too many times, as CPython's check does.
absl::StatusOr<bool> SharedSemaphore::PostBelowSemaphore(int maxvalue) const {
  HANDLE semaphore = ObjectAt(sem_);
  if (semaphore == nullptr) return windows::LastWinError("OpenSemaphore");
  LONG previous = 0;
  if (!ReleaseSemaphore(semaphore, 1, &previous)) {
    const DWORD error = GetLastError();
    if (error == ERROR_TOO_MANY_POSTS) return false;
    return windows::WinError(error, "ReleaseSemaphore");
  }
  if (previous < maxvalue) return true;
  (void)WaitForSingleObject(semaphore, 0);
  return false;
}

// As CPython's _GetSemaphoreValue on Windows: take one if there is one and
// give it back, reporting the count before.
int SharedSemaphore::Value() const {
  HANDLE semaphore = ObjectAt(sem_);
  if (semaphore == nullptr) return 0;
  if (WaitForSingleObject(semaphore, 0) != WAIT_OBJECT_0) return 0;
  LONG previous = 0;
  if (!ReleaseSemaphore(semaphore, 1, &previous)) return 0;
  return static_cast<int>(previous) + 1;
}

// ---- RobustMutex: a kernel mutex

absl::StatusOr<RobustMutex> RobustMutex::Init(void* memory) {
  if (absl::Status made = MakeObject(memory, kMutexKind, 0); !made.ok())
    return made;
  return RobustMutex(memory);
}

absl::StatusOr<RobustMutex::LockResult> RobustMutex::Lock(
    absl::Time deadline) const {
  KernelObjectRecord& record = RecordAt(mutex_);
  HANDLE mutex = ObjectAt(mutex_);
  if (mutex == nullptr) return windows::LastWinError("OpenMutex");
  const DWORD result = WaitUntil(mutex, deadline);
  switch (result) {
    case WAIT_TIMEOUT:
      return LockResult::kTimedOut;
    case WAIT_OBJECT_0:
    case WAIT_ABANDONED:
      break;
    default:
      return windows::LastWinError("WaitForSingleObject");
  }
  // A Windows mutex is recursive: its owner's wait succeeds at once. The
  // contract's mutex is not (ERRORCHECK): undo the recursion and refuse.
  if (result == WAIT_OBJECT_0 && OwnedByThisThread(record)) {
    ReleaseMutex(mutex);
    return absl::FailedPreconditionError(
        "[Errno 35] Resource deadlock avoided: WaitForSingleObject");
  }
  if (record.state.load(std::memory_order_relaxed) == kNotRecoverable) {
    ReleaseMutex(mutex);
    return LockResult::kNotRecoverable;
  }
  record.owner_process.store(ThisProcess(), std::memory_order_relaxed);
  record.owner_thread.store(ThisThread(), std::memory_order_relaxed);
  if (result == WAIT_ABANDONED) {
    // Its owner ended holding it: the state it guards needs repair.
    record.state.store(kInconsistent, std::memory_order_relaxed);
    return LockResult::kOwnerDied;
  }
  return LockResult::kLocked;
}

absl::Status RobustMutex::MakeConsistent() const {
  KernelObjectRecord& record = RecordAt(mutex_);
  if (!OwnedByThisThread(record) ||
      record.state.load(std::memory_order_relaxed) != kInconsistent) {
    return absl::InvalidArgumentError(
        "[Errno 22] Invalid argument: MakeConsistent");
  }
  record.state.store(kConsistent, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status RobustMutex::Unlock() const {
  KernelObjectRecord& record = RecordAt(mutex_);
  if (!OwnedByThisThread(record)) {
    return absl::PermissionDeniedError(
        "[Errno 1] Operation not permitted: ReleaseMutex");
  }
  HANDLE mutex = ObjectAt(mutex_);
  if (mutex == nullptr) return windows::LastWinError("OpenMutex");
  // Unlocked without repair after its owner died: unusable for ever, as a
  // POSIX robust mutex becomes.
  if (record.state.load(std::memory_order_relaxed) == kInconsistent)
    record.state.store(kNotRecoverable, std::memory_order_relaxed);
  record.owner_thread.store(0, std::memory_order_relaxed);
  record.owner_process.store(0, std::memory_order_relaxed);
  if (!ReleaseMutex(mutex)) {
    const DWORD error = GetLastError();
    record.owner_process.store(ThisProcess(), std::memory_order_relaxed);
    record.owner_thread.store(ThisThread(), std::memory_order_relaxed);
    return windows::WinError(error, "ReleaseMutex");
  }
  return absl::OkStatus();
}

// The POSIX code's entry points into a backend, which the Windows objects
// above do not use.
bool windows::WindowsBackend::WaitSemaphoreUntil(void* semaphore,
                                                 absl::Time deadline) {
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
