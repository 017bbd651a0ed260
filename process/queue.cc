#include "process/queue.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/shared_memory.h"
#include "platform/stream.h"
#include "process/errors.h"
#include "process/frame.h"
#include "process/inherited_handle.h"
#include "process/internal/deadline.h"
#include "process/internal/queue_exit.h"
#include "process/internal/semlock.h"

namespace procspec {
namespace queue_internal {
namespace {

using platform::RobustMutex;
using platform::SharedSemaphore;

// The shared region: the header, then the readers' read-ahead buffer.
struct Header {
  alignas(64) unsigned char writer_mutex[RobustMutex::kSize];
  alignas(64) unsigned char reader_mutex[RobustMutex::kSize];
  alignas(64) unsigned char slots[SharedSemaphore::kSize];
  // The unread bytes of the buffer are [start, end); changed only under the
  // reader mutex (atomics so that empty() may look without it).
  alignas(64) std::atomic<std::uint32_t> start;
  std::atomic<std::uint32_t> end;
  std::uint32_t capacity;
  std::int32_t maxsize;
  // JoinableQueue (CPython's _cond and _unfinished_tasks): the task mutex
  // guards `join_waiters`, the processes blocked in join(), each of which
  // task_wake wakes once when the count of unfinished tasks reaches 0.
  alignas(64) unsigned char task_mutex[RobustMutex::kSize];
  alignas(64) unsigned char unfinished[SharedSemaphore::kSize];
  alignas(64) unsigned char task_wake[SharedSemaphore::kSize];
  alignas(64) std::int32_t join_waiters;
};
constexpr std::size_t kDataOffset = 1024;
static_assert(sizeof(Header) <= kDataOffset);
constexpr std::size_t kBufferSize = 64 * 1024;
// After its deadline, a get() that is in the middle of an item larger than one
// record checks that the item's writer lives, then waits this much more.
constexpr absl::Duration kLiveWriterSlice = absl::Milliseconds(100);

absl::Status HandleIsClosed() { return OSError("handle is closed"); }

absl::Status ErrnoStatus(int error) {
  if (error == platform::BrokenPipeErrno())
    return BrokenPipeError(platform::ErrnoText(error));
  return OSError(platform::ErrnoText(error));
}

// A robust mutex left unusable (its owner died and it was unlocked without
// being made consistent; this library always makes it consistent).
absl::Status NotRecoverable(absl::string_view which) {
  return OSError(absl::StrCat("the queue's ", which,
                              " lock is unusable: state not recoverable"));
}

absl::Status TornItem() {
  return OSError("a producer died while writing an item; it is lost");
}

}  // namespace

// What a queue's handles in one process share, and what its feeder thread
// holds on to while it writes.
struct Resources {
  platform::SharedRegion region;
  platform::UniqueHandle reader;
  platform::UniqueHandle writer;
  Header* header = nullptr;
  char* data = nullptr;

