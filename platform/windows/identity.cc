// Process identity, signal names and the standard streams on Windows.
#include <fcntl.h>
#include <io.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "platform/platform.h"
#include "platform/windows/win32.h"

namespace procspec::platform {

namespace internal {
// Windows has no fork(): the generation never changes.
std::atomic<std::uint64_t> fork_generation{0};
}  // namespace internal

Pid CurrentPid() { return static_cast<Pid>(GetCurrentProcessId()); }

int CpuCount() {
  // CPython 3.11's os.cpu_count() on Windows.
  const DWORD count = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  return count < 1 ? 1 : static_cast<int>(count);
}

// CPython's sys.executable on Windows is the module file of the running
// program, whatever argv[0] says: the path is asked of the OS, not recorded.
void RecordProgramPath(const char* argv0) { (void)argv0; }

std::string ProgramPath() {
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    const DWORD length =
        GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (length == 0) return "";
    if (length < path.size()) {
      path.resize(length);
      return windows::Narrow(path);
    }
    path.resize(path.size() * 2);
  }
}

absl::Status RedirectStdinToNull() {
  const int null_fd = _open("NUL", _O_RDONLY | _O_NOINHERIT);
  if (null_fd < 0) return absl::InternalError("cannot open NUL");
  const int result = _dup2(null_fd, 0);
  _close(null_fd);
  if (result != 0) return absl::InternalError("cannot make NUL standard input");
  SetStdHandle(STD_INPUT_HANDLE, reinterpret_cast<HANDLE>(_get_osfhandle(0)));
  clearerr(stdin);
  std::cin.clear();
  return absl::OkStatus();
}

void ExitImmediately(int code) {
  // Neither atexit handlers nor static destructors; the C runtime's streams
  // are not flushed either (FlushStandardStreams does that first).
  TerminateProcess(GetCurrentProcess(), static_cast<UINT>(code));
  _exit(code);
}

// Windows has no signals to send: terminate() and kill() both end the child
// with TerminateProcess, which CPython reports as -SIGTERM, so both map to
// SIGTERM's number. SIGINT has its C runtime number.
int SignalNumber(Signal signal) {
  switch (signal) {
    case Signal::kTerminate:
    case Signal::kKill:
      return windows::kSigterm;
    case Signal::kInterrupt:
      return 2;
  }
  return windows::kSigterm;
}

// The names of Python's signal.Signals on Windows (its C runtime's signals).
std::string SignalName(int signal_number) {
  switch (signal_number) {
    case 2:
      return "SIGINT";
    case 4:
      return "SIGILL";
    case 8:
      return "SIGFPE";
    case 11:
      return "SIGSEGV";
    case 15:
      return "SIGTERM";
    case 21:
      return "SIGBREAK";
    case 22:
      return "SIGABRT";
    default:
      return "";
  }
}

}  // namespace procspec::platform
