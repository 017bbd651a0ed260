// Handles, pipes and waits on Windows.
//
// A pipe is a named pipe with a random name, opened at once by its own write
// end (one instance, so nothing else can connect): its read end is
// overlapped, which makes it waitable. WaitReadable starts a zero-byte
// overlapped read on each pipe, which completes when data arrives or the
// writer goes (what CPython's multiprocessing.connection.wait does on
// Windows), and waits on those reads' events together with the waitable
// objects (process handles) in one WaitForMultipleObjects: event-driven, no
// polling.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "platform/internal/growing_read.h"
#include "platform/platform.h"
#include "platform/stream.h"
#include "platform/windows/win32.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform {

void UniqueHandle::reset(NativeHandle handle) {
  const NativeHandle old = std::exchange(handle_, handle);
  if (old != kInvalidHandle && old != 0) CloseHandle(windows::ToHandle(old));
}

namespace {

constexpr DWORD kPipeBufferSize = 64 * 1024;

std::wstring NewPipeName() {
  static std::atomic<std::uint64_t> counter{0};
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return windows::Widen(absl::StrCat(
      "\\\\.\\pipe\\procspec-", GetCurrentProcessId(), "-",
      counter.fetch_add(1, std::memory_order_relaxed), "-", random()));
}

// An event for one overlapped operation, closed on destruction.
struct Overlapped {
  OVERLAPPED overlapped{};
  Overlapped() {
    overlapped.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  }
  ~Overlapped() {
    if (overlapped.hEvent != nullptr) CloseHandle(overlapped.hEvent);
  }
  Overlapped(const Overlapped&) = delete;
  Overlapped& operator=(const Overlapped&) = delete;
};

bool IsEndOfPipe(DWORD error) {
  return error == ERROR_BROKEN_PIPE || error == ERROR_HANDLE_EOF ||
         error == ERROR_PIPE_NOT_CONNECTED;
}

// One ReadFile (overlapped handles included): the bytes read, 0 at the end
// of the pipe, or the error.
absl::StatusOr<std::size_t> ReadOnce(HANDLE handle, char* buffer,
                                     std::size_t size) {
  Overlapped op;
  if (op.overlapped.hEvent == nullptr) return windows::LastWinError("CreateEvent");
  DWORD read = 0;
  const DWORD wanted =
      static_cast<DWORD>(std::min<std::size_t>(size, 1u << 30));
  if (!ReadFile(handle, buffer, wanted, &read, &op.overlapped)) {
    DWORD error = GetLastError();
    if (error == ERROR_IO_PENDING) {
      if (GetOverlappedResult(handle, &op.overlapped, &read, TRUE))
        return static_cast<std::size_t>(read);
      error = GetLastError();
    }
    if (IsEndOfPipe(error)) return std::size_t{0};
    return windows::WinError(error, "ReadFile");
  }
  return static_cast<std::size_t>(read);
}

// Writes what it can of `data` in one WriteFile: the bytes written, or the
// error.
absl::StatusOr<std::size_t> WriteOnce(HANDLE handle, std::string_view data) {
  Overlapped op;
  if (op.overlapped.hEvent == nullptr) return windows::LastWinError("CreateEvent");
  DWORD written = 0;
  const DWORD wanted =
      static_cast<DWORD>(std::min<std::size_t>(data.size(), 1u << 30));
  if (!WriteFile(handle, data.data(), wanted, &written, &op.overlapped)) {
    DWORD error = GetLastError();
    if (error == ERROR_IO_PENDING) {
      if (GetOverlappedResult(handle, &op.overlapped, &written, TRUE))
        return static_cast<std::size_t>(written);
      error = GetLastError();
    }
    return windows::WinError(error, "WriteFile");
  }
  return static_cast<std::size_t>(written);
}

}  // namespace

