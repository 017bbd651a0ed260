// Queue and SimpleQueue across processes, under fork, spawn and
// forkserver: the queues are Process arguments.
//
// The seed names Queue among multiprocessing's components:
// 提供了Process、Queue、Pipe、Lock等组件。
#include "process/queue.h"

#include <cereal/cereal.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "platform/platform.h"
#include "process/connection.h"
#include "process/errors.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::communication {
namespace {

namespace platform = ::procspec::platform;
using ::conformance::module_testing::Reaper;
using ::conformance::testing::JoinAndGetExitcode;
using ::procspec::Queue;
using ::procspec::SimpleQueue;

// Puts the ints [from, from + count): exit 10 on a failure.
void QueuePutRange(Queue q, int from, int count) {
  for (int i = from; i < from + count; ++i) {
    if (!q.put(i).ok()) procspec::Exit(10);
  }
}
PROCSPEC_TARGET(QueuePutRange);

CONFORMANCE_TEST(Queue, ItemsPutInAChildAreGotInOrder,
                 "communication.queue.put_get") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  constexpr int kCount = 20000;
  procspec::Process p(QueuePutRange, std::tuple{q, 0, kCount});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  for (int i = 0; i < kCount; ++i) {
    ASSERT_OK_AND_ASSIGN(int item, q.get<int>());
    ASSERT_EQ(item, i);
  }
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Gets `count` ints from `in` and puts their sum on `out`: exit 10 on a
// failure.
void QueueSumItems(Queue in, Queue out, int count) {
  std::int64_t sum = 0;
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<int> item = in.get<int>(true, 60.0);
    if (!item.ok()) procspec::Exit(10);
    sum += *item;
  }
  if (!out.put(sum).ok()) procspec::Exit(11);
}
PROCSPEC_TARGET(QueueSumItems);

// Two producers and two consumers share one queue: every item is got exactly
// once (the consumers share the read-ahead buffer and the reader lock).
CONFORMANCE_TEST(Queue, ManyProducersAndConsumersGetEveryItemOnce,
                 "communication.queue.put_get",
                 "communication.queue.many_processes") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  ASSERT_OK_AND_ASSIGN(Queue results, Queue::Create());
  constexpr int kPerProducer = 5000;
  procspec::Process producer1(QueuePutRange, std::tuple{q, 0, kPerProducer});
  procspec::Process producer2(QueuePutRange,
                              std::tuple{q, kPerProducer, kPerProducer});
  procspec::Process consumer1(QueueSumItems,
                              std::tuple{q, results, kPerProducer});
  procspec::Process consumer2(QueueSumItems,
                              std::tuple{q, results, kPerProducer});
  Reaper r1(producer1), r2(producer2), r3(consumer1), r4(consumer2);
  ASSERT_OK(consumer1.start());
  ASSERT_OK(consumer2.start());
  ASSERT_OK(producer1.start());
  ASSERT_OK(producer2.start());
  ASSERT_OK_AND_ASSIGN(std::int64_t a, results.get<std::int64_t>());
  ASSERT_OK_AND_ASSIGN(std::int64_t b, results.get<std::int64_t>());
  const std::int64_t n = 2 * kPerProducer;
  EXPECT_EQ(a + b, n * (n - 1) / 2);
  for (procspec::Process* p :
       {&producer1, &producer2, &consumer1, &consumer2}) {
    ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(*p));
    EXPECT_EQ(code, 0);
  }
  ASSERT_OK_AND_ASSIGN(bool empty, q.empty());
  EXPECT_TRUE(empty);
}

