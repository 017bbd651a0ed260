// procspec::Process: Python's multiprocessing.Process (CPython 3.11) in C++.
//
// clang-format off
//   ```c++
//   #include <string>
//   #include <tuple>
//
//   #include "process/process.h"
//
//   void task(std::string name) { (void)name; }
//   PROCSPEC_TARGET(task);
//
//   int main(int argc, char** argv) {
//     procspec::Init(argc, argv);
//     // Process(target=task, args=('p1',))
//     procspec::Process p(task, std::tuple{"p1"});
//     procspec::Process q(task, std::tuple{"p2"},
//                         {.name = "second", .daemon = true});
//     if (absl::Status s = p.start(); !s.ok()) return 1;
//     if (absl::Status s = p.join(); !s.ok()) return 1;  // or p.join(0.5)
//     return p.exitcode().value().value_or(-1);
//   }
//   ```
// clang-format on
//
// The public names are CPython's (start, join, is_alive, exitcode, ...) so that
// the specification reads like the tutorial (docs/seed/). Errors are
// absl::Status values carrying CPython's message text; see errors.h. A Process
// is a state machine: initial -> started -> stopped -> closed (initial ->
// closed is allowed too). Once the child's exit status has been seen it is
// cached, and terminate()/kill() send nothing after that: the pid may already
// belong to someone else.
//
// Thread-safe: any thread of the creating process may join, poll or signal the
// same Process. Objects are neither copyable nor movable (a child refers to its
// own object by address): keep several in a std::deque or std::list
// (emplace_back constructs in place), or hold std::unique_ptr<Process>.
//
// In a child started by the fork start method, the child's end is CPython's
// os._exit: procspec ends it without running the parent's atexit handlers or
// static destructors. A target that calls std::exit() itself runs them, in the
// child, on the parent's copies (see the registry's
// process.exit.std_exit_in_forked_child): call procspec::Exit(code) instead.
#ifndef PROCSPEC_PROCESS_PROCESS_H_
#define PROCSPEC_PROCESS_PROCESS_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "process/context.h"
// procspec::Init, which every program that starts a Process calls.
#include "process/init.h"
#include "process/spawn.h"
#include "process/target.h"
#include "process/value.h"

namespace procspec {

using Pid = platform::Pid;
// A waitable handle (a file descriptor on POSIX), as CPython's
// Process.sentinel.
using Handle = platform::NativeHandle;

namespace internal {
struct ChildRecord;
class Bootstrap;

// What of a Process crosses to its child: the parent's bootstrap reads it
// (Process::child_state), a spawned or served child's bootstrap restores it
// into a new object (Process::restore_child_state).
struct ChildState {
  std::optional<std::string> name;
  bool daemon = false;
  std::string authkey;
  std::vector<int> identity;
  std::string parent_name;
  std::optional<Pid> parent_pid;
  // What run() calls: restored as the decoded target; read as the target the
  // object was built with (nullptr without one).
  std::shared_ptr<absl::AnyInvocable<void()>> target;
  // Read only: what the spawn start method sends for the target (nullptr
  // without one), whether the object was given a context, and its class's
  // name.
  std::shared_ptr<const spawn_internal::SpawnTarget> spawn_target;
  bool bound_to_context = false;
  std::string class_name;
};

// Only the bootstrap can make one: the Process members that take it are for
// the bootstrap alone, and give it a ChildState rather than the object's
// insides.
class BootstrapKey {
 private:
  BootstrapKey() = default;
  friend class Bootstrap;
};
}  // namespace internal

// Python's None as the only value a field may take: made from nullptr and from
// nothing else. A plain std::nullptr_t field would also take a literal 0 or
// NULL (null pointer constants), where CPython's Process(group=0) fails.
struct NoneType {
  constexpr NoneType() = default;
  constexpr NoneType(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
  // Any other type is an exact match for this deleted overload.
  template <typename T>
  NoneType(T) = delete;
  friend constexpr bool operator==(NoneType, NoneType) { return true; }
};

// The keyword arguments of Process(...) other than target and args.
struct Options {
  // Unused and always None, as in CPython; any other value (0 and NULL
  // included) does not compile.
  NoneType group = nullptr;
  // "" means the default name, ClassName-N (Process-1, or Process-3:1 in a
  // child).
  std::string name = {};
  // Passed to the target after args, if the target takes `const
  // procspec::Kwargs&`.
  Kwargs kwargs = {};
  // nullopt inherits the creating process's flag (false in the main process).
  std::optional<bool> daemon = std::nullopt;
  // Beyond CPython, opt-in: the child is killed when its parent dies, even by
  // SIGKILL (CPython leaves such children orphaned). start() fails with
  // Unimplemented where the backend cannot.
  bool die_with_parent = false;
  // The start method's context (get_context("spawn")); nullptr uses the
  // default context at start(), as multiprocessing.Process does.
  const Context* context = nullptr;
};

class Process {
 public:
  // A process without a target: run() does nothing unless a subclass overrides
  // it.
  explicit Process(Options options = {});

