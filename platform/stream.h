// Byte streams for Connection and Queue: reads into a caller's buffer (no
// allocation per read), writes that report errno, and the SIGPIPE disposition
// CPython sets at start-up. POSIX.1-2008 only.
#ifndef PROCSPEC_PLATFORM_STREAM_H_
#define PROCSPEC_PLATFORM_STREAM_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "platform/platform.h"

namespace procspec::platform {

// The outcome of one read or write: `bytes` transferred, or `error` (an errno
// value, the OS's number; 0 on success).
struct IoResult {
  std::size_t bytes = 0;
  int error = 0;
};

// One read() of at most `size` bytes into `buffer`; EINTR is retried. 0 bytes
// with no error is end of file.
IoResult ReadInto(NativeHandle handle, char* buffer, std::size_t size);

// Writes all of `data` (retrying EINTR and short writes); `bytes` is what was
// written before an error.
IoResult WriteFully(NativeHandle handle, std::string_view data);

// PIPE_BUF: a write of at most this many bytes to a pipe is atomic (never
// interleaved with other writers, never partly done), even if the writer is
// killed during it.
std::size_t AtomicPipeWriteSize();

// "[Errno 32] Broken pipe": CPython's str() of an OSError for `error`.
std::string ErrnoText(int error);

// The errno value of a broken pipe (EPIPE), for callers that map it to
// BrokenPipeError.
int BrokenPipeErrno();

// Sets SIGPIPE to "ignore" unless the program installed a handler of its own,
// as CPython does at start-up, so that a write to a pipe nobody reads fails
// with EPIPE instead of ending the process. Idempotent and thread-safe. The
// disposition is inherited by children, across exec too.
void IgnoreBrokenPipeSignal();

}  // namespace procspec::platform

#endif  // PROCSPEC_PLATFORM_STREAM_H_
