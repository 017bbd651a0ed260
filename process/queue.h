// CPython's multiprocessing.Queue and SimpleQueue: many producers, many
// consumers, any processes.
//
//   PROCSPEC_TARGET(consumer);  // void consumer(procspec::Queue q)
//   absl::StatusOr<procspec::Queue> q = procspec::Queue::Create();
//   procspec::Process p(consumer, std::tuple{*q});
//   ...
//   absl::Status put = q->put(std::string("job"));
//   absl::StatusOr<std::string> got = q->get<std::string>(true, 1.0);
//
// Values are serialized with cereal (as for spawn) and typed as Connection's
// are: get<T>() of an item that is not a T fails with UnpicklingError (the
// item is consumed). Queue and SimpleQueue are cheap copyable handles (copies,
// including a child's argument under fork, spawn and forkserver, are the same
// queue in that process).
//
// How it works, and why it is fast: a Queue is a pipe plus a small shared
// memory region holding a robust writer mutex, a robust reader mutex, the
// maxsize semaphore and the readers' read-ahead buffer. put() serializes the
// item into the process's buffer and returns; a feeder thread (started by the
// first put, as in CPython) writes everything pending with as few write()
// calls as the pipe's atomic write size allows, holding the writer mutex.
// get() takes the reader mutex and reads from the shared read-ahead buffer,
// refilled by one read() of up to 64 KiB, so that one system call serves many
// get()s in whichever process calls them.
//
// A producer killed while writing never yields half an item: records are
// written with atomic writes (PIPE_BUF), and an item larger than one record
// is detected as torn when its writer died before finishing it (the reader
// finds the writer mutex's owner dead, or a new item where the rest should
// be): get() fails with OSError "a producer died while writing an item; it is
// lost". A get() that has begun reading an item larger than PIPE_BUF keeps
// waiting past its timeout while that item's writer lives (it is writing it).
//
// Exit: a process that put items does not exit until its feeder has written
// them (CPython's join of the feeder thread at exit), unless
// cancel_join_thread() was called; the joins run in the child's exit handling
// after run() and, in the main process, at exit(). A consumer that never reads
// can therefore keep a producer from exiting, as in CPython.
#ifndef PROCSPEC_PROCESS_QUEUE_H_
#define PROCSPEC_PROCESS_QUEUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "process/connection.h"
#include "process/errors.h"
#include "process/spawn.h"
#include "process/synchronize.h"

namespace procspec {

namespace queue_internal {

class Core;

// As sent to a child: the region's and the pipe's descriptors (indices from
// spawn_internal::PassHandle) and which queue kind.
struct Wire {
  std::int64_t region = -1;
  std::int64_t reader = -1;
  std::int64_t writer = -1;
  // The handles of the region's semaphores and mutexes (Windows only).
  std::vector<std::int64_t> objects;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(region, reader, writer);
    sync_internal::SerializeObjectHandles(archive, objects);
  }
};
Wire Save(const std::shared_ptr<Core>& core);
std::shared_ptr<Core> Load(const Wire& wire);

// What every queue kind holds: its handle on the queue's core in this
// process, which crosses to a child as a Wire.
class CoreHandle {
 public:
  template <class Archive>
  void save(Archive& archive) const {
    archive(Save(core_));
  }
  template <class Archive>
  void load(Archive& archive) {
    Wire wire;
    archive(wire);
    core_ = Load(wire);
  }

 protected:
  std::shared_ptr<Core> core_;
};

// The deadline for CPython's (block, timeout); ValueError for a NaN timeout
// when blocking (block=false ignores the timeout, as CPython does).
absl::StatusOr<absl::Time> Deadline(bool block, std::optional<double> timeout);

// Serializes `value` into this thread's scratch buffer.
template <typename T>
absl::StatusOr<std::string_view> Serialize(const T& value) {
  static_assert(spawn_internal::kSerializable<T>,
                "Queue: the item must be serializable with cereal");
  thread_local std::string scratch;
  scratch.clear();
  if (absl::Status status = connection_internal::AppendValue(scratch, value);
      !status.ok())
    return status;
  return std::string_view(scratch);
}

}  // namespace queue_internal

// CPython's multiprocessing.Queue(maxsize=0).
class Queue : public queue_internal::CoreHandle {
 public:
  // maxsize <= 0: unbounded (SEM_VALUE_MAX, as CPython). OSError if the OS
  // has no descriptors or memory left.
  static absl::StatusOr<Queue> Create(int maxsize = 0);
  // An empty handle: every operation fails with OSError "handle is closed".
  Queue() = default;