  // Process(target=target, args=args, **options). `args` must be a std::tuple
  // the target can be called with, optionally followed by `const
  // procspec::Kwargs&`.
  template <typename Target, typename Args>
  Process(Target target, Args args, Options options = {});

  // Process(target=target, **options): no positional arguments.
  template <typename Target>
  Process(Target target, Options options = {})
      : Process(std::move(target), std::tuple<>(), std::move(options)) {}

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  virtual ~Process();

  // Starts the child, which calls run(). Checks, in CPython's order: closed
  // (ValueError), started before (AssertionError), created by another process,
  // called from a daemonic process.
  absl::Status start();

  // What the child runs: calls target(*args, **kwargs). Subclasses override it.
  // Called directly, it runs in the caller's own process.
  virtual void run();

  // Waits until the child ends, or at most `timeout` seconds (0 or negative:
  // does not block). Returns OK on timeout too, as CPython returns None; check
  // exitcode() or is_alive(). It waits for the child's exit itself, not for its
  // descriptors to close (a grandchild may hold them).
  absl::Status join(std::optional<double> timeout = std::nullopt);
  absl::Status join(absl::Duration timeout);

  // True from start() until the child is seen to have ended; reaps it without
  // blocking. A child that something else in this process reaped (a SIGCHLD
  // handler, SIGCHLD ignored) has ended: False.
  absl::StatusOr<bool> is_alive();

  // SIGTERM / SIGKILL; neither waits. Nothing is sent once the exit status is
  // known. Before start(): FailedPrecondition (CPython raises AttributeError;
  // see the registry).
  absl::Status terminate();
  absl::Status kill();

  // Releases the child's handles. ValueError while the child runs; idempotent;
  // allowed before start. Afterwards most methods fail with ValueError "process
  // object is closed".
  absl::Status close();

  // None (nullopt) before start and while running; the exit code, or -N for
  // death by signal N. For a child that something else in this process reaped
  // (a SIGCHLD handler, SIGCHLD ignored), whose status is lost:
  // ChildProcessError "[Errno 10] No child processes: the exit status was
  // collected by another waiter in this process (...)".
  absl::StatusOr<std::optional<int>> exitcode();
  // The child's pid (None before start); in the child itself, its own pid.
  // ident() == pid().
  absl::StatusOr<std::optional<Pid>> pid() const;
  absl::StatusOr<std::optional<Pid>> ident() const { return pid(); }
  // Becomes readable when the child ends. ValueError "process not started"
  // before start().
  absl::StatusOr<Handle> sentinel() const;

  std::string name() const;
  void set_name(std::string name);
  bool daemon() const;
  // AssertionError "process has already started" after start().
  absl::Status set_daemon(bool daemon);
  // 32 bytes, inherited from the creating process.
  std::string authkey() const;
  void set_authkey(std::string authkey);

  // CPython's repr: <Process name='Process-1' pid=123 parent=100 started
  // daemon>.
  std::string repr();
  friend std::ostream& operator<<(std::ostream& os, Process& process) {
    return os << process.repr();
  }

  // For the child's bootstrap (process/internal/bootstrap.h) alone: what
  // crosses to the child, and restoring it into a child's object.
  internal::ChildState child_state(internal::BootstrapKey) const;
  void restore_child_state(internal::BootstrapKey, internal::ChildState state);

 protected:
  struct MainProcessTag {};
  // The object current_process() returns in the main process.
  explicit Process(MainProcessTag);

 private:
  enum class State { kInitial, kStarted, kClosed };

  // The bound target: calls target(args..., [kwargs]) or, given kwargs it
  // cannot take, fails in the child as CPython's TypeError does.
  using BoundTarget = absl::AnyInvocable<void()>;
  template <typename Target, typename Args>
  static BoundTarget Bind(Target target, Args args, Kwargs kwargs);
  [[noreturn]] static void UnexpectedKeywordArgument(const Kwargs& kwargs);