  RobustMutex WriterMutex() const {
    return RobustMutex::At(header->writer_mutex);
  }
  RobustMutex ReaderMutex() const {
    return RobustMutex::At(header->reader_mutex);
  }
  SharedSemaphore Slots() const { return SharedSemaphore::At(header->slots); }
  RobustMutex TaskMutex() const { return RobustMutex::At(header->task_mutex); }
  SharedSemaphore Unfinished() const {
    return SharedSemaphore::At(header->unfinished);
  }
  SharedSemaphore TaskWake() const {
    return SharedSemaphore::At(header->task_wake);
  }
};

// One process's feeder for one queue (CPython's _buffer, _notempty, _thread).
struct Feeder {
  std::mutex mu;
  std::condition_variable cv;       // the feeder waits for items or closing
  std::condition_variable done_cv;  // join_thread waits for `done`
  std::string pending;              // records not yet written
  bool waiting = false;
  bool closing = false;
  bool started = false;
  bool done = false;
  bool cancelled = false;
  // Joined by whoever takes it under `mu`: the last handle (~Core, which
  // detaches one still writing), join_thread() or the exit handling.
  std::thread thread;
};

namespace {

// Writes whole records, at most one pipe-atomic packet per write, holding the
// writer mutex (a dead holder's mutex is recovered: records never tear, and a
// torn multi-record item is detected by its reader).
absl::Status WriteRecords(const Resources& resources,
                          std::string_view records) {
  const RobustMutex mutex = resources.WriterMutex();
  absl::StatusOr<RobustMutex::LockResult> locked =
      mutex.Lock(absl::InfiniteFuture());
  if (!locked.ok()) return OSError(locked.status().message());
  if (*locked == RobustMutex::LockResult::kNotRecoverable)
    return NotRecoverable("writer");
  if (*locked == RobustMutex::LockResult::kOwnerDied)
    (void)mutex.MakeConsistent();
  const std::size_t packet = platform::AtomicPipeWriteSize();
  absl::Status status;
  while (!records.empty()) {
    const std::size_t length = frame::NextPacket(records, packet);
    if (length == 0) break;
    const platform::IoResult result =
        platform::WriteFully(resources.writer.get(), records.substr(0, length));
    if (result.error != 0) {
      status = ErrnoStatus(result.error);
      break;
    }
    records.remove_prefix(length);
  }
  (void)mutex.Unlock();
  return status;
}

void FeederMain(std::shared_ptr<Feeder> feeder,
                std::shared_ptr<Resources> resources) {
  std::string batch;
  std::unique_lock<std::mutex> lock(feeder->mu);
  while (true) {
    while (feeder->pending.empty() && !feeder->closing) {
      feeder->waiting = true;
      feeder->cv.wait(lock);
      feeder->waiting = false;
    }
    if (feeder->pending.empty()) break;
    batch.swap(feeder->pending);
    lock.unlock();
    absl::Status status = WriteRecords(*resources, batch);
    // As CPython's feeder: an error is reported and the feeder goes on; a
    // broken pipe (every reader gone) is not worth a message.
    if (!status.ok() && PythonExceptionType(status) != "BrokenPipeError")
      std::cerr << "procspec: Queue feeder: " << status.message() << std::endl;
    batch.clear();
    if (batch.capacity() > (1u << 20)) batch = std::string();
    lock.lock();
  }
  feeder->done = true;
  feeder->done_cv.notify_all();
}

// Every feeder this process started, for the exit handling.
struct FeederRegistry {
  std::mutex mu;
  platform::Pid pid = 0;
  std::vector<std::weak_ptr<Feeder>> feeders;
};

FeederRegistry& Registry() {
  static auto* registry = new FeederRegistry;
  return *registry;
}

void FlushAtExit() { internal::JoinQueueFeedersAtExit(); }

void RegisterFeeder(const std::shared_ptr<Feeder>& feeder) {
  FeederRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mu);
  const platform::Pid pid = platform::CurrentPid();
  if (registry.pid != pid) {
    // A forked child: its parent's feeders are not its own.
    registry.pid = pid;
    registry.feeders.clear();
    static bool registered = [] {
      std::atexit(&FlushAtExit);
      return true;
    }();
    (void)registered;
  }
  registry.feeders.erase(
      std::remove_if(
          registry.feeders.begin(), registry.feeders.end(),
          [](const std::weak_ptr<Feeder>& f) { return f.expired(); }),
      registry.feeders.end());
  registry.feeders.push_back(feeder);
}

// Waits until the feeder has written everything and ended, and joins its
// thread unless another caller (~Core, or a concurrent join) took it first.
// Whoever moves the thread out of `feeder.thread` (under `feeder.mu`) joins or
// detaches it, so no thread is left finished but unjoined at exit.
void JoinFeeder(Feeder& feeder) {
  std::thread thread;
  {
    std::unique_lock<std::mutex> lock(feeder.mu);
    feeder.closing = true;
    if (feeder.waiting) feeder.cv.notify_one();
    if (!feeder.started) return;
    feeder.done_cv.wait(lock, [&feeder] { return feeder.done; });
    thread = std::move(feeder.thread);
  }
  if (thread.joinable()) thread.join();
}

}  // namespace

class Core {
 public:
  explicit Core(std::shared_ptr<Resources> resources)
      : resources_(std::move(resources)) {}
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  ~Core() {
    if (feeder_ == nullptr) return;
    if (feeder_pid_ != platform::CurrentPid()) {
      // Forked from the process that owns it: its thread is not here, and
      // its mutex may have been held at the fork. Leave it alone.
      new std::shared_ptr<Feeder>(std::move(feeder_));
      return;
    }
    // As CPython's finalizer: the feeder writes what is pending, then ends.
    // One with nothing pending (at most a batch being written) is waited for
    // and joined, so that the descriptors are closed when the last handle
    // goes; one with more to write finishes on its own (the exit handling
    // waits for it).
    std::thread thread;
    bool wait;
    {
      std::unique_lock<std::mutex> lock(feeder_->mu);
      feeder_->closing = true;
      if (feeder_->waiting) feeder_->cv.notify_one();
      wait = feeder_->started && feeder_->pending.empty();
      if (wait) feeder_->done_cv.wait(lock, [this] { return feeder_->done; });
      // Taken under the lock: the exit handling may be joining it too.
      thread = std::move(feeder_->thread);
    }
    if (thread.joinable()) {
      if (wait) {
        thread.join();
      } else {
        thread.detach();
      }
    }
  }