  // Waits for a free slot (for ever; at most `timeout` seconds; not at all
  // with block=false): queue.Full when none came; a NaN timeout is ValueError
  // "cannot convert float NaN to integer". ValueError "Queue
  // <...> is closed" after close(). The item is written by the feeder thread;
  // when that thread cannot be started, RuntimeError "can't start new thread"
  // and the item is not accepted (the next put() tries again).
  template <typename T>
  absl::Status put(const T& item, bool block = true,
                   std::optional<double> timeout = std::nullopt) {
    absl::StatusOr<absl::Time> deadline =
        queue_internal::Deadline(block, timeout);
    if (!deadline.ok()) return deadline.status();
    absl::StatusOr<std::string_view> body = queue_internal::Serialize(item);
    if (!body.ok()) return body.status();
    return PutBody(*body, *deadline);
  }
  template <typename T>
  absl::Status put_nowait(const T& item) {
    return put(item, false);
  }

  // Removes and returns an item: waits for one as put() waits for a slot;
  // queue.Empty when none came. UnpicklingError if it is not a T (it is
  // consumed). ValueError after close().
  template <typename T>
  absl::StatusOr<T> get(bool block = true,
                        std::optional<double> timeout = std::nullopt) {
    absl::StatusOr<absl::Time> deadline =
        queue_internal::Deadline(block, timeout);
    if (!deadline.ok()) return deadline.status();
    // Not an error status made up front: that would build a Status with a
    // payload on every get(), a cost as large as the rest of a small get().
    std::optional<absl::StatusOr<T>> result;
    absl::Status status = GetBody(*deadline, [&result](std::string_view body) {
      result.emplace(connection_internal::ParseValue<T>(body));
    });
    if (!status.ok()) return status;
    if (!result.has_value()) return QueueEmpty();
    return *std::move(result);
  }
  template <typename T>
  absl::StatusOr<T> get_nowait() {
    return get<T>(false);
  }

  // Approximate, as in CPython: items put (by any process) and not yet got.
  absl::StatusOr<int> qsize() const;
  // Nothing to read right now (an item still in a feeder's buffer does not
  // count, as in CPython). OSError "handle is closed" after close().
  absl::StatusOr<bool> empty() const;
  // No free slot.
  bool full() const;

  // Beyond CPython's public API (CPython's q._reader): the descriptor that
  // becomes readable when an item, or the start of one, has been written, for
  // waiting on several queues and connections at once. OSError "handle is
  // closed" after close().
  absl::StatusOr<platform::NativeHandle> reader_handle() const;

  // This process will put no more: closes the reading end here and lets the
  // feeder finish writing what is pending, then end.
  void close();
  // After close(): waits until the feeder has written everything. Before
  // close(): AssertionError "Queue <...> not closed".
  absl::Status join_thread();
  // This process will not wait for its feeder at exit (pending items may be
  // lost).
  void cancel_join_thread();

 private:
  absl::Status PutBody(std::string_view body, absl::Time deadline);
  absl::Status GetBody(absl::Time deadline,
                       absl::FunctionRef<void(std::string_view)> consume);

 protected:
  bool joinable_ = false;  // put() counts an unfinished task
};

// CPython's multiprocessing.JoinableQueue(maxsize=0): a Queue whose put()
// counts an unfinished task, task_done() marks one finished, and join() waits
// until none is left. Its copies in children are JoinableQueues (send it as a
// JoinableQueue).
class JoinableQueue : public Queue {
 public:
  static absl::StatusOr<JoinableQueue> Create(int maxsize = 0);
  JoinableQueue() { joinable_ = true; }

  // ValueError "task_done() called too many times" when no task is
  // unfinished.
  absl::Status task_done();
  // Waits (for ever, event-driven) until every item put has been marked
  // task_done(). A joiner killed while it waits can make a later join()
  // return early (it is still counted as waiting).
  absl::Status join();
};

// CPython's multiprocessing.SimpleQueue: put() writes at once (no feeder, no
// maxsize), get() blocks until an item comes.
class SimpleQueue : public queue_internal::CoreHandle {
 public:
  static absl::StatusOr<SimpleQueue> Create();
  SimpleQueue() = default;

  template <typename T>
  absl::Status put(const T& item) {
    absl::StatusOr<std::string_view> body = queue_internal::Serialize(item);
    if (!body.ok()) return body.status();
    return PutBody(*body);
  }
  template <typename T>
  absl::StatusOr<T> get() {
    // Not an error status made up front: that would build a Status with a
    // payload on every get(), a cost as large as the rest of a small get().
    std::optional<absl::StatusOr<T>> result;
    absl::Status status = GetBody([&result](std::string_view body) {
      result.emplace(connection_internal::ParseValue<T>(body));
    });
    if (!status.ok()) return status;
    if (!result.has_value()) return QueueEmpty();
    return *std::move(result);
  }
  // OSError "handle is closed" after close().
  absl::StatusOr<bool> empty() const;
  // Closes both ends in this process; later calls fail with OSError "handle
  // is closed".
  void close();

 private:
  absl::Status PutBody(std::string_view body);
  absl::Status GetBody(absl::FunctionRef<void(std::string_view)> consume);
};

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_QUEUE_H_
