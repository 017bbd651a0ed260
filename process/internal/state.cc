#include "process/internal/state.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "process/internal/forkserver.h"

namespace procspec::internal {
namespace {

// The state lives for the whole process and is never destroyed, so that the
// exit handler and children's bootstraps never see it half torn down. In a
// child it is replaced, not reset: a mutex another thread held at fork time
// must not be inherited locked.
ProcessState* g_state = nullptr;

std::string RandomAuthkey() {
  std::random_device random;
  std::string key(32, '\0');
  for (char& byte : key) byte = static_cast<char>(random() & 0xff);
  return key;
}

void RunExitHandlingAtExit() { ProcessState::Get().RunExitHandling(); }

}  // namespace

ProcessState::ProcessState(std::string main_authkey)
    : main_authkey_(std::move(main_authkey)) {}

ProcessState& ProcessState::Get() {
  // In a child, ResetForChild may have installed its state before this
  // process ever asked for one.
  static ProcessState* const first = [] {
    if (g_state == nullptr) g_state = new ProcessState(RandomAuthkey());
    return g_state;
  }();
  (void)first;
  return *g_state;
}

void ProcessState::ResetForChild(Process* self, std::vector<int> identity,
                                 std::unique_ptr<ParentProcess> parent) {
  // Not Get(): a process that forked without ever using its state (a fork
  // server) leaves none to inherit, and making one would draw a main authkey
  // that nothing in a child reads (its current process has its own).
  ProcessState* const old_state = g_state;
  // std::random_device's set-up probes the CPU (cpuid), a trap to the
  // hypervisor in a VM: no random bytes are drawn in a child.
  auto* fresh = new ProcessState(old_state != nullptr ? old_state->main_authkey_
                                                      : std::string());
  fresh->current_ = self;
  fresh->parent_ = std::move(parent);
  fresh->identity_ = std::move(identity);
  fresh->inherited_ = old_state;
  // The old state (and the records of the parent's other children in it) is
  // never destroyed: its handles belong to the parent, and the backend already
  // closed them here. `inherited_` keeps it reachable.
  g_state = fresh;
}

int ProcessState::NextCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return counter_++;
}

void ProcessState::AddChild(std::shared_ptr<ChildRecord> record) {
  std::lock_guard<std::mutex> lock(mu_);
  children_.push_back(std::move(record));
}

void ProcessState::RemoveChild(const ChildRecord* record) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(children_,
                [record](const auto& child) { return child.get() == record; });
}

std::vector<std::shared_ptr<ChildRecord>> ProcessState::ReapAndListLive() {
  std::vector<std::shared_ptr<ChildRecord>> children;
  {
    std::lock_guard<std::mutex> lock(mu_);
    children = children_;
  }
  std::vector<std::shared_ptr<ChildRecord>> live;
  for (auto& record : children) {
    absl::StatusOr<std::optional<platform::ExitStatus>> status =
        record->child->Wait(absl::InfinitePast());
    if (status.ok() && status->has_value()) {
      RemoveChild(record.get());
    } else {
      live.push_back(std::move(record));
    }
  }
  return live;
}

void ProcessState::RunExitHandling() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exiting_) return;
    exiting_ = true;
  }
  for (const auto& record : ReapAndListLive()) {
    if (record->daemon)
      (void)record->child->SendSignal(platform::Signal::kTerminate);
  }
  for (const auto& record : ReapAndListLive()) {
    (void)record->child->Wait(absl::InfiniteFuture());
    RemoveChild(record.get());
  }
  // After the children: a forkserver child's status comes from its server.
  ForkServers::StopAll();
}

void ProcessState::EnsureExitHandlerRegistered() {
  std::lock_guard<std::mutex> lock(mu_);
  if (exit_handler_registered_ || current_ != nullptr) return;
  exit_handler_registered_ = true;
  std::atexit(&RunExitHandlingAtExit);
}

}  // namespace procspec::internal
