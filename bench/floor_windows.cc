#include "bench/floor_windows.h"

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstddef>
#include <string>

namespace procspec::bench::floor {

int CreateProcessAndWait(const std::string& program,
                         const std::string& argument) {
  const std::wstring wide_program(program.begin(), program.end());
  std::wstring command_line = L"\"" + wide_program + L"\" " +
                              std::wstring(argument.begin(), argument.end());
  STARTUPINFOW startup{};
  startup.cb = sizeof(startup);
  PROCESS_INFORMATION info{};
  if (!CreateProcessW(wide_program.c_str(), command_line.data(), nullptr,
                      nullptr, FALSE, 0, nullptr, nullptr, &startup, &info)) {
    return -1;
  }
  WaitForSingleObject(info.hProcess, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(info.hProcess, &code);
  CloseHandle(info.hThread);
  CloseHandle(info.hProcess);
  return static_cast<int>(code);
}

}  // namespace procspec::bench::floor

namespace procspec::bench::floor {
namespace {

double NanosPer(LARGE_INTEGER start, LARGE_INTEGER end, LARGE_INTEGER frequency,
                int iterations) {
  return static_cast<double>(end.QuadPart - start.QuadPart) * 1e9 /
         static_cast<double>(frequency.QuadPart) / iterations;
}

}  // namespace

double SemaphoreReleaseWaitNanos(int iterations) {
  HANDLE semaphore = CreateSemaphoreW(nullptr, 0, 1, nullptr);
  if (semaphore == nullptr) return -1;
  LARGE_INTEGER frequency, start, end;
  QueryPerformanceFrequency(&frequency);
  QueryPerformanceCounter(&start);
  bool ok = true;
  for (int i = 0; i < iterations && ok; ++i) {
    ok = ReleaseSemaphore(semaphore, 1, nullptr) &&
         WaitForSingleObject(semaphore, INFINITE) == WAIT_OBJECT_0;
  }
  QueryPerformanceCounter(&end);
  CloseHandle(semaphore);
  return ok ? NanosPer(start, end, frequency, iterations) : -1;
}

double PipeWriteReadNanos(int iterations, int size) {
  HANDLE read = nullptr, write = nullptr;
  if (!CreatePipe(&read, &write, nullptr, 64 * 1024)) return -1;
  std::string out(static_cast<std::size_t>(size), 'x');
  std::string in(out.size(), '\0');
  LARGE_INTEGER frequency, start, end;
  QueryPerformanceFrequency(&frequency);
  QueryPerformanceCounter(&start);
  bool ok = true;
  for (int i = 0; i < iterations && ok; ++i) {
    DWORD written = 0, got = 0;
    ok = WriteFile(write, out.data(), static_cast<DWORD>(out.size()), &written,
                   nullptr) &&
         ReadFile(read, in.data(), static_cast<DWORD>(in.size()), &got,
                  nullptr) &&
         got == out.size();
  }
  QueryPerformanceCounter(&end);
  CloseHandle(read);
  CloseHandle(write);
  return ok ? NanosPer(start, end, frequency, iterations) : -1;
}

}  // namespace procspec::bench::floor
