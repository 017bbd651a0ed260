#include "process/process.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "process/errors.h"
#include "process/internal/bootstrap.h"
#include "process/internal/deadline.h"
#include "process/internal/popen.h"
#include "process/internal/state.h"
#include "process/internal/type_name.h"
#include "process/value.h"
#include "process/warnings.h"

namespace procspec {
namespace {

using internal::ChildRecord;
using internal::DeadlineAfter;
using internal::ProcessState;

constexpr absl::string_view kClosed = "process object is closed";

// exitcode of a child that something else in this process reaped (a host's
// SIGCHLD handler, or SIGCHLD ignored): it has ended, but its status is lost.
// CPython's poll() would say None for ever (and is_alive() True).
absl::Status StatusCollectedElsewhere() {
  return OSError(absl::FailedPreconditionError(
      "[Errno 10] No child processes: the exit status was collected by another "
      "waiter in this process (a SIGCHLD handler, or SIGCHLD ignored)"));
}

// The exit status if the child has been reaped or can be reaped without
// blocking.
std::optional<platform::ExitStatus> Poll(ChildRecord& record) {
  absl::StatusOr<std::optional<platform::ExitStatus>> status =
      record.child->Wait(absl::InfinitePast());
  return status.ok() ? *status : std::nullopt;
}

}  // namespace

Process::Process(Options options) { Initialize(std::move(options)); }

Process::Process(MainProcessTag) {
  std::lock_guard<std::mutex> lock(mu_);
  name_ = "MainProcess";
  authkey_ = ProcessState::Get().main_authkey();
  state_ = State::kStarted;
}

Process::~Process() = default;

void Process::Initialize(Options options) {
  ProcessState& state = ProcessState::Get();
  // CPython: _identity = current._identity + (next(_process_counter),); config
  // copied from the current process (daemon flag, authkey).
  identity_ = state.identity();
  identity_.push_back(state.NextCount());
  Process& creator = current_process();
  const bool creator_daemon = creator.daemon();
  std::string creator_authkey = creator.authkey();
  std::string creator_name = creator.name();
  std::lock_guard<std::mutex> lock(mu_);
  creator_pid_ = platform::CurrentPid();
  creator_name_ = std::move(creator_name);
  authkey_ = std::move(creator_authkey);
  daemon_ = options.daemon.value_or(creator_daemon);
  // CPython: `name or <default>`; an empty name means the default.
  if (!options.name.empty()) name_ = std::move(options.name);
  die_with_parent_ = options.die_with_parent;
  context_ = options.context;
}

bool Process::IsCurrentProcess() const { return &current_process() == this; }

bool Process::CreatedByThisProcess() const {
  return creator_pid_.has_value() && *creator_pid_ == platform::CurrentPid();
}

std::shared_ptr<internal::ChildRecord> Process::record() const {
  std::lock_guard<std::mutex> lock(mu_);
  return record_;
}

absl::Status Process::CheckNotClosed() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kClosed) return ValueError(kClosed);
  return absl::OkStatus();
}

absl::Status Process::start() {
  ProcessState& state = ProcessState::Get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kClosed) return ValueError(kClosed);
    if (state_ != State::kInitial)
      return AssertionError("cannot start a process twice");
  }
  if (!CreatedByThisProcess()) {
    return AssertionError(
        "can only start a process object created by current process");
  }
  if (current_process().daemon()) {
    return AssertionError(
        "daemonic processes are not allowed to have children");
  }
  {
    // Claim the start, so that a concurrent start() from another thread fails
    // as "twice". The lock is not held across fork: the child must not inherit
    // it locked.
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kInitial)
      return AssertionError("cannot start a process twice");
    state_ = State::kStarted;
  }
  (void)state.ReapAndListLive();  // CPython's _cleanup().
  const Context* context = context_ != nullptr ? context_ : *get_context();
  const internal::Popen& popen = context->popen();
  // CPython's _check_not_importing_main(): a spawned child that has not reached
  // its main guard fails here, before anything recurses.
  if (popen.runs_main_again() && internal::Bootstrap::InheritingMain())
    internal::Bootstrap::StartBeforeTheGuard();
  platform::Backend& backend = platform::CurrentBackend();
  if (die_with_parent_ && !backend.SupportsDieWithParent()) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = State::kInitial;
    return absl::UnimplementedError(
        absl::StrCat("die_with_parent is not supported by the '",
                     std::string(backend.name()), "' backend"));
  }
  internal::StartRequest request;
  request.die_with_parent = die_with_parent_;
  absl::StatusOr<internal::StartedChild> child = popen.Start(*this, request);
  std::lock_guard<std::mutex> lock(mu_);
  if (!child.ok()) {
    // As in CPython, a start that failed may be tried again.
    state_ = State::kInitial;
    // PicklingError for what cannot be sent; an OS failure (fork: EAGAIN;
    // exec: ENOENT) carries its OSError subclass (popen.h).
    return child.status();
  }
  auto record = std::make_shared<ChildRecord>();
  record->child = std::move(child->child);
  record->name =
      name_.has_value()
          ? *name_
          : absl::StrCat(class_name(), "-", absl::StrJoin(identity_, ":"));
  record->daemon = daemon_;
  record->spawn_token = std::move(child->spawn_token);
  record_ = record;
  // CPython drops its references to target, args and kwargs once the child has
  // them.
  target_ = nullptr;
  spawn_target_ = nullptr;
  state.AddChild(std::move(record));
  state.EnsureExitHandlerRegistered();
  return absl::OkStatus();
}

