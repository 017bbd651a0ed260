// The per-OS-process state behind the module functions: which Process object is
// current, the counter that names new Process objects, the registry of started
// children, and the parent. CPython keeps the same as module globals
// (_current_process, _process_counter, _children, _parent_process) and resets
// them in every child; so does ResetForChild.
#ifndef PROCSPEC_PROCESS_INTERNAL_STATE_H_
#define PROCSPEC_PROCESS_INTERNAL_STATE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "platform/platform.h"
#include "process/process.h"

namespace procspec::internal {

// A started child. Shared by its Process object and the registry, so that a
// child outlives a Process object destroyed while it runs: it is still listed
// by active_children() and joined at exit, as in CPython.
struct ChildRecord {
  std::unique_ptr<platform::ChildProcess> child;
  std::string name;
  bool daemon = false;
  // Spawned children: the random token that opens and closes the bootstrap
  // the parent sent (empty for a forked child).
  std::string spawn_token;
};

class ProcessState {
 public:
  // The state of the calling OS process.
  static ProcessState& Get();

  // In a freshly forked child, before it runs: `self` becomes the current
  // process, the counter restarts at 1, the children inherited from the
  // parent's memory are forgotten (their handles were closed by the backend)
  // and `parent` becomes parent_process().
  static void ResetForChild(Process* self, std::vector<int> identity,
                            std::unique_ptr<ParentProcess> parent);

  // The current Process object, or nullptr in the main process.
  Process* current() const { return current_; }
  ParentProcess* parent() const { return parent_.get(); }
  const std::vector<int>& identity() const { return identity_; }
  const std::string& main_authkey() const { return main_authkey_; }

  // The next N for a new Process object's name.
  int NextCount();

  void AddChild(std::shared_ptr<ChildRecord> record);
  void RemoveChild(const ChildRecord* record);
  // CPython's _cleanup(): reaps the children that have ended and forgets them;
  // returns the rest.
  std::vector<std::shared_ptr<ChildRecord>> ReapAndListLive();

  // CPython's util._exit_function(): on a normal exit, terminate the daemonic
  // children still running, then join every child. Runs once per process.
  void RunExitHandling();
  // Registers RunExitHandling with std::atexit, once (in the main process).
  void EnsureExitHandlerRegistered();

 private:
  explicit ProcessState(std::string main_authkey);

  std::mutex mu_;
  int counter_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::shared_ptr<ChildRecord>> children_ ABSL_GUARDED_BY(mu_);
  bool exiting_ ABSL_GUARDED_BY(mu_) = false;
  bool exit_handler_registered_ ABSL_GUARDED_BY(mu_) = false;

  // Written only while single-threaded (at creation, and in a child before it
  // runs).
  Process* current_ = nullptr;
  std::unique_ptr<ParentProcess> parent_;
  std::vector<int> identity_;
  std::string main_authkey_;
  // In a child: the state inherited from the parent's memory. Never destroyed
  // (its handles are the parent's, already closed here by the backend), and
  // kept reachable so that leak checkers see it is abandoned on purpose.
  ProcessState* inherited_ = nullptr;
};

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_STATE_H_
