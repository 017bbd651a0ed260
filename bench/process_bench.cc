// procspec's Process operations, each beside its physical floor in the same
// binary and run (Google Benchmark; tools/bench.sh runs it with repetitions in
// random interleaving, so that a noisy machine slows both alike). Names are
// "<operation>/procspec" and "<operation>/floor"; bench/report.py pairs
// them. bench/cpython_bench.py measures CPython's equivalents with the same
// counts.
//
//   ./bazelw run -c opt //bench:process_bench -- [--backend=posix]
//       [--iterations_scale=0.1] [benchmark flags]
//
// Every child is a child of this process (or of the fork server), and every
// benchmark joins what it starts: nothing is left running.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bench/floor.h"
#include "benchmark/benchmark.h"
#include "platform/platform.h"
#include "process/connection.h"
#include "process/context.h"
#include "process/init.h"
#include "process/process.h"
#include "process/queue.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace {

namespace floor = procspec::bench::floor;

// How long a wake-up child runs before it exits: long enough for the parent to
// be blocked in join()/waitpid() by then.
constexpr std::int64_t kWakeUpSpinNanos = 1'000'000;

double g_iterations_scale = 1.0;
std::string g_self;

// A ready pipe for the terminate benchmarks: the forked child inherits it.
int g_ready_read = -1;
int g_ready_write = -1;

void Empty() {}
PROCSPEC_TARGET(Empty);

void StampAndExit(std::int64_t spin_nanos) { floor::StampAndExit(spin_nanos); }
PROCSPEC_TARGET(StampAndExit);

void ReadyAndBlock() { floor::SignalReadyAndBlock(g_ready_write); }

const procspec::Context* ContextFor(const char* method) {
  return *procspec::get_context(method);
}

// Start+join of an empty target; fails the benchmark on any error.
bool StartJoinEmpty(benchmark::State& state, const procspec::Context* context) {
  procspec::Process p(Empty, {.context = context});
  if (!p.start().ok() || !p.join().ok()) {
    state.SkipWithError("start/join failed");
    return false;
  }
  absl::StatusOr<std::optional<int>> code = p.exitcode();
  if (!code.ok() || *code != 0) {
    state.SkipWithError("child did not exit with 0");
    return false;
  }
  return true;
}

void StartJoin(benchmark::State& state, const char* method) {
  const procspec::Context* context = ContextFor(method);
  for (auto _ : state) {
    if (!StartJoinEmpty(state, context)) break;
  }
}

void ForkFloor(benchmark::State& state) {
  for (auto _ : state) {
    if (floor::ForkExitWait() != 0) {
      state.SkipWithError("fork floor failed");
      break;
    }
  }
}

void SpawnFloor(benchmark::State& state) {
  for (auto _ : state) {
    if (floor::SpawnWait(g_self, "--exit") != 0) {
      state.SkipWithError("posix_spawn floor failed");
      break;
    }
  }
}

// From the child's exit stamp to join() returning (manual time).
void JoinWakeUp(benchmark::State& state, const char* method) {
  const procspec::Context* context = ContextFor(method);
  for (auto _ : state) {
    procspec::Process p(StampAndExit, std::tuple{kWakeUpSpinNanos},
                        {.context = context});
    if (!p.start().ok() || !p.join().ok()) {
      state.SkipWithError("start/join failed");
      break;
    }
    const std::int64_t woke = floor::MonotonicNanos();
    state.SetIterationTime(static_cast<double>(woke - *floor::SharedStamp()) /
                           1e9);
  }
}

// The floor: the same kind of child (started by procspec, stamping the same
// way), and a blocking waitid(WNOWAIT) for its exit, the kernel's direct
// wake-up of a waiting parent; join() then reaps it, untimed.
void JoinWakeUpFloor(benchmark::State& state) {
  const procspec::Context* context = ContextFor("fork");
  for (auto _ : state) {
    procspec::Process p(StampAndExit, std::tuple{kWakeUpSpinNanos},
                        {.context = context});
    if (!p.start().ok()) {
      state.SkipWithError("start failed");
      break;
    }
    absl::StatusOr<std::optional<procspec::Pid>> pid = p.pid();
    if (!pid.ok() || !pid->has_value() || !floor::AwaitExitNoReap(**pid)) {
      state.SkipWithError("waitid failed");
      break;
    }
    const std::int64_t woke = floor::MonotonicNanos();
    state.SetIterationTime(static_cast<double>(woke - *floor::SharedStamp()) /
                           1e9);
    if (!p.join().ok()) {
      state.SkipWithError("join failed");
      break;
    }
  }
}