void Process::run() {
  // The target stays owned by the object: run() may be called more than once.
  std::shared_ptr<BoundTarget> target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = target_;
  }
  if (target != nullptr && *target) (*target)();
}

absl::Status Process::Wait(absl::Time deadline) {
  if (absl::Status closed = CheckNotClosed(); !closed.ok()) return closed;
  if (IsCurrentProcess() || !CreatedByThisProcess()) {
    return AssertionError("can only join a child process");
  }
  std::shared_ptr<ChildRecord> child = record();
  if (child == nullptr)
    return AssertionError("can only join a started process");
  absl::StatusOr<std::optional<platform::ExitStatus>> status =
      child->child->Wait(deadline);
  if (!status.ok()) return status.status();
  if (status->has_value()) ProcessState::Get().RemoveChild(child.get());
  return absl::OkStatus();
}

absl::Status Process::join(std::optional<double> timeout) {
  absl::StatusOr<absl::Time> deadline = internal::TimeoutDeadline(timeout);
  if (!deadline.ok()) return deadline.status();
  return Wait(*deadline);
}

absl::Status Process::join(absl::Duration timeout) {
  return Wait(DeadlineAfter(timeout));
}

absl::StatusOr<bool> Process::is_alive() {
  if (absl::Status closed = CheckNotClosed(); !closed.ok()) return closed;
  if (IsCurrentProcess()) return true;
  if (!CreatedByThisProcess())
    return AssertionError("can only test a child process");
  std::shared_ptr<ChildRecord> child = record();
  if (child == nullptr) return false;
  if (!Poll(*child).has_value()) return true;
  ProcessState::Get().RemoveChild(child.get());
  return false;
}

absl::Status Process::Signal(platform::Signal signal, absl::string_view verb) {
  if (absl::Status closed = CheckNotClosed(); !closed.ok()) return closed;
  if (IsCurrentProcess() || !CreatedByThisProcess()) {
    return AssertionError(absl::StrCat("can only ", verb, " a child process"));
  }
  std::shared_ptr<ChildRecord> child = record();
  if (child == nullptr)
    return AssertionError(
        absl::StrCat("can only ", verb, " a started process"));
  return child->child->SendSignal(signal);
}

absl::Status Process::terminate() {
  return Signal(platform::Signal::kTerminate, "terminate");
}

absl::Status Process::kill() { return Signal(platform::Signal::kKill, "kill"); }

absl::Status Process::close() {
  std::shared_ptr<ChildRecord> child = record();
  if (child != nullptr && CreatedByThisProcess()) {
    if (!Poll(*child).has_value()) {
      return ValueError(
          "Cannot close a process while it is still running. You should first "
          "call join() or "
          "terminate().");
    }
    ProcessState::Get().RemoveChild(child.get());
  }
  std::lock_guard<std::mutex> lock(mu_);
  record_.reset();
  target_ = nullptr;
  spawn_target_ = nullptr;
  state_ = State::kClosed;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int>> Process::exitcode() {
  if (absl::Status closed = CheckNotClosed(); !closed.ok()) return closed;
  std::shared_ptr<ChildRecord> child = record();
  if (child == nullptr || !CreatedByThisProcess()) return std::optional<int>();
  std::optional<platform::ExitStatus> status = Poll(*child);
  if (!status.has_value()) return std::optional<int>();
  if (status->collected_elsewhere) return StatusCollectedElsewhere();
  return std::optional<int>(status->exitcode());
}

absl::StatusOr<std::optional<Pid>> Process::pid() const {
  if (absl::Status closed = CheckNotClosed(); !closed.ok()) return closed;
  if (IsCurrentProcess()) return std::optional<Pid>(platform::CurrentPid());
  std::shared_ptr<ChildRecord> child = record();
  if (child == nullptr) return std::optional<Pid>();
  return std::optional<Pid>(child->child->pid());
}

absl::StatusOr<Handle> Process::sentinel() const {
  if (absl::Status closed = CheckNotClosed(); !closed.ok()) return closed;
  std::shared_ptr<ChildRecord> child = record();
  if (child == nullptr) return ValueError("process not started");
  return child->child->sentinel();
}

internal::ChildState Process::child_state(internal::BootstrapKey) const {
  internal::ChildState state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state.name = name_;
    state.daemon = daemon_;
    state.authkey = authkey_;
    state.parent_name = creator_name_;
    state.target = target_;
    state.spawn_target = spawn_target_;
  }
  state.identity = identity_;
  state.parent_pid = creator_pid_;
  state.bound_to_context = context_ != nullptr;
  state.class_name = class_name();
  return state;
}

