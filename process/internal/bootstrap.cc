#include "process/internal/bootstrap.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <typeinfo>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cereal/types/optional.hpp"
#include "process/context.h"
#include "process/errors.h"
#include "process/internal/deadline.h"
#include "process/internal/forkserver.h"
#include "process/internal/handle_passing.h"
#include "process/internal/queue_exit.h"
#include "process/internal/state.h"
#include "process/internal/type_name.h"
#include "process/system_exit.h"

namespace procspec::internal {
namespace {

// CPython's _ParentProcess: the parent's name and pid as recorded before the
// fork, and a watch on its liveness.
class WatchedParent final : public ParentProcess {
 public:
  WatchedParent(std::string name, std::unique_ptr<platform::ParentWatch> watch)
      : name_(std::move(name)), watch_(std::move(watch)) {}

  std::string name() const override { return name_; }
  Pid pid() const override { return watch_->pid(); }
  bool is_alive() override { return watch_->IsAlive(); }
  Handle sentinel() const override { return watch_->sentinel(); }
  void join(std::optional<double> timeout) override {
    const Handle handles[] = {watch_->sentinel()};
    (void)platform::WaitReadable(handles, DeadlineAfter(timeout));
  }

 private:
  std::string name_;
  std::unique_ptr<platform::ParentWatch> watch_;
};

// sys.exit's argument -> exit code; a message goes to stderr first.
int ExitCodeOf(const SystemExit& exit) {
  struct Visitor {
    int operator()(std::monostate) const { return 0; }
    int operator()(int code) const { return code; }
    int operator()(const std::string& message) const {
      std::cerr << message << "\n";
      return 1;
    }
  };
  return std::visit(Visitor{}, exit.code());
}

// CPython prints "Process <name>:" and the traceback, whose last line is
// "ValueError: boom". C++ has no traceback: the exception's type and what()
// make that last line.
int ReportUncaught(Process& process, const std::string& type,
                   const char* what) {
  std::cerr << "Process " << process.name() << ":\n"
            << type << ": " << what << "\n";
  return 1;
}

int RunAndMapExit(Process& process) {
  try {
    process.run();
    return 0;
  } catch (const SystemExit& exit) {
    return ExitCodeOf(exit);
  } catch (const std::exception& error) {
    return ReportUncaught(process, UnqualifiedTypeName(typeid(error)),
                          error.what());
  } catch (...) {
    return ReportUncaught(process, "unknown",
                          "an exception not derived from std::exception");
  }
}

// Everything a spawned child needs besides its target's code: CPython's
// preparation data and pickled Process object.
struct BootstrapData {
  std::string start_method;
  // "" for procspec::Process itself, kContextBound for a procspec::Process
  // made with an explicit context (CPython's ctx.Process, a SpawnProcess or
  // ForkServerProcess), else the registered class's name.
  std::string class_name;
  std::string class_state;  // the registered class's serialize() output
  std::string target_name;  // "" for no target
  std::string args;         // the target's converted args, serialized
  Kwargs kwargs;
  std::optional<std::string> name;  // nullopt for the default name
  std::vector<int> identity;
  bool daemon = false;
  std::string authkey;
  std::string parent_name;
  std::int64_t parent_pid = 0;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(start_method, class_name, class_state, target_name, args, kwargs,
            name, identity, daemon, authkey, parent_name, parent_pid);
  }
};

constexpr std::string_view kMagic = "PSPAWN01";
// Not a name PROCSPEC_PROCESS_CLASS can register (no program defines its
// classes in namespace procspec).
constexpr char kContextBound[] = "procspec::Process(context)";
constexpr std::size_t kTokenSize = 16;

// The token tells a complete bootstrap from a truncated or foreign one; it is
// not a secret. So it comes from a generator seeded once per thread (no lock,
// none inherited locked by a forked child) rather than from a fresh
// std::random_device per start(): that costs a cpuid probe and 16 rdseed
// instructions, each a trap to the hypervisor in a VM (~15 us). The pid is
// mixed in, so that the forked children of one thread do not repeat it.
std::string RandomToken() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device random;
    std::seed_seq seed{random(), random(), random(), random()};
    return std::mt19937_64(seed);
  }();
  const auto pid = static_cast<std::uint64_t>(platform::CurrentPid());
  std::string token(kTokenSize, '\0');
  for (std::size_t i = 0; i < kTokenSize; i += sizeof(std::uint64_t)) {
    const std::uint64_t word = generator() ^ (pid * 0x9e3779b97f4a7c15ULL);
    std::memcpy(token.data() + i, &word, sizeof(word));
  }
  return token;
}

