// Deadlines from CPython-style timeouts, shared by every blocking call of the
// library (join, connection.wait, a child's parent_process().join, and the
// Lock/Queue acquire and get timeouts).
//
//   None (std::nullopt)   wait without a deadline
//   t <= 0                do not wait: check once (a poll)
//   t > 0                 wait at most t seconds from now
#ifndef PROCSPEC_PROCESS_INTERNAL_DEADLINE_H_
#define PROCSPEC_PROCESS_INTERNAL_DEADLINE_H_

#include <optional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace procspec::internal {

// The deadline of a wait of `timeout` seconds (CPython's float timeout).
inline absl::Time DeadlineAfter(std::optional<double> timeout) {
  if (!timeout.has_value()) return absl::InfiniteFuture();
  if (*timeout <= 0) return absl::InfinitePast();
  return absl::Now() + absl::Seconds(*timeout);
}

// The same for a duration (absl::InfiniteDuration() waits forever).
inline absl::Time DeadlineAfter(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return absl::InfinitePast();
  return absl::Now() + timeout;
}

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_DEADLINE_H_
