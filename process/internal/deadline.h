// Deadlines from CPython-style timeouts, shared by every blocking call of the
// library (join, connection.wait, Connection.poll, the Lock, Condition, Event
// and Queue timeouts, a child's parent_process().join).
//
//   None (std::nullopt)   wait without a deadline
//   NaN                   ValueError "cannot convert float NaN to integer"
//   t <= 0                do not wait: check once (a poll)
//   t > 0                 wait at most t seconds from now (+inf: for ever)
//
// The NaN rule is one for every call: CPython 3.11 raises that ValueError
// from join, Queue.get and connection.wait, but OSError [Errno 22] from
// Lock.acquire, Event.wait and Condition.wait (sem_timedwait refuses the
// deadline), and an RLock not held by another thread acquires at once. +inf
// is "for ever" here; CPython raises OverflowError or OSError for it.
#ifndef PROCSPEC_PROCESS_INTERNAL_DEADLINE_H_
#define PROCSPEC_PROCESS_INTERNAL_DEADLINE_H_

#include <cmath>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "process/errors.h"

namespace procspec::internal {

// OK unless `timeout` is NaN: then ValueError "cannot convert float NaN to
// integer".
inline absl::Status CheckTimeout(std::optional<double> timeout) {
  if (timeout.has_value() && std::isnan(*timeout)) {
    return ValueError("cannot convert float NaN to integer");
  }
  return absl::OkStatus();
}

// The deadline of a wait of `timeout` seconds (CPython's float timeout), or
// CheckTimeout's error.
inline absl::StatusOr<absl::Time> TimeoutDeadline(
    std::optional<double> timeout) {
  if (absl::Status checked = CheckTimeout(timeout); !checked.ok())
    return checked;
  if (!timeout.has_value()) return absl::InfiniteFuture();
  if (*timeout <= 0) return absl::InfinitePast();
  return absl::Now() + absl::Seconds(*timeout);
}

// The same for a caller that has no way to report an error (or has checked
// the timeout already): a NaN timeout checks once.
inline absl::Time DeadlineAfter(std::optional<double> timeout) {
  if (!CheckTimeout(timeout).ok()) return absl::InfinitePast();
  return *TimeoutDeadline(timeout);
}

// The same for a duration (absl::InfiniteDuration() waits forever).
inline absl::Time DeadlineAfter(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return absl::InfinitePast();
  return absl::Now() + timeout;
}

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_DEADLINE_H_