// get and put honour block and timeout: queue.Empty and queue.Full, after at
// least the timeout; the maxsize slots are shared with the child.
CONFORMANCE_TEST(Queue, EmptyAndFullWithBlockAndTimeout,
                 "communication.queue.timeouts", "communication.queue.size") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create(2));
  EXPECT_PYTHON_ERROR(q.get_nowait<int>(), "Empty", "");
  EXPECT_PYTHON_ERROR(q.get<int>(true, -1.0), "Empty", "");
  const absl::Duration timeout = absl::Milliseconds(100);
  absl::Time before = absl::Now();
  EXPECT_PYTHON_ERROR(q.get<int>(true, absl::ToDoubleSeconds(timeout)), "Empty",
                      "");
  EXPECT_GE(absl::Now() - before, timeout);
  ASSERT_OK_AND_ASSIGN(int size, q.qsize());
  EXPECT_EQ(size, 0);
  EXPECT_FALSE(q.full());
  // The child fills it; its exit waits until both items are written.
  procspec::Process p(QueuePutRange, std::tuple{q, 0, 2});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(q.full());
  ASSERT_OK_AND_ASSIGN(size, q.qsize());
  EXPECT_EQ(size, 2);
  ASSERT_OK_AND_ASSIGN(bool empty, q.empty());
  EXPECT_FALSE(empty);
  EXPECT_PYTHON_ERROR(q.put_nowait(9), "Full", "");
  before = absl::Now();
  EXPECT_PYTHON_ERROR(q.put(9, true, absl::ToDoubleSeconds(timeout)), "Full",
                      "");
  EXPECT_GE(absl::Now() - before, timeout);
  EXPECT_EQ(q.get<int>().value_or(-1), 0);
  EXPECT_FALSE(q.full());
  ASSERT_OK(q.put_nowait(2));
  EXPECT_EQ(q.get<int>().value_or(-1), 1);
  EXPECT_EQ(q.get<int>().value_or(-1), 2);
  ASSERT_OK_AND_ASSIGN(size, q.qsize());
  EXPECT_EQ(size, 0);
}

// Puts one item, closes its handle, checks that put and get then fail and
// that join_thread returns: exit 0, else 10 + the failed step.
void QueueCloseInChild(Queue q) {
  if (!q.put(std::string("before close")).ok()) procspec::Exit(10);
  if (procspec::PythonExceptionType(q.join_thread()) != "AssertionError")
    procspec::Exit(11);
  q.close();
  const absl::Status put = q.put(1);
  if (procspec::PythonExceptionType(put) != "ValueError" ||
      !absl::EndsWith(put.message(), " is closed"))
    procspec::Exit(12);
  if (procspec::PythonExceptionType(q.get<int>().status()) != "ValueError")
    procspec::Exit(13);
  if (!q.join_thread().ok()) procspec::Exit(14);
}
PROCSPEC_TARGET(QueueCloseInChild);

CONFORMANCE_TEST(Queue, CloseRefusesPutAndGetAndJoinThreadWaitsForTheFeeder,
                 "communication.queue.close") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  const absl::Status not_closed = q.join_thread();
  EXPECT_EQ(procspec::PythonExceptionType(not_closed), "AssertionError");
  EXPECT_TRUE(absl::StartsWith(not_closed.message(), "Queue <"));
  EXPECT_TRUE(absl::EndsWith(not_closed.message(), "> not closed"));
  procspec::Process p(QueueCloseInChild, std::tuple{q});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0) << "11: join_thread before close; 12: put after close; "
                        "13: get after close; 14: join_thread after close";
  // The child's close() was its own: the queue works here.
  EXPECT_EQ(q.get<std::string>().value_or("?"), "before close");
  ASSERT_OK(q.put(5));
  EXPECT_EQ(q.get<int>().value_or(-1), 5);
  q.close();
  const absl::Status closed = q.put(1);
  EXPECT_EQ(procspec::PythonExceptionType(closed), "ValueError");
  EXPECT_TRUE(absl::StartsWith(closed.message(), "Queue <"));
  EXPECT_TRUE(absl::EndsWith(closed.message(), "> is closed"));
  EXPECT_PYTHON_ERROR(q.get<int>(false), "ValueError",
                      std::string(closed.message()));
  EXPECT_PYTHON_ERROR(q.empty(), "OSError", "handle is closed");
  EXPECT_OK(q.join_thread());
}

// Puts `count` strings of `size` bytes (far more than the pipe holds), then
// returns; with `cancel`, calls cancel_join_thread() first. Exit 10 on a
// failure.
void QueuePutLots(Queue q, int count, int size, bool cancel) {
  for (int i = 0; i < count; ++i) {
    std::string item(static_cast<std::size_t>(size), 'a' + i % 26);
    if (!q.put(item).ok()) procspec::Exit(10);
  }
  if (cancel) q.cancel_join_thread();
}
PROCSPEC_TARGET(QueuePutLots);

