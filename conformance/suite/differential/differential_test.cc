// Differential checks: each test runs a Python program under python3 (CPython
// 3.11, under this instance's start method) that prints what it observes as
// key=value facts, does the same with procspec in C++, and compares the two
// fact by fact: error messages, exit codes, names, reprs (pids masked), and
// what the module functions report. Without python3 the tests are UNSUPPORTED,
// never passed. Targets are module-level functions in Python and registered
// functions (PROCSPEC_TARGET) in C++, so the tests run under fork, spawn and
// forkserver; the one check that needs a forked copy of the parent (an object
// created by another process) is made under fork only, on both sides.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/differential/python_oracle.h"
#include "platform/platform.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/testing/child_targets.h"

namespace conformance {
namespace {

using ::conformance::testing::KillOnExit;
namespace platform = ::procspec::platform;
using ::conformance::module_testing::ExpectSameFacts;
using ::conformance::module_testing::Facts;
using ::conformance::module_testing::MaskRepr;
using ::conformance::module_testing::Outcome;
using ::conformance::module_testing::PyStr;
using ::conformance::module_testing::PythonRun;
using ::conformance::module_testing::ReportPipe;
using ::conformance::module_testing::ReportWriter;
using ::conformance::module_testing::RunPython;
using ::conformance::module_testing::WaitUntilEnded;
using ::procspec::InheritedHandle;

// str() of an optional property, or the error as outcome() prints it.
template <typename T>
std::string PyValue(const absl::StatusOr<std::optional<T>>& value) {
  if (!value.ok()) return Outcome(value.status());
  return value->has_value() ? absl::StrCat(**value) : "None";
}
std::string PyValue(const absl::StatusOr<bool>& value) {
  return value.ok() ? PyStr(*value) : Outcome(value.status());
}

procspec::Pid PidOf(procspec::Process& p) {
  absl::StatusOr<std::optional<procspec::Pid>> pid = p.pid();
  return pid.ok() && pid->has_value() ? **pid : -1;
}

// Merges facts a child reported into `facts`; a key reported twice fails.
void Merge(Facts reported, Facts& facts) {
  for (auto& [key, value] : reported) {
    EXPECT_TRUE(facts.emplace(key, std::move(value)).second)
        << "fact \"" << key << "\" reported twice";
  }
}

// A pipe whose read end children block on until the test writes one byte per
// child (the Python programs send one message on an mp.Pipe, which the
// children poll). Children get the read end as an argument: Hold::Child().
struct Hold {
  platform::PipeEnds ends;
  InheritedHandle Child() const { return InheritedHandle(ends.read.get()); }
  absl::Status Release(int children) const {
    return platform::WriteAll(ends.write.get(), std::string(children, 'x'));
  }
};

absl::StatusOr<Hold> MakeHold() {
  absl::StatusOr<platform::PipeEnds> ends = platform::MakePipe();
  if (!ends.ok()) return ends.status();
  return Hold{*std::move(ends)};
}

// Whether children are forked copies of this process, which can use objects
// the parent created (CPython cannot send a Process object to a spawned child:
// pickling its authkey is refused).
bool ChildrenAreForkedCopies() { return StartMethod() == "fork"; }

// ---- Targets shared by the tests -------------------------------------------

void DiffNoop() {}
PROCSPEC_TARGET(DiffNoop);

// Blocks until the test writes a byte to the Hold (or closes it).
void DiffHold(InheritedHandle hold) { (void)platform::ReadSome(hold.get(), 1); }
PROCSPEC_TARGET(DiffHold);

// ---- Error messages --------------------------------------------------------

constexpr char kErrorsScript[] = R"py(
def noop():
    pass


def hold(release):
    release.poll(None)


def in_child(foreign):
    if foreign is not None:
        fact("child.error.foreign_start", outcome(foreign.start))
        fact("child.error.foreign_join", outcome(foreign.join))
        fact("child.error.foreign_is_alive", outcome(foreign.is_alive))
    fact("child.error.join_self", outcome(mp.current_process().join))


def in_daemon():
    fact("daemon.value.new_default_daemon", mp.Process(target=noop).daemon)
    fact("daemon.error.start_child", outcome(mp.Process(target=noop).start))


def main():
    p = mp.Process(target=noop)
    fact("unstarted.value.pid", p.pid)
    fact("unstarted.value.ident", p.ident)
    fact("unstarted.value.exitcode", p.exitcode)
    fact("unstarted.value.is_alive", p.is_alive())
    fact("unstarted.error.join", outcome(p.join))
    fact("unstarted.error.join_timeout", outcome(lambda: p.join(0.1)))
    fact("unstarted.error.sentinel", outcome(lambda: p.sentinel))
    fact("unstarted.error.close", outcome(p.close))
    fact("unstarted.error.close_again", outcome(p.close))
    fact("unstarted.error.closed_start", outcome(p.start))
    fact("unstarted.error.closed_sentinel", outcome(lambda: p.sentinel))
    fact("main.error.join_self", outcome(mp.current_process().join))

