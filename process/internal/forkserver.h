// The forkserver start method's servers: one per backend, started by
// procspec::Init (fork, while the program has one thread) or on the first
// forkserver start() (a fresh run of the program), and restarted when one has
// died.
#ifndef PROCSPEC_PROCESS_INTERNAL_FORKSERVER_H_
#define PROCSPEC_PROCESS_INTERNAL_FORKSERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace procspec::internal {

class ForkServers {
 public:
  // From Init: forks the current backend's server now, unless it runs.
  static absl::Status ForkNow();
  // Has the current backend's server fork a child for `payload` (a spawn
  // bootstrap). Starts a server (a fresh run of the program) if there is none
  // or it has died, and retries once on a server that died meanwhile.
  // `handles` reach the child with the request; with `die_with_parent` the
  // child is killed when this process dies.
  static absl::StatusOr<std::unique_ptr<platform::ChildProcess>> StartChild(
      const std::string& payload,
      const std::vector<platform::NativeHandle>& handles, bool die_with_parent);
  // At exit (ProcessState::RunExitHandling): stops and reaps this process's
  // servers, so that none is left a zombie or an orphan.
  static void StopAll();
  // The pid of the current backend's server, if one runs (CPython's
  // forkserver._forkserver_pid); for tests.
  static std::optional<platform::Pid> ServerPid();
};

// The payload that makes a spawned process a fork server.
extern const char kForkServerMagic[];

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_FORKSERVER_H_