  Resources& resources() { return *resources_; }
  const std::shared_ptr<Resources>& shared_resources() const {
    return resources_;
  }
  bool closed() const { return closed_; }
  std::string Name() const {
    return absl::StrFormat("<procspec.Queue object at %p>", this);
  }

  // This process's feeder (a new one in a forked child).
  Feeder& LocalFeeder() {
    const platform::Pid pid = platform::CurrentPid();
    if (feeder_ != nullptr && feeder_pid_ == pid) return *feeder_;
    // Inherited through fork(): its thread is not here; leave it (see ~Core).
    if (feeder_ != nullptr) new std::shared_ptr<Feeder>(std::move(feeder_));
    feeder_ = std::make_shared<Feeder>();
    feeder_pid_ = pid;
    return *feeder_;
  }

  // Starts the feeder thread, with `feeder.mu` held, on the first put. When
  // the thread cannot be created (no memory for its stack, RLIMIT_NPROC),
  // RuntimeError "can't start new thread", CPython's text, and the feeder
  // stays unstarted, so that the next put() tries again.
  absl::Status StartFeederLocked(Feeder& feeder) {
    if (feeder.started) return absl::OkStatus();
    try {
      feeder.thread = std::thread(FeederMain, feeder_, resources_);
    } catch (const std::system_error&) {
      return RuntimeError("can't start new thread");
    }
    feeder.started = true;
    RegisterFeeder(feeder_);
    return absl::OkStatus();
  }

  Feeder* OwnFeeder() {
    if (feeder_ == nullptr || feeder_pid_ != platform::CurrentPid())
      return nullptr;
    return feeder_.get();
  }

  void Close() {
    closed_ = true;
    resources_->reader.reset();
    if (Feeder* feeder = OwnFeeder()) {
      std::lock_guard<std::mutex> lock(feeder->mu);
      feeder->closing = true;
      if (feeder->waiting) feeder->cv.notify_one();
    }
  }

  void CloseBoth() {
    closed_ = true;
    resources_->reader.reset();
    resources_->writer.reset();
  }

  // Reads one item under the reader mutex (held by the caller) and hands its
  // body to `consume`. `counted` is set when an item left the queue (consumed
  // or found torn), so that its slot is released.
  absl::Status ReadItem(absl::Time deadline,
                        absl::FunctionRef<void(std::string_view)> consume,
                        bool& counted);