std::atomic<bool> g_reached_guard{false};
// A fork server that began serving before the program reached its guard: its
// children are in the middle of an unguarded program, and fail.
std::atomic<bool> g_serving_before_guard{false};

void PrintNotImportingMain() {
  platform::FlushStandardStreams();
  // In C++ the main guard is procspec::Init(argc, argv) at the top of main().
  std::cerr << "RuntimeError: " << kNotImportingMainMessage << std::endl;
}

[[noreturn]] void FailBootstrap(const std::string& why) {
  platform::FlushStandardStreams();
  std::cerr << "procspec: spawned process " << platform::CurrentPid()
            << ": cannot bootstrap: " << why << std::endl;
  platform::ExitImmediately(1);
}

}  // namespace

const char kNotImportingMainMessage[] = R"msg(
        An attempt has been made to start a new process before the
        current process has finished its bootstrapping phase.

        This probably means that you are not using fork to start your
        child processes and you have forgotten to use the proper idiom
        in the main module:

            if __name__ == '__main__':
                freeze_support()
                ...

        The "freeze_support()" line can be omitted if the program
        is not going to be frozen to produce an executable.

        To fix this issue, refer to the "Safe importing of main module"
        section in https://docs.python.org/3/library/multiprocessing.html
        )msg";

bool Bootstrap::InheritingMain() {
  return !g_reached_guard.load() && platform::IsSpawnedChild();
}

void Bootstrap::FailNotImportingMain() {
  PrintNotImportingMain();
  platform::ExitImmediately(1);
}

void Bootstrap::StartBeforeTheGuard() {
  absl::StatusOr<platform::SpawnedContext> received =
      platform::ReceiveSpawnPayload();
  if (received.ok() && received->payload == kForkServerMagic &&
      received->handles.size() == 1) {
    g_serving_before_guard.store(true);
    PrepareForkServer();
    platform::CurrentBackend().ServeForks(std::move(received->handles[0]),
                                          &Bootstrap::RunServed);
  }
  FailNotImportingMain();
}