absl::StatusOr<PipeEnds> windows::WindowsBackend::MakePipe() {
  // Neither end is inheritable: Spawn passes exactly the handles it lists.
  const std::wstring name = NewPipeName();
  HANDLE read = CreateNamedPipeW(
      name.c_str(),
      PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
          PIPE_REJECT_REMOTE_CLIENTS,
      1, kPipeBufferSize, kPipeBufferSize, 0, nullptr);
  if (read == INVALID_HANDLE_VALUE)
    return windows::LastWinError("CreateNamedPipe");
  PipeEnds ends;
  ends.read.reset(windows::FromHandle(read));
  HANDLE write = CreateFileW(name.c_str(), GENERIC_WRITE, 0, nullptr,
                             OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (write == INVALID_HANDLE_VALUE) return windows::LastWinError("CreateFile");
  ends.write.reset(windows::FromHandle(write));
  return ends;
}

absl::Status WriteAll(NativeHandle handle, std::string_view data) {
  while (!data.empty()) {
    absl::StatusOr<std::size_t> written =
        WriteOnce(windows::ToHandle(handle), data);
    if (!written.ok()) return written.status();
    data.remove_prefix(*written);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSome(NativeHandle handle,
                                     std::size_t max_bytes) {
  std::string buffer(std::min<std::size_t>(max_bytes, 1 << 20), '\0');
  if (buffer.empty()) return buffer;
  absl::StatusOr<std::size_t> read =
      ReadOnce(windows::ToHandle(handle), buffer.data(), buffer.size());
  if (!read.ok()) return read.status();
  buffer.resize(*read);
  return buffer;
}

absl::StatusOr<std::string> ReadExactly(NativeHandle handle,
                                        std::size_t size) {
  return internal::ReadGrowing(
      size, [&](char* buffer, std::size_t capacity) {
        return ReadOnce(windows::ToHandle(handle), buffer, capacity);
      });
}

namespace {

// A zero-byte overlapped read on a pipe, cancelled and finished on
// destruction (the OVERLAPPED must outlive the operation).
class ReadinessProbe {
 public:
  explicit ReadinessProbe(HANDLE pipe) : pipe_(pipe) {}
  ~ReadinessProbe() {
    if (pending_) {
      CancelIoEx(pipe_, &op_.overlapped);
      DWORD ignored = 0;
      GetOverlappedResult(pipe_, &op_.overlapped, &ignored, TRUE);
    }
  }
  ReadinessProbe(const ReadinessProbe&) = delete;
  ReadinessProbe& operator=(const ReadinessProbe&) = delete;

  // True: readable (or at its end) now. False: `event()` will be set when it
  // becomes so.
  absl::StatusOr<bool> Start() {
    DWORD available = 0;
    if (!PeekNamedPipe(pipe_, nullptr, 0, nullptr, &available, nullptr)) {
      const DWORD error = GetLastError();
      if (IsEndOfPipe(error)) return true;
      return windows::WinError(error, "PeekNamedPipe");
    }
    if (available > 0) return true;
    if (op_.overlapped.hEvent == nullptr)
      return windows::LastWinError("CreateEvent");
    char unused = 0;
    if (ReadFile(pipe_, &unused, 0, nullptr, &op_.overlapped)) return true;
    const DWORD error = GetLastError();
    if (error == ERROR_IO_PENDING) {
      pending_ = true;
      return false;
    }
    if (IsEndOfPipe(error) || error == ERROR_MORE_DATA) return true;
    return windows::WinError(error, "ReadFile");
  }
  HANDLE event() const { return op_.overlapped.hEvent; }

 private:
  HANDLE pipe_;
  Overlapped op_;
  bool pending_ = false;
};

}  // namespace

absl::StatusOr<std::vector<std::size_t>> WaitReadable(
    absl::Span<const NativeHandle> handles, absl::Time deadline) {
  if (handles.size() > MAXIMUM_WAIT_OBJECTS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", MAXIMUM_WAIT_OBJECTS, " handles can be waited on at once"));
  }
  std::vector<std::size_t> ready;
  std::vector<std::unique_ptr<ReadinessProbe>> probes;
  std::vector<HANDLE> objects;
  std::vector<std::size_t> index_of_object;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    HANDLE handle = windows::ToHandle(handles[i]);
    DWORD flags = 0;
    if (handles[i] == kInvalidHandle || handles[i] == 0 ||
        !GetHandleInformation(handle, &flags)) {
      return absl::InvalidArgumentError(
          absl::StrCat("handle ", handles[i], " is not open"));
    }
    if (GetFileType(handle) == FILE_TYPE_PIPE) {
      auto probe = std::make_unique<ReadinessProbe>(handle);
      absl::StatusOr<bool> now = probe->Start();
      if (!now.ok()) return now.status();
      if (*now) {
        ready.push_back(i);
        continue;
      }
      objects.push_back(probe->event());
      probes.push_back(std::move(probe));
    } else {
      objects.push_back(handle);
    }
    index_of_object.push_back(i);
  }
  // Something is ready already: report it with whatever else is, at once.
  if (!ready.empty()) deadline = absl::InfinitePast();
  if (!objects.empty()) {
    for (;;) {
      const DWORD result =
          WaitForMultipleObjects(static_cast<DWORD>(objects.size()),
                                 objects.data(), FALSE, windows::WaitMillis(deadline));
      if (result == WAIT_FAILED)
        return windows::LastWinError("WaitForMultipleObjects");
      if (result != WAIT_TIMEOUT) break;
      // A timeout never comes early: wait again for what rounding left.
      if (absl::Now() >= deadline) break;
    }
    for (std::size_t k = 0; k < objects.size(); ++k) {
      if (WaitForSingleObject(objects[k], 0) == WAIT_OBJECT_0)
        ready.push_back(index_of_object[k]);
    }
  } else if (ready.empty() && deadline != absl::InfinitePast()) {
    // No handles: wait until the deadline.
    while (absl::Now() < deadline) Sleep(windows::WaitMillis(deadline));
  }
  std::sort(ready.begin(), ready.end());
  return ready;
}

// ---- stream.h

namespace {

// The errno values CPython's OSError shows for the pipe errors Connection
// and Queue tell apart.
constexpr int kErrnoBrokenPipe = 32;
constexpr int kErrnoInvalid = 22;

int ErrnoOf(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status)) return kErrnoBrokenPipe;
  return kErrnoInvalid;
}

}  // namespace