    release, releaser = mp.Pipe(duplex=False)
    held = mp.Process(target=hold, args=(release,), name="held")
    held.start()
    fact("running.error.start_twice", outcome(held.start))
    fact("running.error.set_daemon", outcome(lambda: setattr(held, "daemon", True)))
    fact("running.error.close", outcome(held.close))
    fact("running.value.is_alive_after_close", held.is_alive())
    releaser.send_bytes(b"x")
    held.join()
    fact("ended.error.start_twice", outcome(held.start))
    fact("ended.error.set_daemon", outcome(lambda: setattr(held, "daemon", True)))
    fact("ended.error.close", outcome(held.close))
    fact("closed.error.close_again", outcome(held.close))
    fact("closed.error.start", outcome(held.start))
    fact("closed.error.join", outcome(held.join))
    fact("closed.error.join_timeout", outcome(lambda: held.join(0.1)))
    fact("closed.error.is_alive", outcome(held.is_alive))
    fact("closed.error.terminate", outcome(held.terminate))
    fact("closed.error.kill", outcome(held.kill))
    for name in ("exitcode", "pid", "ident", "sentinel"):
        fact(f"closed.error.{name}", outcome(lambda: getattr(held, name)))
    fact("closed.value.name", held.name)
    fact("closed.value.daemon", held.daemon)
    fact("closed.value.authkey_is_inherited", held.authkey == mp.current_process().authkey)
    fact("closed.error.set_name", outcome(lambda: setattr(held, "name", "renamed")))
    fact("closed.error.set_daemon", outcome(lambda: setattr(held, "daemon", True)))
    fact("closed.value.name_after_set", held.name)
    fact("closed.value.daemon_after_set", held.daemon)
    fact("closed.value.repr", masked_repr(held, None, os.getpid()))

