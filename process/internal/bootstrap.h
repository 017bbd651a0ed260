// What a child does between fork and exit: CPython's BaseProcess._bootstrap.
#ifndef PROCSPEC_PROCESS_INTERNAL_BOOTSTRAP_H_
#define PROCSPEC_PROCESS_INTERNAL_BOOTSTRAP_H_

#include <memory>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "process/process.h"

namespace procspec::internal {

class Bootstrap {
 public:
  // Runs `process` in the freshly forked child and returns its exit code:
  // resets the module state, replaces stdin with the null device, calls run(),
  // maps SystemExit and uncaught exceptions to exit codes as CPython does, then
  // runs the exit handling (terminate daemonic children, join all) and flushes
  // the standard streams.
  static int Run(Process& process, platform::ChildContext& context);
};

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_BOOTSTRAP_H_
