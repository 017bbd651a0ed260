// Errors are values: every error condition CPython raises becomes an
// absl::Status carrying CPython's message text verbatim, and the Python
// exception type as a payload, so that a test (or a user porting Python code)
// can tell a ValueError from an AssertionError.
#ifndef PROCSPEC_PROCESS_ERRORS_H_
#define PROCSPEC_PROCESS_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace procspec {

// ValueError -> InvalidArgument; AssertionError -> FailedPrecondition;
// RuntimeError -> FailedPrecondition; PicklingError (something the spawn start
// method cannot send) -> InvalidArgument.
absl::Status ValueError(absl::string_view message);
absl::Status AssertionError(absl::string_view message);
absl::Status RuntimeError(absl::string_view message);
absl::Status PicklingError(absl::string_view message);
// Connections and queues. The Python type is the payload; the code
// is a hint: EOFError -> OutOfRange; OSError and its subclass BrokenPipeError
// -> Unavailable; UnpicklingError (a message that is not the value asked for,
// or does not deserialize) -> DataLoss; queue.Empty -> DeadlineExceeded;
// queue.Full -> ResourceExhausted.
absl::Status EOFError(absl::string_view message = "");
absl::Status OSError(absl::string_view message);
absl::Status BrokenPipeError(absl::string_view message);
absl::Status UnpicklingError(absl::string_view message);
// queue.Empty and queue.Full (PythonExceptionType "Empty", "Full").
absl::Status QueueEmpty();
absl::Status QueueFull();
// True for an OSError or one of its subclasses (BrokenPipeError,
// FileNotFoundError, BlockingIOError, ...).
bool IsOSError(const absl::Status& status);

// An OS failure the platform reported with CPython's OSError text ("[Errno 11]
// Resource temporarily unavailable"), tagged with the OSError subclass CPython
// raises for that errno (BlockingIOError, FileNotFoundError, PermissionError,
// ..., else OSError). Keeps the status's code and message; a status without
// the "[Errno N]" prefix is tagged OSError; OK stays OK.
absl::Status OSError(absl::Status status);

// The Python exception type the status stands for ("ValueError",
// "AssertionError", "RuntimeError", "PicklingError", "OSError", "EOFError",
// "BrokenPipeError" and the other OSError subclasses, "UnpicklingError",
// "Empty", "Full"), or "" for a status
// procspec did not make from a Python error (e.g. an OS failure that reached
// the caller untagged) and for OK.
std::string PythonExceptionType(const absl::Status& status);

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_ERRORS_H_
