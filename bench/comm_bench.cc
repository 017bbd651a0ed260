// Pipe and Queue against the raw pipe floor, in the same binary and run
// (the targets: Pipe round trip <= 1.3x a raw pipe ping-pong; Queue >= 1
// million small messages per second parent -> child). Interleaved rounds;
// prints medians.
//   bazel run -c opt //bench:comm_bench
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
#include "process/init.h"
#include "process/process.h"
#include "process/queue.h"
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

constexpr int kMessages = 1000000;

// Queue: the parent puts kMessages std::int64_t, a child gets them all;
// messages per second from the first put to the child's end.
double QueueThroughput() {
  procspec::Queue queue = *procspec::Queue::Create();
  procspec::Process child([queue]() mutable {
    for (std::int64_t i = 0; i < kMessages; ++i) {
      absl::StatusOr<std::int64_t> got = queue.get<std::int64_t>();
      if (!got.ok() || *got != i) procspec::Exit(1);
    }
  });
  if (!child.start().ok()) std::abort();
  const absl::Time start = absl::Now();
  for (std::int64_t i = 0; i < kMessages; ++i) {
    if (!queue.put(i).ok()) std::abort();
  }
  if (!child.join().ok() || **child.exitcode() != 0) std::abort();
  const absl::Duration elapsed = absl::Now() - start;
  return kMessages / absl::ToDoubleSeconds(elapsed);
}

// The floor: the same bytes (a Queue record of a std::int64_t is 4 + 17
// bytes) written to a raw pipe in PIPE_BUF writes and read by a child in
// 64 KiB reads.
double RawStreamThroughput() {
  constexpr std::size_t kRecord = 21;
  const std::size_t total = kRecord * kMessages;
  platform::PipeEnds pipe = *platform::MakePipe();
  const platform::NativeHandle in = pipe.read.get();
  procspec::Process child([in, total] {
    std::vector<char> buffer(64 * 1024);
    std::size_t got = 0;
    while (got < total) {
      const platform::IoResult r =
          platform::ReadInto(in, buffer.data(), buffer.size());
      if (r.error != 0 || r.bytes == 0) procspec::Exit(1);
      got += r.bytes;
    }
  });
  if (!child.start().ok()) std::abort();
  const std::size_t packet =
      platform::AtomicPipeWriteSize() / kRecord * kRecord;
  const std::string chunk(packet, 'r');
  const absl::Time start = absl::Now();
  for (std::size_t sent = 0; sent < total; sent += packet) {
    const std::size_t n = std::min(packet, total - sent);
    if (platform::WriteFully(pipe.write.get(),
                             std::string_view(chunk).substr(0, n))
            .error)
      std::abort();
  }
  if (!child.join().ok() || **child.exitcode() != 0) std::abort();
  const absl::Duration elapsed = absl::Now() - start;
  return kMessages / absl::ToDoubleSeconds(elapsed);
}

}  // namespace

int main(int argc, char** argv) {
  procspec::Init(argc, argv);
  // --queue: the Queue figures only (for profiling).
  const bool queue_only = argc > 1 && std::string(argv[1]) == "--queue";
  std::vector<double> raw, pipe_bytes, pipe_values;
  for (int round = 0; round < (queue_only ? 0 : kRounds); ++round) {
    raw.push_back(RawPingPong());
    pipe_bytes.push_back(PipePingPong(false));
    pipe_values.push_back(PipePingPong(true));
  }
  const double raw_median = queue_only ? 0 : Median(raw);
  if (!queue_only)
    std::cout << "backend " << platform::CurrentBackend().name() << ", "
              << kRounds << " rounds of " << kRoundTrips << " round trips\n"
              << "raw pipe ping-pong, 8 bytes (median): " << raw_median
              << " us\n"
              << "Pipe send_bytes/recv_bytes, 8 bytes (median): "
              << Median(pipe_bytes) << " us, ratio "
              << Median(pipe_bytes) / raw_median << "\n"
              << "Pipe send/recv<int64_t> (median): " << Median(pipe_values)
              << " us, ratio " << Median(pipe_values) / raw_median << std::endl;
  std::vector<double> queue, stream;
  for (int round = 0; round < 5; ++round) {
    stream.push_back(RawStreamThroughput());
    queue.push_back(QueueThroughput());
  }
  std::cout << "raw pipe stream of the same bytes (median): "
            << Median(stream) / 1e6 << " M messages/s\n"
            << "Queue put -> get, std::int64_t, parent -> child (median): "
            << Median(queue) / 1e6 << " M messages/s" << std::endl;
  return 0;
}
