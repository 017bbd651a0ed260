#include "platform/windows/win32.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace procspec::platform::windows {

std::wstring Widen(std::string_view utf8) {
  if (utf8.empty()) return std::wstring();
  const int length = MultiByteToWideChar(CP_UTF8, 0, utf8.data(),
                                         static_cast<int>(utf8.size()),
                                         nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(std::max(length, 0)), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()),
                      wide.data(), length);
  return wide;
}

std::string Narrow(std::wstring_view utf16) {
  if (utf16.empty()) return std::string();
  const int length = WideCharToMultiByte(CP_UTF8, 0, utf16.data(),
                                         static_cast<int>(utf16.size()),
                                         nullptr, 0, nullptr, nullptr);
  std::string narrow(static_cast<std::size_t>(std::max(length, 0)), '\0');
  WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()),
                      narrow.data(), length, nullptr, nullptr);
  return narrow;
}

std::string WinErrorText(DWORD error) {
  wchar_t* buffer = nullptr;
  const DWORD length = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
          FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, error, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::string text;
  if (length > 0 && buffer != nullptr) text = Narrow({buffer, length});
  if (buffer != nullptr) LocalFree(buffer);
  // CPython drops the trailing line break and period.
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
          text.back() == '.')) {
    text.pop_back();
  }
  if (text.empty()) text = "Unknown error";
  return absl::StrCat("[WinError ", error, "] ", text);
}

namespace {

absl::StatusCode CodeOf(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case ERROR_ACCESS_DENIED:
      return absl::StatusCode::kPermissionDenied;
    case ERROR_INVALID_HANDLE:
    case ERROR_INVALID_PARAMETER:
      return absl::StatusCode::kInvalidArgument;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
      return absl::StatusCode::kFailedPrecondition;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::Status WinError(DWORD error, std::string_view what) {
  return absl::Status(CodeOf(error),
                      absl::StrCat(WinErrorText(error), ": ",
                                   absl::string_view(what.data(), what.size())));
}

absl::Status LastWinError(std::string_view what) {
  return WinError(GetLastError(), what);
}

DWORD WaitMillis(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return INFINITE;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const std::int64_t millis = absl::ToInt64Milliseconds(
      absl::Ceil(left, absl::Milliseconds(1)));
  return static_cast<DWORD>(
      std::min<std::int64_t>(millis, std::int64_t{INFINITE} - 1));
}

}  // namespace procspec::platform::windows