    # Only a forked child can use an object its parent created.
    foreign = mp.Process(target=noop) if mp.get_start_method() == "fork" else None
    child = mp.Process(target=in_child, args=(foreign,))
    child.start()
    child.join()
    fact("child.value.exitcode", child.exitcode)
    daemon = mp.Process(target=in_daemon, daemon=True)
    daemon.start()
    daemon.join()
    fact("daemon.value.exitcode", daemon.exitcode)
)py";

// A child's own Process object: joining it fails.
void DiffJoinSelf(ReportWriter report) {
  (void)report.SendFact("child.error.join_self",
                        Outcome(procspec::current_process().join()));
}
PROCSPEC_TARGET(DiffJoinSelf);

// A daemonic child: a new Process is not daemonic, and starting it fails.
void DiffInDaemon(ReportWriter report) {
  procspec::Process grandchild(DiffNoop);
  (void)report.SendFact("daemon.value.new_default_daemon",
                        PyStr(grandchild.daemon()));
  (void)report.SendFact("daemon.error.start_child",
                        Outcome(grandchild.start()));
}
PROCSPEC_TARGET(DiffInDaemon);

// Every error condition gives CPython's exception type and exact message:
// join/sentinel before start, start twice, daemon after start, join self,
// close while running, every operation on a closed object (and what still
// works), an object created by another process (under fork: only a forked
// child has such an object), a daemonic process starting a child.
CONFORMANCE_TEST(
    Differential, ErrorMessagesMatchCPython, "process.start.twice_error",
    "process.start.foreign_object_error", "process.join.not_started_error",
    "process.join.not_child_error", "process.is_alive.not_child_error",
    "process.is_alive.not_started_false",
    "process.daemon.set_after_start_error", "process.daemon.no_children",
    "process.daemon.default_inherits", "process.close.running_error",
    "process.close.idempotent", "process.close.before_start",
    "process.close.closed_errors", "process.close.still_available",
    "process.sentinel.not_started_error", "process.pid.none_before_start",
    "process.exitcode.none_until_exit", "process.authkey.inherited") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kErrorsScript));

  Facts cpp;
  procspec::Process p(DiffNoop);
  cpp["unstarted.value.pid"] = PyValue(p.pid());
  cpp["unstarted.value.ident"] = PyValue(p.ident());
  cpp["unstarted.value.exitcode"] = PyValue(p.exitcode());
  cpp["unstarted.value.is_alive"] = PyValue(p.is_alive());
  cpp["unstarted.error.join"] = Outcome(p.join());
  cpp["unstarted.error.join_timeout"] = Outcome(p.join(0.1));
  cpp["unstarted.error.sentinel"] = Outcome(p.sentinel());
  cpp["unstarted.error.close"] = Outcome(p.close());
  cpp["unstarted.error.close_again"] = Outcome(p.close());
  cpp["unstarted.error.closed_start"] = Outcome(p.start());
  cpp["unstarted.error.closed_sentinel"] = Outcome(p.sentinel());
  cpp["main.error.join_self"] = Outcome(procspec::current_process().join());

  ASSERT_OK_AND_ASSIGN(Hold hold, MakeHold());
  procspec::Process held(DiffHold, std::tuple{hold.Child()}, {.name = "held"});
  KillOnExit held_reaper(held);
  ASSERT_OK(held.start());
  cpp["running.error.start_twice"] = Outcome(held.start());
  cpp["running.error.set_daemon"] = Outcome(held.set_daemon(true));
  cpp["running.error.close"] = Outcome(held.close());
  cpp["running.value.is_alive_after_close"] = PyValue(held.is_alive());
  ASSERT_OK(hold.Release(1));
  ASSERT_OK(held.join());
  cpp["ended.error.start_twice"] = Outcome(held.start());
  cpp["ended.error.set_daemon"] = Outcome(held.set_daemon(true));
  cpp["ended.error.close"] = Outcome(held.close());
  cpp["closed.error.close_again"] = Outcome(held.close());
  cpp["closed.error.start"] = Outcome(held.start());
  cpp["closed.error.join"] = Outcome(held.join());
  cpp["closed.error.join_timeout"] = Outcome(held.join(0.1));
  cpp["closed.error.is_alive"] = Outcome(held.is_alive());
  cpp["closed.error.terminate"] = Outcome(held.terminate());
  cpp["closed.error.kill"] = Outcome(held.kill());
  cpp["closed.error.exitcode"] = Outcome(held.exitcode());
  cpp["closed.error.pid"] = Outcome(held.pid());
  cpp["closed.error.ident"] = Outcome(held.ident());
  cpp["closed.error.sentinel"] = Outcome(held.sentinel());
  cpp["closed.value.name"] = held.name();
  cpp["closed.value.daemon"] = PyStr(held.daemon());
  cpp["closed.value.authkey_is_inherited"] =
      PyStr(held.authkey() == procspec::current_process().authkey());
  held.set_name("renamed");
  cpp["closed.error.set_name"] = "OK";  // a setter without an error path
  cpp["closed.error.set_daemon"] = Outcome(held.set_daemon(true));
  cpp["closed.value.name_after_set"] = held.name();
  cpp["closed.value.daemon_after_set"] = PyStr(held.daemon());
  cpp["closed.value.repr"] =
      MaskRepr(held.repr(), held.name(), std::nullopt, platform::CurrentPid());

  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process foreign(DiffNoop);
  const ReportWriter writer = report.Writer();
  std::unique_ptr<procspec::Process> child;
  if (ChildrenAreForkedCopies()) {
    child = std::make_unique<procspec::Process>([&foreign, writer] {
      (void)writer.SendFact("child.error.foreign_start",
                            Outcome(foreign.start()));
      (void)writer.SendFact("child.error.foreign_join",
                            Outcome(foreign.join()));
      (void)writer.SendFact("child.error.foreign_is_alive",
                            Outcome(foreign.is_alive()));
      DiffJoinSelf(writer);
    });
  } else {
    child =
        std::make_unique<procspec::Process>(DiffJoinSelf, std::tuple{writer});
  }
  KillOnExit child_reaper(*child);
  ASSERT_OK(child->start());
  ASSERT_OK(child->join());
  cpp["child.value.exitcode"] = PyValue(child->exitcode());
  procspec::Process daemon(DiffInDaemon, std::tuple{writer}, {.daemon = true});
  KillOnExit daemon_reaper(daemon);
  ASSERT_OK(daemon.start());
  report.CloseWriteEnd();
  ASSERT_OK(daemon.join());
  cpp["daemon.value.exitcode"] = PyValue(daemon.exitcode());
  ASSERT_OK_AND_ASSIGN(Facts reported, report.ReadFacts());
  Merge(std::move(reported), cpp);

  ExpectSameFacts(python.facts, cpp);
}

// ---- Exit codes and repr ---------------------------------------------------

constexpr char kExitsScript[] = R"py(
def noop():
    pass


def hold(release):
    release.poll(None)


def fail():
    raise KeyError("boom")


def report_own_repr():
    fact("repr.in_child",
         masked_repr(mp.current_process(), None, mp.parent_process().pid))