// terminate() then join() of a running child blocked in pause() (manual time,
// from the signal to the return of join()).
void TerminateJoin(benchmark::State& state) {
  const procspec::Context* context = ContextFor("fork");
  for (auto _ : state) {
    procspec::Process p(ReadyAndBlock, {.context = context});
    if (!p.start().ok() || !floor::ReadByte(g_ready_read)) {
      state.SkipWithError("start failed");
      break;
    }
    const std::int64_t start = floor::MonotonicNanos();
    if (!p.terminate().ok() || !p.join().ok()) {
      state.SkipWithError("terminate/join failed");
      break;
    }
    const std::int64_t end = floor::MonotonicNanos();
    state.SetIterationTime(static_cast<double>(end - start) / 1e9);
  }
}

void TerminateJoinFloor(benchmark::State& state) {
  for (auto _ : state) {
    const std::int64_t pid = floor::ForkBlockedChild(g_ready_write);
    if (pid < 0 || !floor::ReadByte(g_ready_read)) {
      state.SkipWithError("fork failed");
      break;
    }
    const std::int64_t start = floor::MonotonicNanos();
    if (floor::TerminateAndWait(pid) != -15) {
      state.SkipWithError("kill/waitpid failed");
      break;
    }
    const std::int64_t end = floor::MonotonicNanos();
    state.SetIterationTime(static_cast<double>(end - start) / 1e9);
  }
}

// `count` children started, then all joined.
void ManyStartJoin(benchmark::State& state, const char* method, int count) {
  const procspec::Context* context = ContextFor(method);
  for (auto _ : state) {
    std::vector<std::unique_ptr<procspec::Process>> children;
    children.reserve(count);
    bool ok = true;
    for (int i = 0; i < count; ++i) {
      children.push_back(std::make_unique<procspec::Process>(
          Empty, procspec::Options{.context = context}));
      ok = ok && children.back()->start().ok();
    }
    for (auto& child : children) ok = ok && child->join().ok();
    if (!ok) {
      state.SkipWithError("start/join failed");
      break;
    }
  }
}

void ManyForkFloor(benchmark::State& state, int count) {
  for (auto _ : state) {
    std::vector<std::int64_t> pids;
    pids.reserve(count);
    for (int i = 0; i < count; ++i) pids.push_back(floor::ForkExitChild());
    bool ok = true;
    for (std::int64_t pid : pids)
      ok = pid > 0 && floor::WaitPid(pid) == 0 && ok;
    if (!ok) {
      state.SkipWithError("fork/waitpid failed");
      break;
    }
  }
}

// ---- The floors a user would pick: bench/minimal_floor.c, a minimal
// statically linked C program, runs all the iterations of a repetition and
// reports their total time (manual time: its own start is not counted).

std::string g_minimal;

void MinimalFloor(benchmark::State& state, std::vector<std::string> argv) {
  const auto iterations = static_cast<std::int64_t>(state.max_iterations);
  argv.insert(argv.begin(), g_minimal);
  argv.push_back(std::to_string(iterations));
  const std::int64_t total = floor::RunForNumber(argv);
  if (total < 0) {
    state.SkipWithError("bench/minimal_floor failed (--minimal_floor=PATH?)");
    return;
  }
  for (auto _ : state) {
    state.SetIterationTime(static_cast<double>(total) / 1e9 /
                           static_cast<double>(iterations));
  }
}

// ---- Lock (process/synchronize.h)