absl::StatusOr<std::string> Bootstrap::SpawnPayload(
    Process& process, const std::string& method, std::string* token,
    std::vector<platform::NativeHandle>* handles) {
  // Collects the InheritedHandles serialized below.
  HandleCollector collector;
  BootstrapData data;
  data.start_method = method;
  ChildState state = process.child_state(BootstrapKey());
  const std::shared_ptr<const spawn_internal::SpawnTarget>& target =
      state.spawn_target;
  const bool has_target = state.target != nullptr && *state.target;
  data.name = std::move(state.name);
  data.daemon = state.daemon;
  data.authkey = std::move(state.authkey);
  data.parent_name = std::move(state.parent_name);
  data.identity = std::move(state.identity);
  data.parent_pid = platform::CurrentPid();
  if (typeid(process) == typeid(Process) && state.bound_to_context) {
    data.class_name = kContextBound;
  } else if (typeid(process) != typeid(Process)) {
    const spawn_internal::ClassEntry* entry =
        spawn_internal::FindClass(typeid(process));
    const std::string& class_name = state.class_name;
    if (entry == nullptr) {
      return PicklingError(
          absl::StrCat("Can't pickle <class '", class_name, "'>: the ", method,
                       " start method needs the class registered with "
                       "PROCSPEC_PROCESS_CLASS(",
                       class_name, ")"));
    }
    if (std::string conflict = spawn_internal::ClassConflict(entry->name);
        !conflict.empty()) {
      return PicklingError(
          absl::StrCat("Can't pickle <class '", class_name, "'>: ", conflict));
    }
    data.class_name = entry->name;
    try {
      data.class_state = entry->save(process);
    } catch (const std::exception& error) {
      return PicklingError(absl::StrCat("Can't pickle <class '", class_name,
                                        "'>: ", error.what()));
    }
  }
  if (has_target) {
    if (target == nullptr) {
      return PicklingError("Can't pickle the target: unknown target");
    }
    if (!target->unsendable_type.empty()) {
      return PicklingError(spawn_internal::DescribeUnsendableTarget(
          target->unsendable_type, method));
    }
    if (!target->error.empty()) return PicklingError(target->error);
    const std::string* name = spawn_internal::FindTargetName(target->function);
    if (name == nullptr) {
      return PicklingError(
          "Can't pickle the target: it is not registered; add "
          "PROCSPEC_TARGET(<function>) at namespace scope");
    }
    if (std::string conflict = spawn_internal::TargetConflict(*name);
        !conflict.empty()) {
      return PicklingError(absl::StrCat("Can't pickle the target: ", conflict));
    }
    data.target_name = *name;
    data.kwargs = target->kwargs;
    try {
      data.args = target->save_args();
    } catch (const std::exception& error) {
      return PicklingError(
          absl::StrCat("Can't pickle the args: ", error.what()));
    }
  }
  *token = RandomToken();
  *handles = collector.handles();
  std::string body = spawn_internal::Save(data);
  return absl::StrCat(std::string(kMagic), *token, body, *token);
}

absl::StatusOr<std::unique_ptr<Process>> Bootstrap::Restore(
    const std::string& payload) {
  if (payload.size() < kMagic.size() + 2 * kTokenSize ||
      payload.compare(0, kMagic.size(), kMagic) != 0) {
    return absl::InvalidArgumentError("not a procspec bootstrap (bad magic)");
  }
  const std::string token = payload.substr(kMagic.size(), kTokenSize);
  if (payload.compare(payload.size() - kTokenSize, kTokenSize, token) != 0) {
    return absl::InvalidArgumentError(
        "bootstrap token mismatch (truncated or foreign input)");
  }
  BootstrapData data;
  try {
    spawn_internal::Load(
        payload.substr(kMagic.size() + kTokenSize,
                       payload.size() - kMagic.size() - 2 * kTokenSize),
        data);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed bootstrap: ", error.what()));
  }
  if (absl::Status s = set_start_method(data.start_method, /*force=*/true);
      !s.ok()) {
    return absl::InvalidArgumentError(s.ToString());
  }

  std::unique_ptr<Process> process;
  if (data.class_name == kContextBound) {
    absl::StatusOr<const Context*> context = get_context(data.start_method);
    if (!context.ok())
      return absl::InvalidArgumentError(context.status().ToString());
    process = std::make_unique<Process>(Options{.context = *context});
  } else if (!data.class_name.empty()) {
    const spawn_internal::ClassEntry* entry =
        spawn_internal::FindClass(data.class_name);
    if (entry == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Process class '", data.class_name,
                       "' is not registered in this program"));
    }
    process = entry->make();
    try {
      entry->load(*process, data.class_state);
    } catch (const std::exception& error) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed state of '", data.class_name, "': ", error.what()));
    }
  } else {
    process = std::make_unique<Process>();
  }
  ChildState state;
  if (!data.target_name.empty()) {
    spawn_internal::Invoker invoker =
        spawn_internal::FindInvoker(data.target_name);
    if (invoker == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target '", data.target_name, "' is not registered in this program"));
    }
    state.target = std::make_shared<absl::AnyInvocable<void()>>(
        [invoker, args = std::move(data.args),
         kwargs = std::move(data.kwargs)] { invoker(args, kwargs); });
  }
  state.identity = std::move(data.identity);
  state.parent_pid = data.parent_pid;
  state.name = std::move(data.name);
  state.daemon = data.daemon;
  state.authkey = std::move(data.authkey);
  state.parent_name = std::move(data.parent_name);
  process->restore_child_state(BootstrapKey(), std::move(state));
  return process;
}

