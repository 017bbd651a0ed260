// Costs of the synchronization primitives (not a test):
//  - an uncontended Lock acquire()+release() pair;
//  - a round trip between two processes over two Semaphores (one wakes the
//    other and is woken back), beside the same round trip over two pipes
//    (a 1-byte write and read each way) in the same run.
//   bazel run -c opt //process:sync_bench [-- --backend=posix]
#include <cstring>
#include <iostream>
#include <string>
#include <tuple>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/synchronize.h"
#include "process/system_exit.h"

namespace {

constexpr int kLockPairs = 1000000;
constexpr int kRoundTrips = 20000;

void SemaphoreEcho(procspec::Semaphore ping, procspec::Semaphore pong,
                   int count) {
  for (int i = 0; i < count; ++i) {
    if (!ping.acquire() || !pong.release().ok()) procspec::Exit(1);
  }
}
PROCSPEC_TARGET(SemaphoreEcho);

void PipeEcho(procspec::InheritedHandle in, procspec::InheritedHandle out,
              int count) {
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<std::string> byte =
        procspec::platform::ReadExactly(in.get(), 1);
    if (!byte.ok() || !procspec::platform::WriteAll(out.get(), *byte).ok())
      procspec::Exit(1);
  }
}
PROCSPEC_TARGET(PipeEcho);

bool Joined(procspec::Process& p) {
  return p.join().ok() && p.exitcode().ok() && p.exitcode()->value_or(1) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--backend=", 10) == 0 &&
        !procspec::platform::SelectBackend(argv[i] + 10).ok()) {
      return 2;
    }
  }
  absl::StatusOr<procspec::Lock> lock = procspec::Lock::Create();
  if (!lock.ok()) return 1;
  absl::Time start = absl::Now();
  for (int i = 0; i < kLockPairs; ++i) {
    if (!lock->acquire() || !lock->release().ok()) return 1;
  }
  const absl::Duration lock_pair = (absl::Now() - start) / kLockPairs;

  absl::StatusOr<procspec::Semaphore> ping = procspec::Semaphore::Create(0);
  absl::StatusOr<procspec::Semaphore> pong = procspec::Semaphore::Create(0);
  if (!ping.ok() || !pong.ok()) return 1;
  procspec::Process sem_child(SemaphoreEcho,
                              std::tuple{*ping, *pong, kRoundTrips});
  if (!sem_child.start().ok()) return 1;
  start = absl::Now();
  for (int i = 0; i < kRoundTrips; ++i) {
    if (!ping->release().ok() || !pong->acquire()) return 1;
  }
  const absl::Duration sem_trip = (absl::Now() - start) / kRoundTrips;
  if (!Joined(sem_child)) return 1;

  absl::StatusOr<procspec::platform::PipeEnds> to_child =
      procspec::platform::MakePipe();
  absl::StatusOr<procspec::platform::PipeEnds> to_parent =
      procspec::platform::MakePipe();
  if (!to_child.ok() || !to_parent.ok()) return 1;
  procspec::Process pipe_child(
      PipeEcho, std::tuple{procspec::InheritedHandle(to_child->read.get()),
                           procspec::InheritedHandle(to_parent->write.get()),
                           kRoundTrips});
  if (!pipe_child.start().ok()) return 1;
  start = absl::Now();
  for (int i = 0; i < kRoundTrips; ++i) {
    if (!procspec::platform::WriteAll(to_child->write.get(), "x").ok() ||
        !procspec::platform::ReadExactly(to_parent->read.get(), 1).ok()) {
      return 1;
    }
  }
  const absl::Duration pipe_trip = (absl::Now() - start) / kRoundTrips;
  if (!Joined(pipe_child)) return 1;

  std::cout << "backend " << procspec::platform::CurrentBackend().name()
            << "\nLock acquire+release, uncontended (" << kLockPairs
            << " pairs): " << lock_pair
            << "\nSemaphore round trip between two processes (" << kRoundTrips
            << "): " << sem_trip << "\nraw pipe round trip, 1 byte each way ("
            << kRoundTrips << "): " << pipe_trip << std::endl;
  return 0;
}