CASES = [
    ("return", noop, ()),
    ("no_target", None, ()),
    ("exit_none", sys.exit, ()),
    ("exit_0", sys.exit, (0,)),
    ("exit_3", sys.exit, (3,)),
    ("exit_255", sys.exit, (255,)),
    ("exit_256", sys.exit, (256,)),
    ("exit_257", sys.exit, (257,)),
    ("exit_minus_1", sys.exit, (-1,)),
    ("exit_1000", sys.exit, (1000,)),
    ("exit_true", sys.exit, (True,)),
    ("exit_message", sys.exit, ("bye",)),
    ("exception", fail, ()),
]


def main():
    parent = os.getpid()
    for key, target, args in CASES:
        p = mp.Process(target=target, args=args)
        p.start()
        p.join()
        fact(f"exitcode.{key}", p.exitcode)
        if key in ("return", "exit_3"):
            fact(f"repr.stopped_{key}", masked_repr(p, p.pid, parent))
    release, releaser = mp.Pipe(duplex=False)
    for key, stop in (("terminate", "terminate"), ("kill", "kill")):
        p = mp.Process(target=hold, args=(release,))
        p.start()
        getattr(p, stop)()
        p.join()
        fact(f"exitcode.{key}", p.exitcode)
        fact(f"repr.{key}", masked_repr(p, p.pid, parent))
        p.close()
        fact(f"repr.{key}_closed", masked_repr(p, None, parent))
    p = mp.Process(target=hold, args=(release,))
    fact("repr.initial", masked_repr(p, None, parent))
    p.daemon = True
    fact("repr.initial_daemon", masked_repr(p, None, parent))
    p.start()
    fact("repr.started_daemon", masked_repr(p, p.pid, parent))
    releaser.send_bytes(b"x")
    p.join()
    fact("repr.stopped_daemon", masked_repr(p, p.pid, parent))
    fact("repr.main", repr(mp.current_process()))
    p = mp.Process(target=report_own_repr)
    p.start()
    p.join()
)py";

void DiffExitNone() { procspec::Exit(); }
PROCSPEC_TARGET(DiffExitNone);
void DiffExitTrue() { procspec::Exit(true); }
PROCSPEC_TARGET(DiffExitTrue);
void DiffExitMessage(std::string message) { procspec::Exit(message); }
PROCSPEC_TARGET(DiffExitMessage);
void DiffThrowOutOfRange() { throw std::out_of_range("boom"); }
PROCSPEC_TARGET(DiffThrowOutOfRange);

// Reports the child's own repr, its name and its parent's pid masked.
void DiffReportOwnRepr(ReportWriter report) {
  procspec::Process& self = procspec::current_process();
  procspec::ParentProcess* parent_process = procspec::parent_process();
  (void)report.SendFact(
      "repr.in_child",
      MaskRepr(self.repr(), self.name(), std::nullopt,
               parent_process == nullptr
                   ? std::nullopt
                   : std::optional<procspec::Pid>(parent_process->pid())));
}
PROCSPEC_TARGET(DiffReportOwnRepr);

