// The floor a Windows spawn is compared with: a bare CreateProcessW of a
// program and a wait for its exit (floor_windows.cc, the only file of the
// Windows bench that calls the OS).
#ifndef PROCSPEC_BENCH_FLOOR_WINDOWS_H_
#define PROCSPEC_BENCH_FLOOR_WINDOWS_H_

#include <string>

namespace procspec::bench::floor {

// CreateProcessW of `program` with the argument `argument`, nothing inherited,
// then WaitForSingleObject and GetExitCodeProcess: its exit code, or -1 on a
// failure.
int CreateProcessAndWait(const std::string& program,
                         const std::string& argument);

}  // namespace procspec::bench::floor

#endif  // PROCSPEC_BENCH_FLOOR_WINDOWS_H_
