#include "process/internal/forkserver.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "process/forkserver.h"
#include "process/internal/bootstrap.h"
#include "process/internal/state.h"
#include "process/spawn.h"

namespace procspec::internal {
namespace {

struct Servers {
  explicit Servers(platform::Pid pid) : owner(pid) {}
  // The process these servers belong to.
  const platform::Pid owner;
  std::mutex mu;
  // By backend name.
  std::map<std::string, platform::ForkServer*> by_backend ABSL_GUARDED_BY(mu);
};

std::atomic<Servers*> g_servers{nullptr};

// This process's servers. A child forked by the fork start method finds its
// parent's object (with its mutex perhaps held by a thread that does not exist
// there) and replaces it; the old one is leaked: its servers are the
// parent's, and their objects are inert here. Servers run as long as the
// program, and are stopped by StopAll at its exit.
Servers& GetServers() {
  const platform::Pid self = platform::CurrentPid();
  Servers* servers = g_servers.load();
  if (servers != nullptr && servers->owner == self) return *servers;
  auto* fresh = new Servers(self);
  if (g_servers.compare_exchange_strong(servers, fresh)) return *fresh;
  // Another thread of this process installed one first.
  delete fresh;
  return *servers;
}

// The current backend's live server, or nullptr (reaping a dead one).
platform::ForkServer* LiveServerLocked(Servers& servers,
                                       const std::string& backend)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(servers.mu) {
  auto it = servers.by_backend.find(backend);
  if (it == servers.by_backend.end()) return nullptr;
  if (it->second->IsRunning()) return it->second;
  delete it->second;  // reaped already; closes the channel
  servers.by_backend.erase(it);
  return nullptr;
}

}  // namespace

const char kForkServerMagic[] = "PFSERV01";

absl::Status ForkServers::ForkNow() {
  platform::Backend& backend = platform::CurrentBackend();
  const std::string name(backend.name());
  Servers& servers = GetServers();
  {
    std::lock_guard<std::mutex> lock(servers.mu);
    if (LiveServerLocked(servers, name) != nullptr) return absl::OkStatus();
  }
  Bootstrap::PrepareForkServer();
  // Not under the lock: the server (and every child it forks) would inherit
  // it locked.
  absl::StatusOr<std::unique_ptr<platform::ForkServer>> server =
      backend.ForkForkServer(&Bootstrap::RunServed);
  if (!server.ok()) return server.status();
  ProcessState::Get().EnsureExitHandlerRegistered();
  std::lock_guard<std::mutex> lock(servers.mu);
  servers.by_backend[name] = server->release();
  return absl::OkStatus();
}

void ForkServers::StopAll() {
  // Every child runs this at its exit: one that never started a server (its
  // parent's, inherited in memory, are not its own) has nothing to stop, and
  // allocates nothing to find that out.
  Servers* const own = g_servers.load();
  if (own == nullptr || own->owner != platform::CurrentPid()) return;
  Servers& servers = *own;
  std::lock_guard<std::mutex> lock(servers.mu);
  for (auto& [name, server] : servers.by_backend) {
    // Closes the channel, so the server exits, and reaps it.
    delete server;
  }
  servers.by_backend.clear();
}

absl::StatusOr<std::unique_ptr<platform::ChildProcess>> ForkServers::StartChild(
    const std::string& payload,
    const std::vector<platform::NativeHandle>& handles, bool die_with_parent) {
  platform::Backend& backend = platform::CurrentBackend();
  const std::string name(backend.name());
  Servers& servers = GetServers();
  absl::StatusOr<std::unique_ptr<platform::ChildProcess>> child =
      absl::UnavailableError("no fork server");
  // A server that died is noticed by IsRunning, or by the request failing
  // (Unavailable); either way one new server is started and asked once more.
  // Held across the request: the server serves one request at a time anyway,
  // and no other thread may replace (delete) a server while it is asked.
  std::lock_guard<std::mutex> lock(servers.mu);
  for (int attempt = 0; attempt < 2; ++attempt) {
    platform::ForkServer* server = LiveServerLocked(servers, name);
    if (server == nullptr) {
      // The program may have threads by now: a fresh run of it is the safe
      // server, as CPython's forkserver is.
      absl::StatusOr<std::unique_ptr<platform::ForkServer>> started =
          backend.SpawnForkServer(kForkServerMagic,
                                  spawn_internal::ProgramArguments());
      if (!started.ok()) return started.status();
      server = started->release();
      ProcessState::Get().EnsureExitHandlerRegistered();
      servers.by_backend[name] = server;
    }
    platform::ForkOptions options;
    options.die_with_parent = die_with_parent;
    child = server->StartChild(payload, handles, options);
    if (!absl::IsUnavailable(child.status())) return child;
  }
  return child;
}

std::optional<platform::Pid> ForkServers::ServerPid() {
  Servers& servers = GetServers();
  std::lock_guard<std::mutex> lock(servers.mu);
  platform::ForkServer* server =
      LiveServerLocked(servers, std::string(platform::CurrentBackend().name()));
  if (server == nullptr) return std::nullopt;
  return server->pid();
}

}  // namespace procspec::internal

namespace procspec::forkserver {

std::optional<platform::Pid> server_pid() {
  return internal::ForkServers::ServerPid();
}

}  // namespace procspec::forkserver
