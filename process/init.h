// procspec::Init, the main guard: the analogue of Python's
// `if __name__ == '__main__':`, which every program that starts processes
// calls at the top of main(), whatever the start method.
//
// clang-format off
//   ```c++
//   #include "process/init.h"
//   #include "process/process.h"
//
//   void task() {}
//   PROCSPEC_TARGET(task);  // what a spawned child can be asked to run
//
//   int main(int argc, char** argv) {
//     procspec::Init(argc, argv);  // a spawned child runs here, never returns
//     // Code from here on runs in the parent only.
//     procspec::Process p(task);
//     if (!p.start().ok() || !p.join().ok()) return 1;
//     return 0;
//   }
//   ```
// clang-format on
#ifndef PROCSPEC_PROCESS_INIT_H_
#define PROCSPEC_PROCESS_INIT_H_

namespace procspec {

// The main guard. In a process started by the spawn start method it runs the
// child (the registered target or Process class, with the parent's name,
// daemon flag, authkey, ...) and exits with its exit code: 0, Exit(n) & 0xff,
// or 1 after an uncaught exception ("Process <name>:" on stderr). A bootstrap
// that is not a valid one from a procspec parent ends the process with a
// message on stderr and exit code 1. In any other process it returns. Code
// before it runs again in every spawned child.
//
// The forkserver start method: Init forks the fork server (one per backend)
// here, while the program has one thread, if the start method was set to
// "forkserver" before Init or `options.start_forkserver` says so. Its children
// then start from the program's memory as of Init: globals changed later are
// not seen (CPython's server, started on first use, imports the main module
// afresh, so neither does it see later changes). Otherwise the first
// forkserver start() starts the server as a fresh run of the program (safe
// when the program has threads by then), as is a server restarted after one
// died.
//
// Init also records argc/argv: a spawned child, and a fork server started as
// a fresh run, get them as their own (CPython gives its children the parent's
// sys.argv), so code before Init sees the arguments the parent saw. A program
// that never calls Init gives its children only the program's name.
struct InitOptions {
  bool start_forkserver = false;
};
void Init(int argc, char** argv, InitOptions options = {});

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_INIT_H_
