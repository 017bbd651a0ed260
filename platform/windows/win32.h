// The Win32 helpers the windows backend's files share: <windows.h> without
// its min/max macros, HANDLE <-> NativeHandle, UTF-8 <-> UTF-16, and errors
// as CPython words them ("[WinError 2] The system cannot find the file
// specified").
#ifndef PROCSPEC_PLATFORM_WINDOWS_WIN32_H_
#define PROCSPEC_PLATFORM_WINDOWS_WIN32_H_

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "platform/platform.h"

namespace procspec::platform::windows {

inline HANDLE ToHandle(NativeHandle handle) {
  return reinterpret_cast<HANDLE>(handle);
}
inline NativeHandle FromHandle(HANDLE handle) {
  return reinterpret_cast<NativeHandle>(handle);
}

std::wstring Widen(std::string_view utf8);
std::string Narrow(std::wstring_view utf16);

// CPython's OSError text for a Win32 error code: "[WinError 5] Access is
// denied" (FormatMessage's text without its final period and line break).
std::string WinErrorText(DWORD error);
// A status for a failed call: the code `error` maps to, CPython's text and
// what failed ("[WinError 6] The handle is invalid: CloseHandle").
absl::Status WinError(DWORD error, std::string_view what);
// WinError(GetLastError(), what).
absl::Status LastWinError(std::string_view what);

// Milliseconds for a Win32 wait until `deadline`: 0 for a past deadline,
// INFINITE for absl::InfiniteFuture(), otherwise rounded up (a wait never
// ends before its deadline because of rounding) and capped below INFINITE
// (the caller waits again while the deadline has not passed).
DWORD WaitMillis(absl::Time deadline);

// TerminateProcess's exit code for terminate() and kill(), as CPython's
// Popen.terminate on Windows uses; a child that ended with it reports
// -SIGTERM, as CPython does.
inline constexpr UINT kTerminatedExitCode = 0x10000;
inline constexpr int kSigterm = 15;

// A Windows exit code as an ExitStatus: kTerminatedExitCode as -SIGTERM (as
// CPython's Popen.wait on Windows reports it), any other code as itself (32
// bits: a crash's NTSTATUS 0xC0000005 reads as a negative int).
inline ExitStatus ExitStatusFromCode(DWORD code) {
  if (code == kTerminatedExitCode) return {.signaled = true, .value = kSigterm};
  return {.signaled = false, .value = static_cast<int>(code)};
}

}  // namespace procspec::platform::windows

#endif  // PROCSPEC_PLATFORM_WINDOWS_WIN32_H_