 private:
  std::shared_ptr<Resources> resources_;
  std::shared_ptr<Feeder> feeder_;
  platform::Pid feeder_pid_ = 0;
  bool closed_ = false;
};

absl::Status Core::ReadItem(absl::Time deadline,
                            absl::FunctionRef<void(std::string_view)> consume,
                            bool& counted) {
  Resources& r = *resources_;
  Header& h = *r.header;
  char* const data = r.data;
  const std::uint32_t capacity = h.capacity;
  std::string assembled;
  bool assembling = false;
  absl::Time wait_until = deadline;
  while (true) {
    std::uint32_t start = h.start.load(std::memory_order_relaxed);
    std::uint32_t end = h.end.load(std::memory_order_relaxed);
    const frame::DecodedRecord record =
        frame::DecodeRecord(std::string_view(data + start, end - start));
    if (record.complete) {
      const std::string_view body(data + start + frame::kRecordHeaderSize,
                                  record.body_size);
      const bool starts_item = record.kind == frame::RecordKind::kWhole ||
                               record.kind == frame::RecordKind::kFirst;
      if (starts_item && assembling) {
        // The writer of the item being assembled died; this record is the
        // next writer's, left for the next get().
        counted = true;
        return TornItem();
      }
      auto advance = [&] {
        start += static_cast<std::uint32_t>(record.size);
        if (start == end) start = end = 0;
        h.start.store(start, std::memory_order_relaxed);
        h.end.store(end, std::memory_order_relaxed);
      };
      switch (record.kind) {
        case frame::RecordKind::kWhole:
          consume(body);
          advance();
          counted = true;
          return absl::OkStatus();
        case frame::RecordKind::kFirst:
          assembling = true;
          assembled.assign(body);
          advance();
          continue;
        case frame::RecordKind::kMiddle:
        case frame::RecordKind::kLast:
          if (!assembling) {
            // The rest of an item whose reader died while reading it.
            advance();
            continue;
          }
          assembled.append(body);
          advance();
          if (record.kind == frame::RecordKind::kLast) {
            consume(assembled);
            counted = true;
            return absl::OkStatus();
          }
          continue;
      }
    }
    // More bytes are needed: make room at the end of the buffer.
    if (start > 0 && (end == capacity || capacity - start < record.size)) {
      std::memmove(data, data + start, end - start);
      end -= start;
      start = 0;
      h.start.store(0, std::memory_order_relaxed);
      h.end.store(end, std::memory_order_relaxed);
    }
    // Nothing buffered: wait for the pipe (a get() without a timeout goes
    // straight to the blocking read, one system call).
    if (start == end && (assembling || wait_until != absl::InfiniteFuture())) {
      // Nothing buffered. (The rest of a partly buffered record is in the
      // pipe already: records are written atomically.)
      const platform::NativeHandle handles[] = {r.reader.get()};
      auto readable = [&handles](absl::Time until) -> absl::StatusOr<bool> {
        absl::StatusOr<std::vector<std::size_t>> ready =
            platform::WaitReadable(handles, until);
        if (!ready.ok()) return OSError(ready.status().message());
        return !ready->empty();
      };
      absl::StatusOr<bool> ready = readable(absl::InfinitePast());
      if (!ready.ok()) return ready.status();
      if (!*ready && assembling) {
        // In the middle of an item: is its writer still writing it?
        const RobustMutex writer = r.WriterMutex();
        absl::StatusOr<RobustMutex::LockResult> probe =
            writer.Lock(absl::InfinitePast());
        if (!probe.ok()) return OSError(probe.status().message());
        if (*probe == RobustMutex::LockResult::kTimedOut) {
          // It is (it holds the writer mutex): wait for it, checking again
          // after the deadline.
          ready = readable(wait_until);
          if (!ready.ok()) return ready.status();
          if (!*ready) {
            wait_until = absl::Now() + kLiveWriterSlice;
            continue;
          }
        } else {
          if (*probe == RobustMutex::LockResult::kNotRecoverable)
            return NotRecoverable("writer");
          if (*probe == RobustMutex::LockResult::kOwnerDied)
            (void)writer.MakeConsistent();
          (void)writer.Unlock();
          ready = readable(absl::InfinitePast());  // It may have just ended.
          if (!ready.ok()) return ready.status();
          if (!*ready) {
            counted = true;
            return TornItem();
          }
        }
      } else if (!*ready) {
        ready = readable(wait_until);
        if (!ready.ok()) return ready.status();
        if (!*ready) return QueueEmpty();
      }
    }
    const platform::IoResult got =
        platform::ReadInto(r.reader.get(), data + end, capacity - end);
    if (got.error != 0) return ErrnoStatus(got.error);
    if (got.bytes == 0) {
      if (assembling || end > start) {
        counted = true;
        return TornItem();
      }
      return EOFError();
    }
    h.end.store(end + static_cast<std::uint32_t>(got.bytes),
                std::memory_order_relaxed);
  }
}

namespace {

absl::StatusOr<std::shared_ptr<Core>> MakeCore(int maxsize) {
  platform::IgnoreBrokenPipeSignal();
  auto resources = std::make_shared<Resources>();
  absl::StatusOr<platform::SharedRegion> region =
      platform::CreateSharedRegion(kDataOffset + kBufferSize);
  if (!region.ok()) return OSError(region.status().message());
  resources->region = *std::move(region);
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  if (!pipe.ok()) return OSError(pipe.status().message());
  resources->reader = std::move(pipe->read);
  resources->writer = std::move(pipe->write);
  auto* base = static_cast<char*>(resources->region.data());
  Header* header = new (base) Header();
  header->capacity = kBufferSize;
  header->maxsize = maxsize;
  resources->header = header;
  resources->data = base + kDataOffset;
  for (void* memory : {static_cast<void*>(header->writer_mutex),
                       static_cast<void*>(header->reader_mutex)}) {
    absl::StatusOr<RobustMutex> mutex = RobustMutex::Init(memory);
    if (!mutex.ok()) return OSError(mutex.status().message());
  }
  absl::StatusOr<SharedSemaphore> slots =
      SharedSemaphore::Init(header->slots, static_cast<unsigned>(maxsize));
  if (!slots.ok()) return OSError(slots.status().message());
  if (absl::StatusOr<RobustMutex> mutex = RobustMutex::Init(header->task_mutex);
      !mutex.ok())
    return OSError(mutex.status().message());
  for (void* memory : {static_cast<void*>(header->unfinished),
                       static_cast<void*>(header->task_wake)}) {
    absl::StatusOr<SharedSemaphore> sem = SharedSemaphore::Init(memory, 0);
    if (!sem.ok()) return OSError(sem.status().message());
  }
  return std::make_shared<Core>(std::move(resources));
}

// Queues adopted in this process (a spawn or forkserver child), by the
// received region descriptor, so that two arguments naming one queue share it.
struct Adopted {
  std::mutex mu;
  std::map<platform::NativeHandle, std::weak_ptr<Core>> cores;
};

Adopted& GetAdopted() {
  static auto* adopted = new Adopted;
  return *adopted;
}

// Takes the reader mutex until `deadline`; false if it did not come.
absl::StatusOr<bool> LockReader(const Resources& resources,
                                absl::Time deadline) {
  const RobustMutex mutex = resources.ReaderMutex();
  absl::StatusOr<RobustMutex::LockResult> locked = mutex.Lock(deadline);
  if (!locked.ok()) return OSError(locked.status().message());
  switch (*locked) {
    case RobustMutex::LockResult::kTimedOut:
      return false;
    case RobustMutex::LockResult::kOwnerDied:
      // A reader died holding it; the buffer's bounds are stored only after
      // the bytes they describe, so it is consistent.
      (void)mutex.MakeConsistent();
      return true;
    case RobustMutex::LockResult::kLocked:
      return true;
    case RobustMutex::LockResult::kNotRecoverable:
      return NotRecoverable("reader");
  }
  return true;
}

absl::StatusOr<bool> IsEmpty(const Resources& resources) {
  const Header& h = *resources.header;
  if (h.start.load(std::memory_order_relaxed) !=
      h.end.load(std::memory_order_relaxed))
    return false;
  const platform::NativeHandle handles[] = {resources.reader.get()};
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(handles, absl::InfinitePast());
  if (!ready.ok()) return OSError(ready.status().message());
  return ready->empty();
}

}  // namespace

Wire Save(const std::shared_ptr<Core>& core) {
  Wire wire;
  if (core == nullptr) return wire;
  Resources& r = core->resources();
  wire.region = spawn_internal::PassHandle(r.region.handle());
  wire.reader = spawn_internal::PassHandle(r.reader.get());
  wire.writer = spawn_internal::PassHandle(r.writer.get());
  wire.objects = sync_internal::SendObjectHandles(r.region);
  return wire;
}

std::shared_ptr<Core> Load(const Wire& wire) {
  const platform::NativeHandle region =
      spawn_internal::ReceivedHandle(wire.region);
  if (region == platform::kInvalidHandle) return nullptr;
  Adopted& adopted = GetAdopted();
  std::lock_guard<std::mutex> lock(adopted.mu);
  std::weak_ptr<Core>& entry = adopted.cores[region];
  if (std::shared_ptr<Core> core = entry.lock()) {
    sync_internal::ReceiveObjectHandles(core->resources().region, wire.objects);
    return core;
  }
  absl::StatusOr<platform::SharedRegion> mapped =
      platform::MapSharedRegion(region);
  if (!mapped.ok()) {
    throw std::runtime_error(absl::StrCat("cannot map a Queue's memory: ",
                                          mapped.status().message()));
  }
  auto resources = std::make_shared<Resources>();
  resources->region = *std::move(mapped);
  auto* base = static_cast<char*>(resources->region.data());
  resources->header = reinterpret_cast<Header*>(base);
  resources->data = base + kDataOffset;
  resources->reader.reset(spawn_internal::ReceivedHandle(wire.reader));
  resources->writer.reset(spawn_internal::ReceivedHandle(wire.writer));
  sync_internal::ReceiveObjectHandles(resources->region, wire.objects);
  auto core = std::make_shared<Core>(std::move(resources));
  entry = core;
  return core;
}

absl::StatusOr<absl::Time> Deadline(bool block, std::optional<double> timeout) {
  if (!block) return absl::InfinitePast();
  return internal::TimeoutDeadline(timeout);
}

}  // namespace queue_internal

