// The main guard, and the program's arguments it records for the children.
#include "process/init.h"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "platform/platform.h"
#include "process/context.h"
#include "process/internal/bootstrap.h"
#include "process/internal/forkserver.h"
#include "process/spawn.h"

namespace procspec {

namespace {

// The program's arguments as Init saw them: what a spawned child and a fork
// server started as a fresh run get as their argv (CPython sends sys.argv).
struct Arguments {
  std::mutex mu;
  std::vector<std::string> argv ABSL_GUARDED_BY(mu);
};

Arguments& GetArguments() {
  static Arguments* const arguments = new Arguments();
  return *arguments;
}

void RecordArguments(int argc, char** argv) {
  std::vector<std::string> recorded;
  for (int i = 0; argv != nullptr && i < argc && argv[i] != nullptr; ++i) {
    recorded.emplace_back(argv[i]);
  }
  Arguments& arguments = GetArguments();
  std::lock_guard<std::mutex> lock(arguments.mu);
  arguments.argv = std::move(recorded);
}

}  // namespace

namespace spawn_internal {

std::vector<std::string> ProgramArguments() {
  Arguments& arguments = GetArguments();
  std::lock_guard<std::mutex> lock(arguments.mu);
  return arguments.argv;
}

}  // namespace spawn_internal

void Init(int argc, char** argv, InitOptions options) {
  // First: a spawned child ran with its parent's arguments, and passes them on
  // to its own children.
  RecordArguments(argc, argv);
  // Where the spawn start method finds this program (sys.executable).
  if (argc > 0 && argv != nullptr) platform::RecordProgramPath(argv[0]);
  if (platform::IsSpawnedChild()) internal::Bootstrap::RunSpawned();
  if (options.start_forkserver ||
      get_start_method(/*allow_none=*/true) == "forkserver") {
    // A failure is not fatal: the first forkserver start() starts a server
    // (a fresh run of the program) and reports what goes wrong then.
    (void)internal::ForkServers::ForkNow();
  }
}

}  // namespace procspec