// acquire() then release(), nobody else using the lock.
void LockUncontended(benchmark::State& state) {
  absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
  if (!lock.ok()) {
    state.SkipWithError("Lock::Create failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(lock->acquire());
    benchmark::DoNotOptimize(lock->release());
  }
}

void LockUncontendedFloor(benchmark::State& state) {
  std::int32_t* word = floor::NewSharedLockWord();
  if (word == nullptr) {
    state.SkipWithError("mmap failed");
    return;
  }
  for (auto _ : state) {
    floor::FutexLock(word);
    floor::FutexUnlock(word);
  }
}

// Two processes hand two locks to each other: the child takes `ping` (which
// the parent gives) and gives `pong` (which the parent takes). One iteration is
// one round trip, two hand-overs that each wake a blocked process. Both locks
// start held, so each side waits for the other's release.
void LockPingPongChild(procspec::Lock ping, procspec::Lock pong,
                       std::int64_t rounds) {
  for (std::int64_t i = 0; i < rounds; ++i) {
    ping.acquire();
    (void)pong.release();
  }
}

void LockPingPong(benchmark::State& state) {
  absl::StatusOr<procspec::Lock> ping = procspec::Lock::Create();
  absl::StatusOr<procspec::Lock> pong = procspec::Lock::Create();
  if (!ping.ok() || !pong.ok() || !ping->acquire() || !pong->acquire()) {
    state.SkipWithError("Lock::Create failed");
    return;
  }
  // One round more than timed: the first waits for the child to start.
  const auto rounds = static_cast<std::int64_t>(state.max_iterations) + 1;
  procspec::Process child(LockPingPongChild, std::tuple{*ping, *pong, rounds},
                          {.context = ContextFor("fork")});
  if (!child.start().ok()) {
    state.SkipWithError("start failed");
    return;
  }
  (void)ping->release();
  pong->acquire();
  for (auto _ : state) {
    (void)ping->release();
    pong->acquire();
  }
  if (!child.join().ok()) state.SkipWithError("join failed");
}

void LockPingPongFloor(benchmark::State& state) {
  std::int32_t* ping = floor::NewSharedLockWord();
  std::int32_t* pong = floor::NewSharedLockWord();
  if (ping == nullptr || pong == nullptr) {
    state.SkipWithError("mmap failed");
    return;
  }
  floor::FutexLock(ping);
  floor::FutexLock(pong);
  const auto rounds = static_cast<std::int64_t>(state.max_iterations) + 1;
  const std::int64_t pid = floor::ForkAndRun([&] {
    for (std::int64_t i = 0; i < rounds; ++i) {
      floor::FutexLock(ping);
      floor::FutexUnlock(pong);
    }
  });
  if (pid < 0) {
    state.SkipWithError("fork failed");
    return;
  }
  floor::FutexUnlock(ping);
  floor::FutexLock(pong);
  for (auto _ : state) {
    floor::FutexUnlock(ping);
    floor::FutexLock(pong);
  }
  if (floor::WaitPid(pid) != 0) state.SkipWithError("waitpid failed");
}

// ---- Pipe and Queue (process/connection.h, process/queue.h)

constexpr std::size_t kMessageSize = 8;

// One iteration: 8 bytes to a child and back (send_bytes/recv_bytes).
void PipeRoundTrip(benchmark::State& state) {
  absl::StatusOr<std::pair<procspec::Connection, procspec::Connection>> pipe =
      procspec::Pipe();
  if (!pipe.ok()) {
    state.SkipWithError("Pipe failed");
    return;
  }
  procspec::Connection mine = pipe->first;
  procspec::Connection theirs = pipe->second;
  const auto rounds = static_cast<std::int64_t>(state.max_iterations) + 1;
  procspec::Process child(
      [theirs, rounds]() mutable {
        for (std::int64_t i = 0; i < rounds; ++i) {
          absl::StatusOr<std::string> bytes = theirs.recv_bytes();
          if (!bytes.ok() || !theirs.send_bytes(*bytes).ok()) floor::ExitNow();
        }
      },
      {.context = ContextFor("fork")});
  if (!child.start().ok()) {
    state.SkipWithError("start failed");
    return;
  }
  theirs.close();
  std::string bytes(kMessageSize, 'p');
  bool ok = mine.send_bytes(bytes).ok() && mine.recv_bytes().ok();
  for (auto _ : state) {
    ok = ok && mine.send_bytes(bytes).ok();
    absl::StatusOr<std::string> back = mine.recv_bytes();
    ok = ok && back.ok();
  }
  if (!child.join().ok() || !ok) state.SkipWithError("ping-pong failed");
}

void PipeRoundTripFloor(benchmark::State& state) {
  int there_read, there_write, back_read, back_write;
  if (!floor::MakePipe(&there_read, &there_write) ||
      !floor::MakePipe(&back_read, &back_write)) {
    state.SkipWithError("pipe failed");
    return;
  }
  const auto rounds = static_cast<std::int64_t>(state.max_iterations) + 1;
  const std::int64_t pid = floor::ForkAndRun([&] {
    char buffer[kMessageSize];
    for (std::int64_t i = 0; i < rounds; ++i) {
      if (!floor::ReadBytes(there_read, buffer, kMessageSize) ||
          !floor::WriteBytes(back_write, buffer, kMessageSize))
        floor::ExitNow();
    }
  });
  char buffer[kMessageSize] = {'p'};
  bool ok = pid > 0 && floor::WriteBytes(there_write, buffer, kMessageSize) &&
            floor::ReadBytes(back_read, buffer, kMessageSize);
  for (auto _ : state) {
    ok = ok && floor::WriteBytes(there_write, buffer, kMessageSize) &&
         floor::ReadBytes(back_read, buffer, kMessageSize);
  }
  for (int fd : {there_read, there_write, back_read, back_write})
    floor::Close(fd);
  if (pid < 0 || floor::WaitPid(pid) != 0 || !ok)
    state.SkipWithError("ping-pong failed");
}

// One iteration: `count` items, item_for(i), put by the parent and got by a
// forked child, which checks each with expected(got, i); timed from the first
// put to the child's exit (its start included, as in the floors).
template <typename Item, typename ItemFor, typename Expected>
void PutAndGet(benchmark::State& state, int count, ItemFor item_for,
               Expected expected) {
  for (auto _ : state) {
    absl::StatusOr<procspec::Queue> queue = procspec::Queue::Create();
    if (!queue.ok()) {
      state.SkipWithError("Queue::Create failed");
      break;
    }
    procspec::Process child(
        [queue = *queue, count, expected]() mutable {
          for (int i = 0; i < count; ++i) {
            absl::StatusOr<Item> got = queue.get<Item>();
            if (!got.ok() || !expected(*got, i)) procspec::Exit(1);
          }
        },
        {.context = ContextFor("fork")});
    bool ok = child.start().ok();
    for (int i = 0; ok && i < count; ++i) ok = queue->put(item_for(i)).ok();
    if (!child.join().ok() || !ok || **child.exitcode() != 0) {
      state.SkipWithError("put/get failed");
      break;
    }
  }
}

// kQueueBatch std::int64_t, got in order. The report divides by kQueueBatch.
constexpr int kQueueBatch = 20000;

void QueueSmallMessages(benchmark::State& state) {
  PutAndGet<std::int64_t>(
      state, kQueueBatch, [](int i) { return std::int64_t{i}; },
      [](std::int64_t got, int i) { return got == i; });
}

// The floor of the Queue benchmarks: `total` bytes through a raw pipe,
// written in pieces of `piece` bytes and read 64 KiB at a time by a forked
// child.
void StreamThroughPipe(benchmark::State& state, std::size_t total,
                       std::size_t piece) {
  const std::string chunk(piece, 'r');
  for (auto _ : state) {
    int read_end, write_end;
    if (!floor::MakePipe(&read_end, &write_end)) {
      state.SkipWithError("pipe failed");
      break;
    }
    const std::int64_t pid = floor::ForkAndRun([&] {
      floor::Close(write_end);
      std::vector<char> buffer(64 * 1024);
      std::size_t got = 0;
      while (got < total) {
        const long n = floor::ReadSome(read_end, buffer.data(), buffer.size());
        if (n <= 0) floor::ExitNow();
        got += static_cast<std::size_t>(n);
      }
    });
    bool ok = pid > 0;
    for (std::size_t sent = 0; ok && sent < total; sent += piece)
      ok = floor::WriteBytes(write_end, chunk.data(),
                             std::min(piece, total - sent));
    floor::Close(write_end);
    floor::Close(read_end);
    if (pid < 0 || floor::WaitPid(pid) != 0 || !ok) {
      state.SkipWithError("stream failed");
      break;
    }
  }
}

// The same bytes (a Queue record of a std::int64_t is 21 bytes: a 4-byte
// length and 17 bytes of cereal) through a raw pipe, written in PIPE_BUF
// chunks (whole records).
void QueueSmallMessagesFloor(benchmark::State& state) {
  constexpr std::size_t kRecord = 21;
  StreamThroughPipe(state, kRecord * kQueueBatch,
                    floor::PipeBuf() / kRecord * kRecord);
}

// Queue throughput by item size: `count` std::string items of `size` bytes.
// The report divides by the count (bench/report.py's PER_ITEM).
void QueueBySize(benchmark::State& state, std::size_t size, int count) {
  const std::string item(size, 'q');
  PutAndGet<std::string>(
      state, count, [&item](int) -> const std::string& { return item; },
      [size](const std::string& got, int) { return got.size() == size; });
}

// The same payload bytes through a raw pipe, written in pieces of
// max(size, PIPE_BUF) bytes.
void QueueBySizeFloor(benchmark::State& state, std::size_t size, int count) {
  StreamThroughPipe(state, size * static_cast<std::size_t>(count),
                    std::max(size, floor::PipeBuf()));
}

int Scaled(int iterations) {
  return std::max(1, static_cast<int>(iterations * g_iterations_scale));
}

// Wall-clock time per iteration (the parent's CPU time would miss the
// children's).
benchmark::internal::Benchmark* Timed(benchmark::internal::Benchmark* b,
                                      int iterations) {
  return b->Iterations(Scaled(iterations))->Unit(benchmark::kMicrosecond);
}

void Register(const std::string& name, void (*fn)(benchmark::State&),
              int iterations) {
  Timed(benchmark::RegisterBenchmark(name.c_str(), fn), iterations)
      ->UseRealTime();
}
void Register(const std::string& name,
              void (*fn)(benchmark::State&, const char*), const char* method,
              int iterations) {
  Timed(benchmark::RegisterBenchmark(name.c_str(), fn, method), iterations)
      ->UseRealTime();
}
// The benchmark times its iterations itself (SetIterationTime).
void RegisterManual(const std::string& name, void (*fn)(benchmark::State&),
                    int iterations) {
  Timed(benchmark::RegisterBenchmark(name.c_str(), fn), iterations)
      ->UseManualTime();
}
void RegisterManual(const std::string& name,
                    void (*fn)(benchmark::State&, const char*),
                    const char* method, int iterations) {
  Timed(benchmark::RegisterBenchmark(name.c_str(), fn, method), iterations)
      ->UseManualTime();
}

template <typename Fn>
void RegisterLambda(const std::string& name, int iterations, bool manual,
                    Fn fn) {
  benchmark::internal::Benchmark* b =
      Timed(benchmark::RegisterBenchmark(name.c_str(), fn), iterations);
  if (manual) {
    b->UseManualTime();
  } else {
    b->UseRealTime();
  }
}

// The iteration counts; bench/cpython_bench.py uses the same ones.
void RegisterAll() {
  Register("fork_start_join/procspec", StartJoin, "fork", 200);
  Register("fork_start_join/floor", ForkFloor, 200);
  Register("spawn_start_join/procspec", StartJoin, "spawn", 20);
  Register("spawn_start_join/floor", SpawnFloor, 20);
  Register("forkserver_start_join/procspec", StartJoin, "forkserver", 200);
  RegisterManual("join_wakeup/procspec", JoinWakeUp, "fork", 100);
  RegisterManual("join_wakeup/floor", JoinWakeUpFloor, 100);
  RegisterManual("forkserver_join_wakeup/procspec", JoinWakeUp, "forkserver",
                 100);
  RegisterManual("terminate_join/procspec", TerminateJoin, 100);
  RegisterManual("terminate_join/floor", TerminateJoinFloor, 100);
  // The floors of a minimal static C program (bench/minimal_floor.c).
  RegisterLambda(
      "minimal_fork/floor", 200, /*manual=*/true,
      [](benchmark::State& state) { MinimalFloor(state, {"fork"}); });
  RegisterLambda(
      "minimal_spawn/floor", 20, /*manual=*/true,
      [](benchmark::State& state) { MinimalFloor(state, {"spawn"}); });
  // N children at once; the counts keep each repetition near 0.1-0.5 s.
  for (const auto& [count, iterations] :
       {std::pair{10, 20}, std::pair{100, 5}, std::pair{1000, 1}}) {
    const std::string op = "start_join_" + std::to_string(count);
    RegisterLambda(op + "/procspec", iterations, /*manual=*/false,
                   [count](benchmark::State& state) {
                     ManyStartJoin(state, "fork", count);
                   });
    RegisterLambda(
        op + "/floor", iterations, /*manual=*/false,
        [count](benchmark::State& state) { ManyForkFloor(state, count); });
    RegisterLambda("minimal_many_" + std::to_string(count) + "/floor",
                   iterations, /*manual=*/true,
                   [count](benchmark::State& state) {
                     MinimalFloor(state, {"many", std::to_string(count)});
                   });
  }
  Register("lock_uncontended/procspec", LockUncontended, 200000);
  Register("lock_uncontended/floor", LockUncontendedFloor, 200000);
  Register("lock_ping_pong/procspec", LockPingPong, 2000);
  Register("lock_ping_pong/floor", LockPingPongFloor, 2000);
  Register("pipe_round_trip/procspec", PipeRoundTrip, 5000);
  Register("pipe_round_trip/floor", PipeRoundTripFloor, 5000);
  Register("queue_small_messages/procspec", QueueSmallMessages, 3);
  Register("queue_small_messages/floor", QueueSmallMessagesFloor, 3);
  // Queue by item size (items per iteration: bench/report.py's PER_ITEM).
  for (const auto& [size, count] :
       {std::pair{std::size_t{8}, 20000}, std::pair{std::size_t{1024}, 5000},
        std::pair{std::size_t{64 * 1024}, 300},
        std::pair{std::size_t{1024 * 1024}, 20}}) {
    const std::string op = "queue_bytes_" + std::to_string(size);
    RegisterLambda(op + "/procspec", 3, /*manual=*/false,
                   [size, count](benchmark::State& state) {
                     QueueBySize(state, size, count);
                   });
    RegisterLambda(op + "/floor", 3, /*manual=*/false,
                   [size, count](benchmark::State& state) {
                     QueueBySizeFloor(state, size, count);
                   });
  }
}

}  // namespace