namespace internal {

void JoinQueueFeedersAtExit() {
  using queue_internal::Feeder;
  std::vector<std::shared_ptr<Feeder>> feeders;
  {
    queue_internal::FeederRegistry& registry = queue_internal::Registry();
    std::lock_guard<std::mutex> lock(registry.mu);
    if (registry.pid != platform::CurrentPid()) return;
    for (const std::weak_ptr<Feeder>& weak : registry.feeders) {
      if (std::shared_ptr<Feeder> feeder = weak.lock())
        feeders.push_back(std::move(feeder));
    }
  }
  for (const std::shared_ptr<Feeder>& feeder : feeders) {
    bool cancelled;
    {
      std::lock_guard<std::mutex> lock(feeder->mu);
      cancelled = feeder->cancelled;
    }
    if (!cancelled) queue_internal::JoinFeeder(*feeder);
  }
}

}  // namespace internal

// ---- Queue

absl::StatusOr<Queue> Queue::Create(int maxsize) {
  const int max = platform::SharedSemaphore::MaxValue();
  if (maxsize <= 0 || maxsize > max) maxsize = max;
  absl::StatusOr<std::shared_ptr<queue_internal::Core>> core =
      queue_internal::MakeCore(maxsize);
  if (!core.ok()) return core.status();
  Queue queue;
  queue.core_ = *std::move(core);
  return queue;
}

