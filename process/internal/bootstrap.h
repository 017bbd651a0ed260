// What a child does between fork and exit: CPython's BaseProcess._bootstrap.
#ifndef PROCSPEC_PROCESS_INTERNAL_BOOTSTRAP_H_
#define PROCSPEC_PROCESS_INTERNAL_BOOTSTRAP_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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

  // ---- The spawn start method

  // In the parent: the bootstrap a spawned child reads: a random token, the
  // serialized BootstrapData (start method, registered class and target,
  // args, kwargs and the Process attributes), the token again. PicklingError
  // for a target, argument or class that cannot be sent. `token` receives the
  // token, `handles` the descriptors the InheritedHandles among the args and
  // the class state name, in index order: they must reach the child with the
  // payload.
  static absl::StatusOr<std::string> SpawnPayload(
      Process& process, const std::string& method, std::string* token,
      std::vector<platform::NativeHandle>* handles);
  // In a spawned child, from Init(): reads and checks the bootstrap, makes the
  // Process object, runs it and exits. A bad bootstrap: a message on stderr,
  // exit code 1.
  [[noreturn]] static void RunSpawned();
  // ---- The forkserver start method

  // In a child a fork server forked: `payload` is a spawn bootstrap
  // (SpawnPayload); makes the Process object and runs it. Returns the exit
  // code; a bad bootstrap: a message on stderr, 1. The server `_exit`s with
  // it, as CPython's forkserver does (no atexit handlers).
  static int RunServed(const std::string& payload,
                       platform::ChildContext& context);
  // In a process about to become a fork server (before it forks or serves):
  // does once what each of its children would otherwise do on its own, as
  // CPython's server preloads modules. It makes the process state and the
  // main process object (which draw a random authkey), and runs the bootstrap
  // serialization once, so that its library calls are bound (lazy PLT
  // binding) and its memory allocated in the server.
  static void PrepareForkServer();

  // A spawned child that has not reached its main guard (Init) yet: CPython's
  // `process.current_process()._inheriting`.
  static bool InheritingMain();
  // CPython's _check_not_importing_main() failing: the RuntimeError on stderr,
  // exit code 1.
  [[noreturn]] static void FailNotImportingMain();
  // A spawned process starting a process before its main guard (Init): a
  // child fails as FailNotImportingMain does. A fork server started as a fresh
  // run of an unguarded program gets here too, in the start() the program
  // makes before any guard: it serves from here, and each child it forks
  // fails as above (return code 1), as CPython's children do when they import
  // the unguarded main module again.
  [[noreturn]] static void StartBeforeTheGuard();

  // The Process object a spawn bootstrap (SpawnPayload's bytes) describes;
  // InvalidArgument (with the reason) for a bad one. Exits nothing, runs
  // nothing: RunSpawned and RunServed report the error and exit, //fuzz feeds
  // it arbitrary bytes. Its one side effect is the start method, set (forced)
  // to the bootstrap's. The target's args are decoded when run() calls it.
  static absl::StatusOr<std::unique_ptr<Process>> Restore(
      const std::string& payload);
};

// CPython's RuntimeError text, verbatim (spawn._check_not_importing_main).
extern const char kNotImportingMainMessage[];

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_BOOTSTRAP_H_