// CPython: "a process that has put items in a queue will wait before
// terminating until all the buffered items are fed by the feeder thread to
// the underlying pipe". The pipe cannot hold them, so the child cannot have
// exited before this process reads.
CONFORMANCE_TEST(Queue, ChildDoesNotExitUntilItsItemsAreWritten,
                 "communication.queue.flush_at_exit") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  constexpr int kCount = 1000, kSize = 1000;  // 1 MB; each item one record.
  procspec::Process p(QueuePutLots, std::tuple{q, kCount, kSize, false});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK(p.join(0.2));
  ASSERT_OK_AND_ASSIGN(std::optional<int> running, p.exitcode());
  EXPECT_FALSE(running.has_value()) << "the child exited with items unwritten";
  for (int i = 0; i < kCount; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string item, q.get<std::string>());
    ASSERT_EQ(item, std::string(kSize, 'a' + i % 26));
  }
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// After cancel_join_thread() the child exits without waiting for its feeder:
// join() returns although nobody read. What did arrive is whole and in order.
CONFORMANCE_TEST(Queue, CancelJoinThreadLetsTheChildExitUnflushed,
                 "communication.queue.cancel_join_thread") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  constexpr int kCount = 1000, kSize = 1000;
  procspec::Process p(QueuePutLots, std::tuple{q, kCount, kSize, true});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  int got = 0;
  while (true) {
    absl::StatusOr<std::string> item = q.get_nowait<std::string>();
    if (!item.ok()) {
      EXPECT_EQ(procspec::PythonExceptionType(item.status()), "Empty")
          << item.status();
      break;
    }
    ASSERT_EQ(*item, std::string(kSize, 'a' + got % 26));
    ++got;
  }
  EXPECT_LT(got, kCount);
}

// Puts one item of `size` bytes (far more than the pipe holds, so its feeder
// blocks in the middle of it), then waits until killed.
void QueuePutHugeAndHold(Queue q, std::int64_t size,
                         procspec::Connection hold) {
  if (!q.put(std::string(static_cast<std::size_t>(size), 'h')).ok())
    procspec::Exit(10);
  (void)hold.recv<int>();  // Never sent: blocks until killed.
  procspec::Exit(11);
}
PROCSPEC_TARGET(QueuePutHugeAndHold);

// A producer killed in the middle of an item: get() fails with a clear
// OSError within its timeout, never returns part of the item; the queue goes
// on working.
CONFORMANCE_TEST(Queue, ProducerKilledMidItemIsAnErrorNotAHalfItem,
                 "communication.queue.producer_killed") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  ASSERT_OK_AND_ASSIGN(auto hold, procspec::Pipe(false));
  procspec::Process p(QueuePutHugeAndHold,
                      std::tuple{q, std::int64_t{4 * 1024 * 1024}, hold.first});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  // Readable: the child's feeder has begun the item, and is blocked in the
  // middle of it.
  ASSERT_OK_AND_ASSIGN(platform::NativeHandle reader, q.reader_handle());
  const platform::NativeHandle handles[] = {reader};
  ASSERT_OK(platform::WaitReadable(handles, absl::InfiniteFuture()));
  ASSERT_OK(p.kill());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  // -SIGKILL; on Windows kill() is TerminateProcess, which CPython reports
  // as -SIGTERM.
  EXPECT_EQ(code, -platform::SignalNumber(platform::Signal::kKill));
  EXPECT_PYTHON_ERROR(q.get<std::string>(true, 30.0), "OSError",
                      "a producer died while writing an item; it is lost");
  EXPECT_PYTHON_ERROR(q.get_nowait<std::string>(), "Empty", "");
  ASSERT_OK(q.put(std::string("after")));
  EXPECT_EQ(q.get<std::string>().value_or("?"), "after");
}

// Puts a string and an int: exit 10 on a failure.
void QueuePutMixed(Queue q) {
  if (!q.put(std::string("text")).ok() || !q.put(3).ok()) procspec::Exit(10);
}
PROCSPEC_TARGET(QueuePutMixed);