namespace {

// Holds the task mutex of a JoinableQueue (a dead holder's is recovered: the
// waiter count it guards is updated in single stores).
class TaskLock {
 public:
  explicit TaskLock(const queue_internal::Resources& r)
      : mutex_(r.TaskMutex()) {
    absl::StatusOr<platform::RobustMutex::LockResult> locked =
        mutex_.Lock(absl::InfiniteFuture());
    if (!locked.ok()) return;
    switch (*locked) {
      case platform::RobustMutex::LockResult::kOwnerDied:
        (void)mutex_.MakeConsistent();
        locked_ = true;
        break;
      case platform::RobustMutex::LockResult::kLocked:
        locked_ = true;
        break;
      case platform::RobustMutex::LockResult::kTimedOut:
      case platform::RobustMutex::LockResult::kNotRecoverable:
        break;
    }
  }
  ~TaskLock() {
    if (locked_) (void)mutex_.Unlock();
  }

 private:
  platform::RobustMutex mutex_;
  bool locked_ = false;
};

}  // namespace

absl::Status Queue::PutBody(std::string_view body, absl::Time deadline) {
  if (core_ == nullptr) return queue_internal::HandleIsClosed();
  if (core_->closed())
    return ValueError(absl::StrCat("Queue ", core_->Name(), " is closed"));
  if (!core_->resources().Slots().Wait(deadline)) return QueueFull();
  queue_internal::Feeder& feeder = core_->LocalFeeder();
  std::lock_guard<std::mutex> lock(feeder.mu);
  if (absl::Status started = core_->StartFeederLocked(feeder); !started.ok()) {
    // Not accepted: nothing would ever write it. The slot goes back.
    (void)core_->resources().Slots().Post();
    return started;
  }
  // Only the put that makes `pending` non-empty wakes the feeder: a feeder
  // that is writing looks at `pending` again before it waits, and one that
  // was woken has not taken `pending` yet. A wake-up per item would be a
  // system call per item.
  const bool was_empty = feeder.pending.empty();
  frame::AppendRecords(feeder.pending, body, platform::AtomicPipeWriteSize());
  if (joinable_) {
    TaskLock task_lock(core_->resources());
    (void)core_->resources().Unfinished().Post();
  }
  if (feeder.waiting && was_empty) feeder.cv.notify_one();
  return absl::OkStatus();
}

