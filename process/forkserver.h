// The forkserver start method's server, as CPython's multiprocessing.forkserver
// exposes it. See init.h (procspec::Init) for when the server starts.
#ifndef PROCSPEC_PROCESS_FORKSERVER_H_
#define PROCSPEC_PROCESS_FORKSERVER_H_

#include <optional>

#include "platform/platform.h"

namespace procspec::forkserver {

// The pid of the current backend's fork server while one runs (CPython's
// forkserver._forkserver._forkserver_pid), else nullopt. A server found to have
// died is reaped here.
std::optional<platform::Pid> server_pid();

}  // namespace procspec::forkserver

#endif  // PROCSPEC_PROCESS_FORKSERVER_H_