// A child's exitcode for every way of ending (return, no target, Exit with
// None/0/n/true/a message, an uncaught exception, terminate, kill), and the
// repr of a process in every state (name, pid and parent masked), of the main
// process and of the current process in a child.
CONFORMANCE_TEST(Differential, ExitcodesAndReprMatchCPython,
                 "process.exitcode.return_zero",
                 "process.exitcode.exit_truncated",
                 "process.exitcode.exit_message", "process.exitcode.exception",
                 "process.exitcode.signal", "process.terminate.sigterm",
                 "process.kill.sigkill", "process.run.no_target_exit_zero",
                 "process.repr.format", "module.current_process.main",
                 "module.current_process.in_child") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kExitsScript));

  Facts cpp;
  const procspec::Pid parent = platform::CurrentPid();
  using Make = std::function<std::unique_ptr<procspec::Process>()>;
  auto with = [](auto target, auto args) -> Make {
    return [target, args] {
      return std::make_unique<procspec::Process>(target, args);
    };
  };
  const std::vector<std::pair<std::string, Make>> cases = {
      {"return", with(DiffNoop, std::tuple{})},
      {"no_target", [] { return std::make_unique<procspec::Process>(); }},
      {"exit_none", with(DiffExitNone, std::tuple{})},
      {"exit_0", with(procspec::testing::ExitWith, std::tuple{0})},
      {"exit_3", with(procspec::testing::ExitWith, std::tuple{3})},
      {"exit_255", with(procspec::testing::ExitWith, std::tuple{255})},
      {"exit_256", with(procspec::testing::ExitWith, std::tuple{256})},
      {"exit_257", with(procspec::testing::ExitWith, std::tuple{257})},
      {"exit_minus_1", with(procspec::testing::ExitWith, std::tuple{-1})},
      {"exit_1000", with(procspec::testing::ExitWith, std::tuple{1000})},
      {"exit_true", with(DiffExitTrue, std::tuple{})},
      {"exit_message", with(DiffExitMessage, std::tuple{std::string("bye")})},
      {"exception", with(DiffThrowOutOfRange, std::tuple{})},
  };
  for (const auto& [key, make] : cases) {
    std::unique_ptr<procspec::Process> p = make();
    KillOnExit reaper(*p);
    ASSERT_OK(p->start());
    ASSERT_OK(p->join());
    cpp["exitcode." + key] = PyValue(p->exitcode());
    if (key == "return" || key == "exit_3") {
      cpp["repr.stopped_" + key] =
          MaskRepr(p->repr(), p->name(), PidOf(*p), parent);
    }
  }
  ASSERT_OK_AND_ASSIGN(Hold hold, MakeHold());
  for (const std::string key : {"terminate", "kill"}) {
    procspec::Process p(DiffHold, std::tuple{hold.Child()});
    KillOnExit reaper(p);
    ASSERT_OK(p.start());
    ASSERT_OK(key == "terminate" ? p.terminate() : p.kill());
    ASSERT_OK(p.join());
    const procspec::Pid pid = PidOf(p);
    cpp["exitcode." + key] = PyValue(p.exitcode());
    cpp["repr." + key] = MaskRepr(p.repr(), p.name(), pid, parent);
    ASSERT_OK(p.close());
    cpp["repr." + key + "_closed"] =
        MaskRepr(p.repr(), p.name(), std::nullopt, parent);
  }
  procspec::Process p(DiffHold, std::tuple{hold.Child()});
  KillOnExit reaper(p);
  cpp["repr.initial"] = MaskRepr(p.repr(), p.name(), std::nullopt, parent);
  ASSERT_OK(p.set_daemon(true));
  cpp["repr.initial_daemon"] =
      MaskRepr(p.repr(), p.name(), std::nullopt, parent);
  ASSERT_OK(p.start());
  cpp["repr.started_daemon"] = MaskRepr(p.repr(), p.name(), PidOf(p), parent);
  ASSERT_OK(hold.Release(1));
  ASSERT_OK(p.join());
  cpp["repr.stopped_daemon"] = MaskRepr(p.repr(), p.name(), PidOf(p), parent);
  cpp["repr.main"] = procspec::current_process().repr();

  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process reporter(DiffReportOwnRepr, std::tuple{report.Writer()});
  KillOnExit reporter_reaper(reporter);
  ASSERT_OK(reporter.start());
  report.CloseWriteEnd();
  ASSERT_OK(reporter.join());
  ASSERT_OK_AND_ASSIGN(Facts reported, report.ReadFacts());
  Merge(std::move(reported), cpp);

  ExpectSameFacts(python.facts, cpp);
}

// ---- Names -----------------------------------------------------------------

constexpr char kNamesScript[] = R"py(
class Pro(mp.Process):
    pass


def report_grandchild():
    fact("name.grandchild_current", mp.current_process().name)
    fact("name.grandchild_parent", mp.parent_process().name)


def report_child():
    fact("name.child_current", mp.current_process().name)
    fact("name.child_parent", mp.parent_process().name)
    first = mp.Process(target=report_grandchild)
    second = mp.Process()
    third = Pro()
    fact("name.grandchild_first", first.name)
    fact("name.grandchild_second", second.name)
    fact("name.grandchild_subclass", third.name)
    first.start()
    first.join()
    stop_fork_server()  # under forkserver, this child started one


def main():
    first = mp.Process()
    fact("name.first", first.name)
    fact("name.second", mp.Process().name)
    fact("name.empty", mp.Process(name="").name)
    fact("name.subclass", Pro().name)
    fact("name.given", mp.Process(name="given").name)
    fact("name.after_given", mp.Process().name)
    child = mp.Process(target=report_child)
    fact("name.child", child.name)
    fact("name.main", mp.current_process().name)
    child.start()
    child.join()
    fact("name.after_child", mp.Process().name)
)py";

// A subclass, for its default name ClassName-N.
class Pro : public procspec::Process {};

// Rewrites default names relative to `base`, the N of the first object the
// test made: "Process-7:1" with base 5 becomes "Process-{N+2}:1". Other names
// ("given", "MainProcess") are left alone. The counter of this test binary is
// shared with other tests, so only relative numbers can be compared.
std::string RelativeName(const std::string& name, int base) {
  const std::size_t dash = name.find('-');
  if (dash == std::string::npos) return name;
  const std::size_t end = name.find(':', dash);
  int number = 0;
  if (!absl::SimpleAtoi(
          name.substr(dash + 1, end == std::string::npos ? std::string::npos
                                                         : end - dash - 1),
          &number)) {
    return name;
  }
  return absl::StrCat(name.substr(0, dash), "-{N+", number - base, "}",
                      end == std::string::npos ? "" : name.substr(end));
}

