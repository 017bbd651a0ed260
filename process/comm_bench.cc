// Pipe and Queue against the raw pipe floor, in the same binary and run
// (issue 6's targets: Pipe round trip <= 1.3x a raw pipe ping-pong; Queue >= 1
// million small messages per second parent -> child). Interleaved rounds;
// prints medians.
//   bazel run -c opt //process:comm_bench
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/stream.h"
#include "process/connection.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace {

namespace platform = ::procspec::platform;

constexpr int kRoundTrips = 20000;
constexpr int kRounds = 9;

double Median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

bool ReadFully(platform::NativeHandle fd, char* buffer, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const platform::IoResult got =
        platform::ReadInto(fd, buffer + done, size - done);
    if (got.error != 0 || got.bytes == 0) return false;
    done += got.bytes;
  }
  return true;
}

// One round of raw pipe ping-pong: 8 bytes each way; microseconds per round
// trip.
double RawPingPong() {
  platform::PipeEnds there = *platform::MakePipe();
  platform::PipeEnds back = *platform::MakePipe();
  const platform::NativeHandle in = there.read.get(), out = back.write.get();
  procspec::Process child([in, out] {
    char buffer[8];
    for (int i = 0; i < kRoundTrips; ++i) {
      if (!ReadFully(in, buffer, 8)) procspec::Exit(1);
      if (platform::WriteFully(out, std::string_view(buffer, 8)).error != 0)
        procspec::Exit(2);
    }
  });
  if (!child.start().ok()) std::abort();
  char buffer[8] = "pingpon";
  const absl::Time start = absl::Now();
  for (int i = 0; i < kRoundTrips; ++i) {
    if (platform::WriteFully(there.write.get(), std::string_view(buffer, 8))
            .error)
      std::abort();
    if (!ReadFully(back.read.get(), buffer, 8)) std::abort();
  }
  const absl::Duration elapsed = absl::Now() - start;
  if (!child.join().ok()) std::abort();
  return absl::ToDoubleMicroseconds(elapsed) / kRoundTrips;
}

// One round of Pipe() ping-pong with send_bytes/recv_bytes of 8 bytes
// (`values`: send/recv of a std::int64_t instead).
double PipePingPong(bool values) {
  auto [mine, theirs] = *procspec::Pipe();
  procspec::Process child([theirs, values]() mutable {
    for (int i = 0; i < kRoundTrips; ++i) {
      if (values) {
        absl::StatusOr<std::int64_t> n = theirs.recv<std::int64_t>();
        if (!n.ok() || !theirs.send(*n + 1).ok()) procspec::Exit(1);
      } else {
        absl::StatusOr<std::string> bytes = theirs.recv_bytes();
        if (!bytes.ok() || !theirs.send_bytes(*bytes).ok()) procspec::Exit(1);
      }
    }
  });
  if (!child.start().ok()) std::abort();
  theirs.close();
  std::int64_t n = 0;
  std::string bytes = "pingpong";
  const absl::Time start = absl::Now();
  for (int i = 0; i < kRoundTrips; ++i) {
    if (values) {
      if (!mine.send(n).ok()) std::abort();
      n = *mine.recv<std::int64_t>();
    } else {
      if (!mine.send_bytes(bytes).ok()) std::abort();
      bytes = *mine.recv_bytes();
    }
  }
  const absl::Duration elapsed = absl::Now() - start;
  if (!child.join().ok()) std::abort();
  return absl::ToDoubleMicroseconds(elapsed) / kRoundTrips;
}

}  // namespace

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  std::vector<double> raw, pipe_bytes, pipe_values;
  for (int round = 0; round < kRounds; ++round) {
    raw.push_back(RawPingPong());
    pipe_bytes.push_back(PipePingPong(false));
    pipe_values.push_back(PipePingPong(true));
  }
  const double raw_median = Median(raw);
  std::cout << "backend " << platform::CurrentBackend().name() << ", "
            << kRounds << " rounds of " << kRoundTrips << " round trips\n"
            << "raw pipe ping-pong, 8 bytes (median): " << raw_median << " us\n"
            << "Pipe send_bytes/recv_bytes, 8 bytes (median): "
            << Median(pipe_bytes) << " us, ratio "
            << Median(pipe_bytes) / raw_median << "\n"
            << "Pipe send/recv<int64_t> (median): " << Median(pipe_values)
            << " us, ratio " << Median(pipe_values) / raw_median << std::endl;
  return 0;
}