int main(int argc, char** argv) {
  // The spawn floor's child: the same binary, ending at once.
  if (argc > 1 && std::strcmp(argv[1], "--exit") == 0) floor::ExitNow();
  // Mapped before the fork server exists, so that its children share it.
  if (floor::SharedStamp() == nullptr) return 2;
  // Our own flags, taken out before Google Benchmark sees the rest. The
  // backend is selected before Init, so that Init forks its fork server.
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--backend=", 10) == 0) {
      if (!procspec::platform::SelectBackend(argv[i] + 10).ok()) return 2;
    } else if (std::strncmp(argv[i], "--minimal_floor=", 16) == 0) {
      g_minimal = argv[i] + 16;
    } else if (std::strncmp(argv[i], "--iterations_scale=", 19) == 0) {
      g_iterations_scale = std::atof(argv[i] + 19);
    } else {
      rest.push_back(argv[i]);
    }
  }
  procspec::Init(argc, argv, {.start_forkserver = true});
  g_self = floor::SelfPath();
  if (g_self.empty() || !floor::MakePipe(&g_ready_read, &g_ready_write) ||
      !floor::RaiseDescriptorLimit())
    return 2;
  // The minimal program is built beside this one (//bench:minimal_floor).
  if (g_minimal.empty())
    g_minimal = g_self.substr(0, g_self.rfind('/') + 1) + "minimal_floor";
  benchmark::AddCustomContext(
      "procspec_backend",
      std::string(procspec::platform::CurrentBackend().name()));
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