absl::Status Queue::GetBody(absl::Time deadline,
                            absl::FunctionRef<void(std::string_view)> consume) {
  if (core_ == nullptr) return queue_internal::HandleIsClosed();
  if (core_->closed())
    return ValueError(absl::StrCat("Queue ", core_->Name(), " is closed"));
  queue_internal::Resources& r = core_->resources();
  absl::StatusOr<bool> locked = queue_internal::LockReader(r, deadline);
  if (!locked.ok()) return locked.status();
  if (!*locked) return QueueEmpty();
  bool counted = false;
  absl::Status status = core_->ReadItem(deadline, consume, counted);
  (void)r.ReaderMutex().Unlock();
  if (counted) (void)r.Slots().Post();
  return status;
}

absl::StatusOr<int> Queue::qsize() const {
  if (core_ == nullptr) return queue_internal::HandleIsClosed();
  queue_internal::Resources& r = core_->resources();
  return r.header->maxsize - r.Slots().Value();
}

absl::StatusOr<bool> Queue::empty() const {
  if (core_ == nullptr || core_->closed())
    return queue_internal::HandleIsClosed();
  return queue_internal::IsEmpty(core_->resources());
}

absl::StatusOr<platform::NativeHandle> Queue::reader_handle() const {
  if (core_ == nullptr || core_->closed())
    return queue_internal::HandleIsClosed();
  return core_->resources().reader.get();
}

