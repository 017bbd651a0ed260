// Warnings procspec issues where CPython calls warnings.warn, and where they
// go.
//
// CPython 3.12's os.fork() warns when the process has more than one thread:
//   DeprecationWarning: This process (pid=1234) is multi-threaded, use of
//   fork() may lead to deadlocks in the child.
// procspec's fork start method does the same (once per process), where the
// backend can count the process's threads (platform::Backend::ThreadCount;
// "linux" reads /proc/self/stat as CPython does, "posix" cannot tell and never
// warns). The spawn and forkserver start methods do not fork this process and
// never warn: they are the recommended methods for a multi-threaded program.
#ifndef PROCSPEC_PROCESS_WARNINGS_H_
#define PROCSPEC_PROCESS_WARNINGS_H_

#include <functional>
#include <string>

namespace procspec {

// Receives a warning: its category ("DeprecationWarning") and its message.
// Called on the thread that caused the warning.
using WarningHook = std::function<void(const std::string& category,
                                       const std::string& message)>;

// Sends warnings to `hook` from now on, and returns the hook in use before
// (nullptr for the default). nullptr restores the default, which writes
// "<category>: <message>" and a newline to stderr (CPython's format without the
// "file:line: " prefix and the source line). Thread-safe.
WarningHook set_warning_hook(WarningHook hook);

// The exact text CPython 3.12 warns with before forking a process that has
// `pid` and more than one thread.
std::string MultiThreadedForkMessage(long long pid);

namespace internal {
// Issues a warning through the hook in use.
void Warn(const std::string& category, const std::string& message);
// Before this process forks a child (the fork start method): warns once per
// process if it has more than one thread.
void WarnIfMultiThreadedFork();
}  // namespace internal

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_WARNINGS_H_