void Bootstrap::RunSpawned() {
  g_reached_guard.store(true);
  absl::StatusOr<platform::SpawnedContext> received =
      platform::ReceiveSpawnPayload();
  if (!received.ok()) FailBootstrap(std::string(received.status().message()));
  if (received->payload == kForkServerMagic) {
    if (received->handles.size() != 1)
      FailBootstrap("a fork server needs exactly one channel");
    PrepareForkServer();
    platform::CurrentBackend().ServeForks(std::move(received->handles[0]),
                                          &Bootstrap::RunServed);
  }
  // Before anything is deserialized: InheritedHandles name these by index.
  AdoptReceivedHandles(std::move(received->handles));
  absl::StatusOr<std::unique_ptr<Process>> process = Restore(received->payload);
  if (!process.ok()) FailBootstrap(std::string(process.status().message()));
  // Lives until the process exits, as the unpickled object in CPython.
  Process* const self = process->release();
  const int exitcode = Run(*self, received->context);
  platform::FlushStandardStreams();
  // A spawned child ends as a program does (CPython's sys.exit(exitcode)):
  // atexit handlers and static destructors run.
  std::exit(exitcode & 0xff);
}

void Bootstrap::PrepareForkServer() {
  (void)ProcessState::Get();
  (void)current_process();
  BootstrapData data;
  data.name = "warm-up";
  BootstrapData copy;
  try {
    spawn_internal::Load(spawn_internal::Save(data), copy);
  } catch (const std::exception&) {
    // Only a warm-up: a child reports a real failure itself.
  }
}

int Bootstrap::RunServed(const std::string& payload,
                         platform::ChildContext& context) {
  if (g_serving_before_guard.load()) {
    // The child would go on with the unguarded program from its server's
    // start() call: CPython's child fails in its own start() instead.
    PrintNotImportingMain();
    return 1;
  }
  g_reached_guard.store(true);
  // Before anything is deserialized: InheritedHandles name these by index.
  AdoptReceivedHandles(std::move(context.handles));
  absl::StatusOr<std::unique_ptr<Process>> process = Restore(payload);
  if (!process.ok()) {
    platform::FlushStandardStreams();
    std::cerr << "procspec: forkserver child " << platform::CurrentPid()
              << ": cannot bootstrap: " << process.status().message()
              << std::endl;
    return 1;
  }
  // Lives until the process exits, as the unpickled object in CPython.
  Process* const self = process->release();
  return Run(*self, context);
}

int Bootstrap::Run(Process& process, platform::ChildContext& context) {
  ChildState state = process.child_state(BootstrapKey());
  ProcessState::ResetForChild(
      &process, state.identity,
      std::make_unique<WatchedParent>(std::move(state.parent_name),
                                      std::move(context.parent)));
  if (absl::Status status = platform::RedirectStdinToNull(); !status.ok()) {
    std::cerr << "procspec: could not replace stdin: " << status << "\n";
  }
  const int exitcode = RunAndMapExit(process);
  // As CPython's `finally: util._exit_function()`: the child's own children are
  // dealt with whatever way run() ended.
  ProcessState::Get().RunExitHandling();
  // CPython's Queue finalizers: what this process put is written before it
  // exits (unless cancel_join_thread()).
  JoinQueueFeedersAtExit();
  platform::FlushStandardStreams();
  return exitcode;
}

}  // namespace procspec::internal