// The name facts with every default name made relative to name.first's.
Facts RelativeNames(const Facts& facts) {
  auto first = facts.find("name.first");
  if (first == facts.end()) return facts;
  int base = 0;
  const std::size_t dash = first->second.find('-');
  if (dash == std::string::npos ||
      !absl::SimpleAtoi(first->second.substr(dash + 1), &base)) {
    return facts;
  }
  Facts relative;
  for (const auto& [key, value] : facts) {
    relative[key] = RelativeName(value, base);
  }
  return relative;
}

void DiffNamesGrandchild(ReportWriter report) {
  (void)report.SendFact("name.grandchild_current",
                        procspec::current_process().name());
  (void)report.SendFact("name.grandchild_parent",
                        procspec::parent_process()->name());
}
PROCSPEC_TARGET(DiffNamesGrandchild);

void DiffNamesChild(ReportWriter report) {
  (void)report.SendFact("name.child_current",
                        procspec::current_process().name());
  (void)report.SendFact("name.child_parent",
                        procspec::parent_process()->name());
  procspec::Process first(DiffNamesGrandchild, std::tuple{report});
  procspec::Process second;
  Pro third;
  (void)report.SendFact("name.grandchild_first", first.name());
  (void)report.SendFact("name.grandchild_second", second.name());
  (void)report.SendFact("name.grandchild_subclass", third.name());
  (void)first.start();
  (void)first.join();
}
PROCSPEC_TARGET(DiffNamesChild);

// Default names count constructions (any class, named or not, empty name
// included) and nest in a child as <child's N>:<M>; a child sees its own name
// and its parent's.
CONFORMANCE_TEST(Differential, NamesMatchCPython, "process.name.default",
                 "process.name.counter_shared_across_classes",
                 "process.name.nested_in_child",
                 "process.name.empty_gets_default", "process.name.settable",
                 "module.current_process.main",
                 "module.current_process.in_child",
                 "module.parent_process.in_child") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kNamesScript));

  Facts cpp;
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process first;
  cpp["name.first"] = first.name();
  cpp["name.second"] = procspec::Process().name();
  cpp["name.empty"] = procspec::Process({.name = ""}).name();
  cpp["name.subclass"] = Pro().name();
  cpp["name.given"] = procspec::Process({.name = "given"}).name();
  cpp["name.after_given"] = procspec::Process().name();
  procspec::Process child(DiffNamesChild, std::tuple{report.Writer()});
  KillOnExit reaper(child);
  cpp["name.child"] = child.name();
  cpp["name.main"] = procspec::current_process().name();
  ASSERT_OK(child.start());
  report.CloseWriteEnd();
  ASSERT_OK(child.join());
  cpp["name.after_child"] = procspec::Process().name();
  ASSERT_OK_AND_ASSIGN(Facts reported, report.ReadFacts());
  Merge(std::move(reported), cpp);

  ExpectSameFacts(RelativeNames(python.facts), RelativeNames(cpp));
}

// ---- Module functions ------------------------------------------------------

constexpr char kModuleScript[] = R"py(
counter = 7


def hold(release):
    release.poll(None)


def report_child(release):
    global counter
    fact("child.state.counter_at_start", counter)
    counter = 99
    fact("child.state.counter_after_write", counter)
    me = mp.current_process()
    fact("child.current.name", me.name)
    fact("child.current.daemon", me.daemon)
    fact("child.current.exitcode", me.exitcode)
    fact("child.current.is_alive", me.is_alive())
    fact("child.current.pid_is_getpid", me.pid == os.getpid())
    fact("child.current.ident_is_getpid", me.ident == os.getpid())
    fact("child.active_children", ",".join(sorted(c.name for c in mp.active_children())))
    fact("child.cpu_count", mp.cpu_count())
    release.poll(None)