  void Initialize(Options options);
  bool IsCurrentProcess() const;
  bool CreatedByThisProcess() const;
  std::shared_ptr<internal::ChildRecord> record() const;
  absl::Status CheckNotClosed() const;
  absl::Status Signal(platform::Signal signal, absl::string_view verb);
  absl::Status Wait(absl::Time deadline);
  std::string class_name() const;

  // std::mutex rather than absl::Mutex throughout process/: Debian's abseil is
  // built without ThreadSanitizer annotations, so TSan cannot see absl::Mutex.
  mutable std::mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kInitial;
  std::shared_ptr<internal::ChildRecord> record_ ABSL_GUARDED_BY(mu_);
  // Shared so that run() can call it without holding mu_ (the target may use
  // this object).
  std::shared_ptr<BoundTarget> target_ ABSL_GUARDED_BY(mu_);
  // nullopt until a non-empty name is given or any name is assigned: the
  // default name is computed (a C++ base cannot know the derived class's name
  // during construction). An assigned "" stays "", as in CPython.
  std::optional<std::string> name_ ABSL_GUARDED_BY(mu_);
  std::vector<int> identity_;  // (1,) for Process-1, (3, 1) for Process-3:1.
  bool daemon_ ABSL_GUARDED_BY(mu_) = false;
  std::string authkey_ ABSL_GUARDED_BY(mu_);
  bool die_with_parent_ = false;
  const Context* context_ = nullptr;
  // What the spawn start method sends for the target; nullptr without one.
  std::shared_ptr<const spawn_internal::SpawnTarget> spawn_target_
      ABSL_GUARDED_BY(mu_);
  std::optional<Pid> creator_pid_;  // nullopt for the main process object.
  std::string creator_name_;        // the parent's name, as the child's
                                    // parent_process() sees it.
};

// ---- Module functions

// The Process object for the process calling it: "MainProcess" in the main
// process, and in a child the Process object it is running.
Process& current_process();

// The parent as a child sees it (CPython's _ParentProcess); nullptr in the main
// process.
class ParentProcess {
 public:
  virtual ~ParentProcess() = default;
  virtual std::string name() const = 0;
  virtual Pid pid() const = 0;
  Pid ident() const { return pid(); }
  // True while the parent runs.
  virtual bool is_alive() = 0;
  // Waits until the parent ends or `timeout` seconds pass.
  virtual void join(std::optional<double> timeout = std::nullopt) = 0;
  virtual Handle sentinel() const = 0;
};
ParentProcess* parent_process();

// A live child, as active_children() lists it (CPython returns the Process
// objects; in C++ the caller owns those, so this is what they say of
// themselves).
struct ChildInfo {
  std::string name = {};
  Pid pid = 0;
  bool daemon = false;
};
// Reaps the children of this process that have ended, and lists the ones still
// running.
std::vector<ChildInfo> active_children();

// The number of CPUs, at least 1.
int cpu_count();

// ---- Template definitions

template <typename Target, typename Args>
Process::Process(Target target, Args args, Options options) {
  static_assert(kIsTuple<Args>,
                "procspec::Process: args must be a std::tuple, e.g. "
                "std::tuple{\"p1\"} for one argument (the tutorial: args is "
                "a tuple, and a one-element tuple needs its comma)");
  if constexpr (kIsTuple<Args>) {
    static_assert(ValidTargetAndArgs<Target, Args>,
                  "procspec::Process: the target cannot be called with these "
                  "args (optionally "
                  "followed by const procspec::Kwargs&)");
  }
  if constexpr (ValidTargetAndArgs<Target, Args>) {
    std::shared_ptr<const spawn_internal::SpawnTarget> spawn =
        spawn_internal::MakeSpawnTarget(target, args, options.kwargs);
    BoundTarget bound =
        Bind(std::move(target), std::move(args), std::move(options.kwargs));
    Initialize(std::move(options));
    std::lock_guard<std::mutex> lock(mu_);
    target_ = std::make_shared<BoundTarget>(std::move(bound));
    spawn_target_ = std::move(spawn);
  }
}

template <typename Target, typename Args>
Process::BoundTarget Process::Bind(Target target, Args args, Kwargs kwargs) {
  return [target = std::move(target), args = std::move(args),
          kwargs = std::move(kwargs)]() mutable {
    if constexpr (kReceivesKwargs<Target, Args>) {
      std::apply([&](auto&... arg) { target(arg..., std::as_const(kwargs)); },
                 args);
    } else {
      if (!kwargs.empty()) UnexpectedKeywordArgument(kwargs);
      std::apply([&](auto&... arg) { target(arg...); }, args);
    }
  };
}

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_PROCESS_H_