CONFORMANCE_TEST(Queue, GetOfAnotherTypeIsAnUnpicklingError,
                 "communication.queue.typed") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  procspec::Process p(QueuePutMixed, std::tuple{q});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  const absl::Status wrong = q.get<int>().status();
  EXPECT_EQ(procspec::PythonExceptionType(wrong), "UnpicklingError") << wrong;
  EXPECT_EQ(q.get<int>().value_or(-1), 3);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// A value whose serialization is a forged std::string length (2^62) and
// nothing else: what a corrupt or hostile producer could write.
struct ForgedLength {
  std::string text;
  template <class Archive>
  void save(Archive& archive) const {
    archive(cereal::make_size_tag(static_cast<cereal::size_type>(1) << 62));
  }
  template <class Archive>
  void load(Archive& archive) {
    archive(text);
  }
};

// Puts a ForgedLength then 3: exit 10 on a failure.
void QueuePutForged(Queue q) {
  if (!q.put(ForgedLength{}).ok() || !q.put(3).ok()) procspec::Exit(10);
}
PROCSPEC_TARGET(QueuePutForged);

// Items on a queue are not trusted: an item from another process claiming a
// 2^62-byte string is an UnpicklingError naming the bad length, never an
// attempt to allocate it; the consumer survives and gets the next item.
CONFORMANCE_TEST(Queue, ForgedLengthIsAnUnpicklingErrorNotAnAllocation,
                 "communication.queue.typed") {
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  procspec::Process p(QueuePutForged, std::tuple{q});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  const absl::Status forged = q.get<ForgedLength>().status();
  EXPECT_EQ(procspec::PythonExceptionType(forged), "UnpicklingError") << forged;
  EXPECT_TRUE(absl::StrContains(forged.message(), "a length of")) << forged;
  EXPECT_EQ(q.get<int>().value_or(-1), 3);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// SimpleQueue: puts the ints [0, count) at once (no feeder): exit 10.
void SimpleQueuePutRange(SimpleQueue q, int count) {
  for (int i = 0; i < count; ++i) {
    if (!q.put(i).ok()) procspec::Exit(10);
  }
}
PROCSPEC_TARGET(SimpleQueuePutRange);

CONFORMANCE_TEST(SimpleQueue, PutInAChildGetInOrderThenClose,
                 "communication.simple_queue.put_get") {
  ASSERT_OK_AND_ASSIGN(SimpleQueue q, SimpleQueue::Create());
  ASSERT_OK_AND_ASSIGN(bool empty, q.empty());
  EXPECT_TRUE(empty);
  constexpr int kCount = 5000;
  procspec::Process p(SimpleQueuePutRange, std::tuple{q, kCount});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  for (int i = 0; i < kCount; ++i) {
    ASSERT_OK_AND_ASSIGN(int item, q.get<int>());
    ASSERT_EQ(item, i);
  }
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(empty, q.empty());
  EXPECT_TRUE(empty);
  q.close();
  EXPECT_PYTHON_ERROR(q.get<int>(), "OSError", "handle is closed");
  EXPECT_PYTHON_ERROR(q.put(1), "OSError", "handle is closed");
  EXPECT_PYTHON_ERROR(q.empty(), "OSError", "handle is closed");
}

// Ordinary memory the "share no state" test changes.
int g_counter = 0;

// Changes the global, then sends its new value through the queue and the
// pipe: exit 10 on a failure.
void QueueChangeAndSend(Queue q, procspec::Connection conn) {
  g_counter = 2;
  if (!q.put(g_counter).ok() || !conn.send(g_counter).ok()) procspec::Exit(10);
}
PROCSPEC_TARGET(QueueChangeAndSend);

// "Processes share no state": the child's change to a global stays in the
// child, while the value it sends through a Queue and a Pipe reaches the
// parent.
CONFORMANCE_TEST(State, ChangesCrossOnlyThroughQueuesAndPipes,
                 "module.state.not_shared",
                 "communication.state.shared_through_primitives") {
  g_counter = 1;
  ASSERT_OK_AND_ASSIGN(Queue q, Queue::Create());
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  procspec::Process p(QueueChangeAndSend, std::tuple{q, writer});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer.close();
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  EXPECT_EQ(g_counter, 1) << "the child's write reached this process's memory";
  EXPECT_EQ(q.get<int>().value_or(-1), 2);
  EXPECT_EQ(reader.recv<int>().value_or(-1), 2);
  g_counter = 0;
}

}  // namespace
}  // namespace conformance::communication

