// How each start method makes a child: CPython's Popen classes
// (popen_fork.Popen, popen_spawn_posix.Popen, popen_forkserver.Popen), which
// each context's Process class names as its _Popen. A Context holds one; a
// Process's start() asks it for the child and never compares method names.
#ifndef PROCSPEC_PROCESS_INTERNAL_POPEN_H_
#define PROCSPEC_PROCESS_INTERNAL_POPEN_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace procspec {

class Process;

namespace internal {

// What start() has decided before the start method runs.
struct StartRequest {
  bool die_with_parent = false;
};

// The child a start method made.
struct StartedChild {
  std::unique_ptr<platform::ChildProcess> child;
  // The random token that opens and closes the bootstrap a spawned or served
  // child read (empty under fork).
  std::string spawn_token;
};

class Popen {
 public:
  virtual ~Popen() = default;

  // "fork", "spawn", "forkserver".
  virtual std::string_view method() const = 0;
  // The class of the context's Process in CPython (ctx.Process):
  // "ForkProcess", "SpawnProcess", "ForkServerProcess".
  virtual std::string_view process_class() const = 0;
  // Whether the method forks this process (fork), or starts the program from
  // its main (spawn, and the fork server's children, which a fresh run of the
  // program forks): then the main guard applies and everything the child gets
  // is serialized.
  virtual bool runs_main_again() const = 0;
  // Whether the method needs Backend::Fork: where the backend cannot fork
  // (Windows), the method does not exist, as in CPython there.
  virtual bool needs_fork() const = 0;

  // Makes the child that runs `process`. A failure means no child ran the
  // target, and the Process may be started again: PicklingError for what
  // cannot be sent to a spawned or served child, an OS failure (fork: EAGAIN;
  // exec: ENOENT) tagged with its OSError subclass (errors.h).
  virtual absl::StatusOr<StartedChild> Start(
      Process& process, const StartRequest& request) const = 0;
};

// The three methods, each one object for the whole program.
const Popen& ForkPopen();
const Popen& SpawnPopen();
const Popen& ForkServerPopen();

}  // namespace internal
}  // namespace procspec

#endif  // PROCSPEC_PROCESS_INTERNAL_POPEN_H_