IoResult ReadInto(NativeHandle handle, char* buffer, std::size_t size) {
  absl::StatusOr<std::size_t> read =
      ReadOnce(windows::ToHandle(handle), buffer, size);
  if (!read.ok()) return {0, ErrnoOf(read.status())};
  return {*read, 0};
}

IoResult WriteFully(NativeHandle handle, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    absl::StatusOr<std::size_t> written =
        WriteOnce(windows::ToHandle(handle), data.substr(done));
    if (!written.ok()) return {done, ErrnoOf(written.status())};
    done += *written;
  }
  return {done, 0};
}

// Windows documents no PIPE_BUF. A WriteFile on a byte-mode pipe enters it
// as one unit: writers do not interleave, and under Wine a writer killed while
// blocked in a write of 4096 bytes (the pipe full, nobody reading) left the
// record whole or absent, never a part (Queue's cancel_join_thread clause, 40
// runs); with 512, items above it were split into several writes and a
// killed feeder left half an item. 4096 is Linux's PIPE_BUF, far below the
// pipe's 64 KiB buffer.
std::size_t AtomicPipeWriteSize() { return 4096; }

std::string ErrnoText(int error) {
  if (error == kErrnoBrokenPipe) return "[Errno 32] Broken pipe";
  return absl::StrCat("[Errno ", error, "] Invalid argument");
}

int BrokenPipeErrno() { return kErrnoBrokenPipe; }

// Windows has no SIGPIPE: a write to a pipe nobody reads fails.
void IgnoreBrokenPipeSignal() {}

}  // namespace procspec::platform