void Process::restore_child_state(internal::BootstrapKey,
                                  internal::ChildState state) {
  identity_ = std::move(state.identity);
  creator_pid_ = state.parent_pid;
  std::lock_guard<std::mutex> lock(mu_);
  name_ = std::move(state.name);
  daemon_ = state.daemon;
  authkey_ = std::move(state.authkey);
  creator_name_ = std::move(state.parent_name);
  target_ = std::move(state.target);
  spawn_target_ = nullptr;
}

std::string Process::class_name() const {
  // CPython's main process object is a _MainProcess, and its repr says so. A
  // C++ class cannot carry that name (a leading underscore and capital are
  // reserved), so the main process object, the only one without a creator,
  // names it here.
  if (!creator_pid_.has_value()) return "_MainProcess";
  // CPython's ctx.Process is a class of the context's own (ForkProcess,
  // SpawnProcess, ForkServerProcess); multiprocessing.Process, the default
  // context's, is Process.
  if (context_ != nullptr && typeid(*this) == typeid(Process))
    return std::string(context_->popen().process_class());
  return internal::UnqualifiedTypeName(typeid(*this));
}

std::string Process::name() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (name_.has_value()) return *name_;
  // The default name uses the most derived class's name, as CPython's
  // type(self).__name__.
  return absl::StrCat(class_name(), "-", absl::StrJoin(identity_, ":"));
}

void Process::set_name(std::string name) {
  std::lock_guard<std::mutex> lock(mu_);
  name_ = std::move(name);
}

bool Process::daemon() const {
  std::lock_guard<std::mutex> lock(mu_);
  return daemon_;
}

absl::Status Process::set_daemon(bool daemon) {
  std::lock_guard<std::mutex> lock(mu_);
  // CPython asserts `self._popen is None`: started and not yet closed. So the
  // flag may be set again after close(), on the main process object, and by a
  // child on its own object.
  if (record_ != nullptr) return AssertionError("process has already started");
  daemon_ = daemon;
  return absl::OkStatus();
}

std::string Process::authkey() const {
  std::lock_guard<std::mutex> lock(mu_);
  return authkey_;
}

void Process::set_authkey(std::string authkey) {
  std::lock_guard<std::mutex> lock(mu_);
  authkey_ = std::move(authkey);
}

std::string Process::repr() {
  std::optional<int> code;
  std::string status;
  std::shared_ptr<ChildRecord> child = record();
  State state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = state_;
  }
  if (IsCurrentProcess()) {
    status = "started";
  } else if (state == State::kClosed) {
    status = "closed";
  } else if (!CreatedByThisProcess()) {
    status = "unknown";
  } else if (child == nullptr) {
    status = "initial";
  } else if (std::optional<platform::ExitStatus> exit = Poll(*child);
             exit.has_value()) {
    status = "stopped";
    if (!exit->collected_elsewhere) code = exit->exitcode();
  } else {
    status = "started";
  }
  // name=%r: Python's repr of the name, quotes and escapes included.
  std::string out =
      absl::StrCat("<", class_name(), " name=", Value(name()).repr());
  if (child != nullptr) absl::StrAppend(&out, " pid=", child->child->pid());
  absl::StrAppend(
      &out, " parent=",
      creator_pid_.has_value() ? absl::StrCat(*creator_pid_) : "None", " ",
      status);
  if (code.has_value()) {
    const std::string signal_name =
        *code < 0 ? platform::SignalName(-*code) : "";
    absl::StrAppend(&out, " exitcode=",
                    signal_name.empty() ? absl::StrCat(*code)
                                        : absl::StrCat("-", signal_name));
  }
  if (daemon()) absl::StrAppend(&out, " daemon");
  return out + ">";
}

void Process::UnexpectedKeywordArgument(const Kwargs& kwargs) {
  // CPython: TypeError: task() got an unexpected keyword argument 'name'. The
  // child fails with exitcode 1 like any uncaught exception.
  throw TypeError(absl::StrCat("target() got an unexpected keyword argument '",
                               kwargs.begin()->first, "'"));
}

}  // namespace procspec
