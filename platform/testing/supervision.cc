// What every OS's supervised run shares: reading the progress pipe line by
// line with a deadline. It needs only the platform's WaitReadable and
// ReadSome, and `ended_signal_`, a handle that is readable (or signalled)
// once the program has ended.
#include "platform/testing/supervision.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::testing {

absl::StatusOr<std::optional<std::string>> WatchedProgram::NextLine(
    absl::Time deadline) {
  while (true) {
    if (std::size_t newline = buffer_.find('\n');
        newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return std::optional<std::string>(std::move(line));
    }
    if (!progress_.valid()) {
      if (ended_) return std::optional<std::string>();
      // Descendants that kept the pipe are gone; only the end is left.
      absl::StatusOr<std::vector<std::size_t>> ready =
          WaitReadable({ended_signal_.get()}, deadline);
      if (!ready.ok()) return ready.status();
      if (ready->empty()) return std::optional<std::string>();
      ended_ = true;
      continue;
    }
    // Once the program has ended, what is left in the pipe is read without
    // waiting: a descendant may hold the write end open for ever.
    absl::StatusOr<std::vector<std::size_t>> ready =
        ended_ ? WaitReadable({progress_.get()}, absl::InfinitePast())
               : WaitReadable({progress_.get(), ended_signal_.get()}, deadline);
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      if (ended_) progress_.reset();
      if (ended_ || absl::Now() >= deadline)
        return std::optional<std::string>();
      continue;
    }
    if (ready->back() == 1) ended_ = true;
    if (ready->front() == 0) {
      absl::StatusOr<std::string> chunk = ReadSome(progress_.get(), 65536);
      if (!chunk.ok() || chunk->empty()) {
        progress_.reset();
      } else {
        buffer_ += *chunk;
      }
    }
  }
}

}  // namespace procspec::platform::testing
