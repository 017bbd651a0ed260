// The module functions: current_process, parent_process, active_children,
// cpu_count and connection.wait.
#include <optional>
#include <vector>

#include "process/connection.h"
#include "process/internal/deadline.h"
#include "process/internal/state.h"
#include "process/process.h"

namespace procspec {
namespace {

// CPython's _MainProcess: named MainProcess, always alive, never joinable.
class MainProcess final : public Process {
 public:
  MainProcess() : Process(MainProcessTag{}) {}
};

}  // namespace

Process& current_process() {
  if (Process* current = internal::ProcessState::Get().current();
      current != nullptr) {
    return *current;
  }
  // Never destroyed: exit handlers and late callers may still ask for it.
  static MainProcess* const main_process = new MainProcess();
  return *main_process;
}

ParentProcess* parent_process() {
  return internal::ProcessState::Get().parent();
}

std::vector<ChildInfo> active_children() {
  std::vector<ChildInfo> children;
  for (const auto& record : internal::ProcessState::Get().ReapAndListLive()) {
    children.push_back({record->name, record->child->pid(), record->daemon});
  }
  return children;
}

int cpu_count() { return platform::CpuCount(); }

namespace connection {

absl::StatusOr<std::vector<Handle>> wait(const std::vector<Handle>& handles,
                                         std::optional<double> timeout) {
  absl::StatusOr<absl::Time> deadline = internal::TimeoutDeadline(timeout);
  if (!deadline.ok()) return deadline.status();
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(handles, *deadline);
  if (!ready.ok()) return ready.status();
  std::vector<Handle> result;
  for (std::size_t index : *ready) result.push_back(handles[index]);
  return result;
}

}  // namespace connection
}  // namespace procspec