bool Queue::full() const {
  return core_ != nullptr && core_->resources().Slots().Value() == 0;
}

void Queue::close() {
  if (core_ != nullptr) core_->Close();
}

absl::Status Queue::join_thread() {
  if (core_ == nullptr || !core_->closed()) {
    return AssertionError(absl::StrCat(
        "Queue ", core_ == nullptr ? "<empty>" : core_->Name(), " not closed"));
  }
  if (queue_internal::Feeder* feeder = core_->OwnFeeder())
    queue_internal::JoinFeeder(*feeder);
  return absl::OkStatus();
}

void Queue::cancel_join_thread() {
  if (core_ == nullptr) return;
  queue_internal::Feeder& feeder = core_->LocalFeeder();
  std::lock_guard<std::mutex> lock(feeder.mu);
  feeder.cancelled = true;
}

// ---- JoinableQueue

absl::StatusOr<JoinableQueue> JoinableQueue::Create(int maxsize) {
  absl::StatusOr<Queue> queue = Queue::Create(maxsize);
  if (!queue.ok()) return queue.status();
  JoinableQueue joinable;
  static_cast<Queue&>(joinable) = *std::move(queue);
  joinable.joinable_ = true;  // The assignment copied the base's false.
  return joinable;
}

absl::Status JoinableQueue::task_done() {
  if (core_ == nullptr) return queue_internal::HandleIsClosed();
  queue_internal::Resources& r = core_->resources();
  TaskLock lock(r);
  if (!r.Unfinished().Wait(absl::InfinitePast()))
    return ValueError("task_done() called too many times");
  if (r.Unfinished().Value() == 0) {
    for (std::int32_t i = 0; i < r.header->join_waiters; ++i)
      (void)r.TaskWake().Post();
    r.header->join_waiters = 0;
  }
  return absl::OkStatus();
}

absl::Status JoinableQueue::join() {
  if (core_ == nullptr) return queue_internal::HandleIsClosed();
  queue_internal::Resources& r = core_->resources();
  {
    TaskLock lock(r);
    if (r.Unfinished().Value() == 0) return absl::OkStatus();
    ++r.header->join_waiters;
  }
  (void)r.TaskWake().Wait(absl::InfiniteFuture());
  return absl::OkStatus();
}

// ---- SimpleQueue

absl::StatusOr<SimpleQueue> SimpleQueue::Create() {
  absl::StatusOr<std::shared_ptr<queue_internal::Core>> core =
      queue_internal::MakeCore(platform::SharedSemaphore::MaxValue());
  if (!core.ok()) return core.status();
  SimpleQueue queue;
  queue.core_ = *std::move(core);
  return queue;
}

absl::Status SimpleQueue::PutBody(std::string_view body) {
  if (core_ == nullptr || core_->closed())
    return queue_internal::HandleIsClosed();
  thread_local std::string records;
  records.clear();
  frame::AppendRecords(records, body, platform::AtomicPipeWriteSize());
  return queue_internal::WriteRecords(core_->resources(), records);
}

absl::Status SimpleQueue::GetBody(
    absl::FunctionRef<void(std::string_view)> consume) {
  if (core_ == nullptr || core_->closed())
    return queue_internal::HandleIsClosed();
  queue_internal::Resources& r = core_->resources();
  absl::StatusOr<bool> locked =
      queue_internal::LockReader(r, absl::InfiniteFuture());
  if (!locked.ok()) return locked.status();
  bool counted = false;
  absl::Status status =
      core_->ReadItem(absl::InfiniteFuture(), consume, counted);
  (void)r.ReaderMutex().Unlock();
  return status;
}

absl::StatusOr<bool> SimpleQueue::empty() const {
  if (core_ == nullptr || core_->closed())
    return queue_internal::HandleIsClosed();
  return queue_internal::IsEmpty(core_->resources());
}

void SimpleQueue::close() {
  if (core_ != nullptr) core_->CloseBoth();
}

}  // namespace procspec
