#include "process/internal/popen.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "process/errors.h"
#include "process/internal/bootstrap.h"
#include "process/internal/forkserver.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/warnings.h"

namespace procspec::internal {
namespace {

// CPython's popen_fork: the child is a copy of this process and runs the
// Process object it finds in its memory.
class ForkMethod final : public Popen {
 public:
  std::string_view method() const override { return "fork"; }
  std::string_view process_class() const override { return "ForkProcess"; }
  bool runs_main_again() const override { return false; }
  bool needs_fork() const override { return true; }

  absl::StatusOr<StartedChild> Start(
      Process& process, const StartRequest& request) const override {
    // CPython 3.12's os.fork(): a DeprecationWarning when other threads exist
    // (they do not exist in the child, and may hold locks it needs).
    WarnIfMultiThreadedFork();
    // Backend::Fork flushes the standard streams itself, just before it forks.
    platform::ForkOptions options;
    options.die_with_parent = request.die_with_parent;
    absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
        platform::CurrentBackend().Fork(
            options, [&process](platform::ChildContext& context) {
              return Bootstrap::Run(process, context);
            });
    if (!child.ok()) return OSError(child.status());
    return StartedChild{*std::move(child), ""};
  }
};

// What spawn and forkserver share: the Process serialized in the parent, as
// CPython pickles it, so that what cannot be sent fails here and the object
// may be started again.
struct Serialized {
  std::string payload;
  std::string token;
  std::vector<platform::NativeHandle> handles;
};

absl::StatusOr<Serialized> Serialize(Process& process,
                                     std::string_view method) {
  Serialized serialized;
  absl::StatusOr<std::string> payload =
      Bootstrap::SpawnPayload(process, std::string(method), &serialized.token,
                              &serialized.handles);
  if (!payload.ok()) return payload.status();
  serialized.payload = *std::move(payload);
  return serialized;
}

// CPython's popen_spawn_posix (popen_spawn_win32 on Windows): a fresh run of
// this program, which reads the serialized Process in Init().
class SpawnMethod final : public Popen {
 public:
  std::string_view method() const override { return "spawn"; }
  std::string_view process_class() const override { return "SpawnProcess"; }
  bool runs_main_again() const override { return true; }
  bool needs_fork() const override { return false; }

  absl::StatusOr<StartedChild> Start(
      Process& process, const StartRequest& request) const override {
    absl::StatusOr<Serialized> serialized = Serialize(process, method());
    if (!serialized.ok()) return serialized.status();
    platform::SpawnOptions options;
    options.executable = get_executable();
    // CPython's child gets the parent's sys.argv.
    options.argv = spawn_internal::ProgramArguments();
    options.payload = std::move(serialized->payload);
    options.handles = std::move(serialized->handles);
    options.die_with_parent = request.die_with_parent;
    absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
        platform::CurrentBackend().Spawn(options);
    if (!child.ok()) return OSError(child.status());
    return StartedChild{*std::move(child), std::move(serialized->token)};
  }
};

// CPython's popen_forkserver: a server process (a fresh run of this program)
// forks the child, which reads the serialized Process.
class ForkServerMethod final : public Popen {
 public:
  std::string_view method() const override { return "forkserver"; }
  std::string_view process_class() const override {
    return "ForkServerProcess";
  }
  bool runs_main_again() const override { return true; }
  bool needs_fork() const override { return true; }

  absl::StatusOr<StartedChild> Start(
      Process& process, const StartRequest& request) const override {
    absl::StatusOr<Serialized> serialized = Serialize(process, method());
    if (!serialized.ok()) return serialized.status();
    // As CPython's Popen for every start method: nothing buffered before
    // start() comes after what the child writes.
    platform::FlushStandardStreams();
    absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
        ForkServers::StartChild(serialized->payload, serialized->handles,
                                request.die_with_parent);
    if (!child.ok()) return OSError(child.status());
    return StartedChild{*std::move(child), std::move(serialized->token)};
  }
};

}  // namespace

// Never destroyed: a child may start processes from an exit handler.
const Popen& ForkPopen() {
  static const Popen* const popen = new ForkMethod;
  return *popen;
}

const Popen& SpawnPopen() {
  static const Popen* const popen = new SpawnMethod;
  return *popen;
}

const Popen& ForkServerPopen() {
  static const Popen* const popen = new ForkServerMethod;
  return *popen;
}

}  // namespace procspec::internal
