#include "process/warnings.h"

#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "platform/platform.h"

namespace procspec {
namespace {

struct WarningState {
  std::mutex mu;
  WarningHook hook ABSL_GUARDED_BY(mu);
  // The pid that last warned about forking with threads: once per process, as
  // CPython's warning registry shows a message (which names the pid) once.
  platform::Pid warned_pid ABSL_GUARDED_BY(mu) = 0;
};

WarningState& State() {
  static WarningState* const state = new WarningState();
  return *state;
}

}  // namespace

WarningHook set_warning_hook(WarningHook hook) {
  WarningState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  return std::exchange(state.hook, std::move(hook));
}

std::string MultiThreadedForkMessage(long long pid) {
  return absl::StrCat(
      "This process (pid=", pid,
      ") is multi-threaded, use of fork() may lead to deadlocks in the child.");
}

namespace internal {

void Warn(const std::string& category, const std::string& message) {
  WarningHook hook;
  {
    WarningState& state = State();
    std::lock_guard<std::mutex> lock(state.mu);
    hook = state.hook;
  }
  if (hook) {
    hook(category, message);
    return;
  }
  // One write, so that the line is not interleaved with other threads' output.
  std::cerr << absl::StrCat(category, ": ", message, "\n") << std::flush;
}

void WarnIfMultiThreadedFork() {
  const std::optional<int> threads = platform::CurrentBackend().ThreadCount();
  if (!threads.has_value() || *threads <= 1) return;
  const platform::Pid pid = platform::CurrentPid();
  {
    WarningState& state = State();
    std::lock_guard<std::mutex> lock(state.mu);
    if (state.warned_pid == pid) return;
    state.warned_pid = pid;
  }
  Warn("DeprecationWarning", MultiThreadedForkMessage(pid));
}

}  // namespace internal
}  // namespace procspec
