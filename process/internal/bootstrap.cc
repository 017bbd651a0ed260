#include "process/internal/bootstrap.h"

#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <variant>

#include "absl/time/clock.h"
#include "absl/time/time.h"
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
    const absl::Time deadline = timeout.has_value()
                                    ? absl::Now() + absl::Seconds(*timeout)
                                    : absl::InfiniteFuture();
    const Handle handles[] = {watch_->sentinel()};
    (void)platform::WaitReadable(handles, deadline);
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

}  // namespace

int Bootstrap::Run(Process& process, platform::ChildContext& context) {
  std::string parent_name;
  {
    absl::MutexLock lock(&process.mu_);
    parent_name = process.creator_name_;
  }
  ProcessState::ResetForChild(
      &process, process.identity_,
      std::make_unique<WatchedParent>(std::move(parent_name),
                                      std::move(context.parent)));
  if (absl::Status status = platform::RedirectStdinToNull(); !status.ok()) {
    std::cerr << "procspec: could not replace stdin: " << status << "\n";
  }
  const int exitcode = RunAndMapExit(process);
  // As CPython's `finally: util._exit_function()`: the child's own children are
  // dealt with whatever way run() ended.
  ProcessState::Get().RunExitHandling();
  platform::FlushStandardStreams();
  return exitcode;
}

}  // namespace procspec::internal