namespace conformance::communication {
namespace {

// Gets `count` ints and marks each done once `go` says so; exit 10 + step on
// a failure.
void JoinableWorker(procspec::JoinableQueue q, int count,
                    procspec::Connection got, procspec::Connection go) {
  for (int i = 0; i < count; ++i) {
    if (!q.get<int>().ok()) procspec::Exit(10);
  }
  if (!got.send(count).ok()) procspec::Exit(11);
  if (!go.recv<int>().ok()) procspec::Exit(12);
  for (int i = 0; i < count; ++i) {
    if (!q.task_done().ok()) procspec::Exit(13);
  }
}
PROCSPEC_TARGET(JoinableWorker);

// Once told on `start`, calls join() and reports on `joined` when it returns:
// exit 10 on a failure.
void JoinableJoiner(procspec::JoinableQueue q, procspec::Connection start,
                    procspec::Connection joined) {
  if (!start.recv<int>().ok()) procspec::Exit(10);
  if (!q.join().ok() || !joined.send(1).ok()) procspec::Exit(10);
}
PROCSPEC_TARGET(JoinableJoiner);

// join() returns once every item put has been marked done by task_done() (in
// another process); not while one is still unfinished; task_done() past the
// count is CPython's ValueError.
CONFORMANCE_TEST(JoinableQueue, JoinWaitsForEveryTaskDone,
                 "communication.joinable_queue.join") {
  ASSERT_OK_AND_ASSIGN(procspec::JoinableQueue q,
                       procspec::JoinableQueue::Create());
  ASSERT_OK(q.join());  // Nothing put: at once.
  EXPECT_PYTHON_ERROR(q.task_done(), "ValueError",
                      "task_done() called too many times");
  ASSERT_OK_AND_ASSIGN(auto got, procspec::Pipe(false));
  ASSERT_OK_AND_ASSIGN(auto go, procspec::Pipe(false));
  ASSERT_OK_AND_ASSIGN(auto joined, procspec::Pipe(false));
  ASSERT_OK_AND_ASSIGN(auto start_join, procspec::Pipe(false));
  constexpr int kCount = 50;
  procspec::Process worker(JoinableWorker,
                           std::tuple{q, kCount, got.second, go.first});
  procspec::Process joiner(JoinableJoiner,
                           std::tuple{q, start_join.first, joined.second});
  Reaper r1(worker), r2(joiner);
  // Both start before the first put starts the feeder thread: forking while
  // another thread may be inside malloc can leave the child's allocator locked
  // (the hazard the fork warning names; ASan's allocator has no fork handler).
  ASSERT_OK(worker.start());
  ASSERT_OK(joiner.start());
  got.second.close();
  go.first.close();
  joined.second.close();
  start_join.first.close();
  for (int i = 0; i < kCount; ++i) ASSERT_OK(q.put(i));
  // Every item is got, none is done yet: the joiner, told now, waits.
  EXPECT_EQ(got.first.recv<int>().value_or(-1), kCount);
  ASSERT_OK(start_join.second.send(1));
  ASSERT_OK_AND_ASSIGN(bool early, joined.first.poll(0.05));
  EXPECT_FALSE(early) << "join() returned with unfinished tasks";
  ASSERT_OK(go.second.send(1));
  ASSERT_OK(q.join());
  EXPECT_EQ(joined.first.recv<int>().value_or(-1), 1);
  for (procspec::Process* p : {&worker, &joiner}) {
    ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(*p));
    EXPECT_EQ(code, 0);
  }
  EXPECT_PYTHON_ERROR(q.task_done(), "ValueError",
                      "task_done() called too many times");
}

}  // namespace
}  // namespace conformance::communication