def main():
    from multiprocessing import connection
    global counter
    me = mp.current_process()
    fact("main.name", me.name)
    fact("main.daemon", me.daemon)
    fact("main.exitcode", me.exitcode)
    fact("main.is_alive", me.is_alive())
    fact("main.pid_is_getpid", me.pid == os.getpid())
    fact("main.ident_is_getpid", me.ident == os.getpid())
    fact("main.parent_process", mp.parent_process())
    fact("cpu_count", mp.cpu_count())
    release, releaser = mp.Pipe(duplex=False)
    sibling = mp.Process(target=hold, args=(release,), name="sibling")
    unstarted = mp.Process(name="unstarted")
    child = mp.Process(target=report_child, args=(release,), name="worker", daemon=True)
    sibling.start()
    child.start()
    counter = 42
    fact("active.live", ",".join(sorted(f"{c.name}:{c.daemon}" for c in mp.active_children())))
    fact("active.pids_match", sorted(c.pid for c in mp.active_children()) == sorted([sibling.pid, child.pid]))
    fact("separate.pids_differ", len({os.getpid(), sibling.pid, child.pid}) == 3)
    releaser.send_bytes(b"x")
    for p in (sibling, child):
        connection.wait([p.sentinel])
        # The sentinel (a pipe) reports the exit a moment before the child is
        # a zombie; wait for that without reaping, as procspec's Wait does.
        # (Under forkserver the server has reaped the child already.)
        if mp.get_start_method() != "forkserver":
            os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    fact("active.after_exit", ",".join(sorted(c.name for c in mp.active_children())))
    fact("active.sibling_exitcode_without_join", sibling.exitcode)
    fact("active.child_exitcode_without_join", child.exitcode)
    fact("state.parent_counter_after_child", counter)
    sibling.join()
    child.join()
)py";

int g_counter = 7;

void DiffModuleChild(ReportWriter report, InheritedHandle hold) {
  (void)report.SendFact("child.state.counter_at_start",
                        absl::StrCat(g_counter));
  g_counter = 99;
  (void)report.SendFact("child.state.counter_after_write",
                        absl::StrCat(g_counter));
  procspec::Process& self = procspec::current_process();
  const procspec::Pid pid = platform::CurrentPid();
  (void)report.SendFact("child.current.name", self.name());
  (void)report.SendFact("child.current.daemon", PyStr(self.daemon()));
  (void)report.SendFact("child.current.exitcode", PyValue(self.exitcode()));
  (void)report.SendFact("child.current.is_alive", PyValue(self.is_alive()));
  (void)report.SendFact("child.current.pid_is_getpid",
                        PyStr(self.pid().value_or(std::nullopt) == pid));
  (void)report.SendFact("child.current.ident_is_getpid",
                        PyStr(self.ident().value_or(std::nullopt) == pid));
  std::vector<std::string> names;
  for (const procspec::ChildInfo& info : procspec::active_children()) {
    names.push_back(info.name);
  }
  std::sort(names.begin(), names.end());
  (void)report.SendFact("child.active_children", absl::StrJoin(names, ","));
  (void)report.SendFact("child.cpu_count", absl::StrCat(procspec::cpu_count()));
  DiffHold(hold);
}
PROCSPEC_TARGET(DiffModuleChild);

// What current_process(), parent_process(), active_children() and cpu_count()
// report in the main process and in a child, and that memory is not shared.
CONFORMANCE_TEST(Differential, ModuleFunctionsMatchCPython,
                 "module.current_process.main",
                 "module.current_process.in_child",
                 "module.parent_process.main_none",
                 "module.active_children.lists_live",
                 "module.active_children.child_starts_empty",
                 "module.cpu_count.positive", "module.state.not_shared",
                 "module.subprocess.separate_process",
                 "process.exitcode.without_join") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kModuleScript));

  Facts cpp;
  g_counter = 7;
  const procspec::Pid own_pid = platform::CurrentPid();
  procspec::Process& me = procspec::current_process();
  cpp["main.name"] = me.name();
  cpp["main.daemon"] = PyStr(me.daemon());
  cpp["main.exitcode"] = PyValue(me.exitcode());
  cpp["main.is_alive"] = PyValue(me.is_alive());
  cpp["main.pid_is_getpid"] = PyStr(me.pid().value_or(std::nullopt) == own_pid);
  cpp["main.ident_is_getpid"] =
      PyStr(me.ident().value_or(std::nullopt) == own_pid);
  cpp["main.parent_process"] =
      procspec::parent_process() == nullptr ? "None" : "not None";
  cpp["cpu_count"] = absl::StrCat(procspec::cpu_count());

  ASSERT_OK_AND_ASSIGN(Hold hold, MakeHold());
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process sibling(DiffHold, std::tuple{hold.Child()},
                            {.name = "sibling"});
  procspec::Process unstarted({.name = "unstarted"});
  procspec::Process child(DiffModuleChild,
                          std::tuple{report.Writer(), hold.Child()},
                          {.name = "worker", .daemon = true});
  KillOnExit sibling_reaper(sibling);
  KillOnExit child_reaper(child);
  ASSERT_OK(sibling.start());
  ASSERT_OK(child.start());
  report.CloseWriteEnd();
  g_counter = 42;
  const std::set<procspec::Pid> ours = {PidOf(sibling), PidOf(child)};
  std::vector<std::string> live;
  std::vector<procspec::Pid> live_pids;
  for (const procspec::ChildInfo& info : procspec::active_children()) {
    if (ours.count(info.pid) == 0 && info.name != "unstarted") continue;
    live.push_back(absl::StrCat(info.name, ":", PyStr(info.daemon)));
    live_pids.push_back(info.pid);
  }
  std::sort(live.begin(), live.end());
  std::sort(live_pids.begin(), live_pids.end());
  cpp["active.live"] = absl::StrJoin(live, ",");
  cpp["active.pids_match"] =
      PyStr(live_pids == std::vector<procspec::Pid>(ours.begin(), ours.end()));
  cpp["separate.pids_differ"] = PyStr(
      std::set<procspec::Pid>{own_pid, PidOf(sibling), PidOf(child)}.size() ==
      3);
  ASSERT_OK(hold.Release(2));
  ASSERT_OK(WaitUntilEnded(sibling));
  ASSERT_OK(WaitUntilEnded(child));
  std::vector<std::string> after;
  for (const procspec::ChildInfo& info : procspec::active_children()) {
    if (ours.count(info.pid) > 0) after.push_back(info.name);
  }
  cpp["active.after_exit"] = absl::StrJoin(after, ",");
  cpp["active.sibling_exitcode_without_join"] = PyValue(sibling.exitcode());
  cpp["active.child_exitcode_without_join"] = PyValue(child.exitcode());
  cpp["state.parent_counter_after_child"] = absl::StrCat(g_counter);
  ASSERT_OK_AND_ASSIGN(Facts reported, report.ReadFacts());
  Merge(std::move(reported), cpp);

  ExpectSameFacts(python.facts, cpp);
}

// ---- What a child writes to stderr -----------------------------------------

constexpr char kStderrScript[] = R"py(
def fail():
    raise ValueError("boom")


def main():
    message = mp.Process(target=sys.exit, args=("bye",))
    message.start()
    message.join()
    error = mp.Process(target=fail)
    error.start()
    error.join()
    fact("exitcodes", f"{message.exitcode},{error.exitcode}")
)py";

// A C++ exception named like the Python one, so that the last line of the
// report ("ValueError: boom") is comparable with the traceback's last line.
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The C++ equivalent of kStderrScript, in a fresh process so that its names
// start at Process-1 and its children's stderr can be captured.
void DiffThrowValueError() { throw ValueError("boom"); }
PROCSPEC_TARGET(DiffThrowValueError);

CONFORMANCE_CHILD_ENTRY(module_differential_stderr) {
  procspec::Process message(DiffExitMessage, std::tuple{std::string("bye")});
  if (!message.start().ok() || !message.join().ok()) return 20;
  procspec::Process error(DiffThrowValueError);
  if (!error.start().ok() || !error.join().ok()) return 21;
  std::printf("exitcodes=%s,%s\n", PyValue(message.exitcode()).c_str(),
              PyValue(error.exitcode()).c_str());
  std::fflush(stdout);
  return 0;
}

// The stderr lines that both programs must share: Exit's message, then the
// "Process <name>:" header and the error's last line (CPython prints a
// traceback in between, which C++ has not).
Facts StderrFacts(const std::string& err) {
  std::vector<std::string> lines = absl::StrSplit(err, '\n', absl::SkipEmpty());
  Facts facts;
  facts["stderr.line_count_at_least_3"] = PyStr(lines.size() >= 3);
  if (lines.size() >= 3) {
    facts["stderr.first"] = lines[0];
    facts["stderr.second"] = lines[1];
    facts["stderr.last"] = lines.back();
  }
  return facts;
}

// Exit("bye") prints "bye" and exits 1; an uncaught exception prints
// "Process Process-2:" and the error, and exits 1.
CONFORMANCE_TEST(Differential, ChildStderrMatchesCPython,
                 "process.exitcode.exit_message",
                 "process.exitcode.exception") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kStderrScript));
  ASSERT_OK_AND_ASSIGN(platform::testing::CommandResult cpp_run,
                       testing::RunChildEntry("module_differential_stderr"));
  EXPECT_EQ(cpp_run.status.exitcode(), 0) << cpp_run.err;
  std::vector<std::string> out_lines =
      absl::StrSplit(cpp_run.out, '\n', absl::SkipEmpty());
  ASSERT_OK_AND_ASSIGN(Facts cpp, module_testing::ParseFacts(out_lines));
  Merge(StderrFacts(cpp_run.err), cpp);
  Facts expected = python.facts;
  Merge(StderrFacts(python.err), expected);
  ExpectSameFacts(expected, cpp);
  // Nothing else: C++ has no traceback, so its stderr is exactly these lines.
  EXPECT_EQ(cpp_run.err, "bye\nProcess Process-2:\nValueError: boom\n");
}

}  // namespace
}  // namespace conformance
