// Differential checks of behaviours found by running small programs beside
// their Python twins under fork, spawn and forkserver (this instance's start
// method): a too-long message on a Pipe end, the class name a context gives a
// Process, and two whole programs of //examples with code before the main
// guard (an unguarded program, and argv read before the guard), each run
// beside its Python twin (examples/<name>.py).
#include <algorithm>
#include <cctype>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/examples.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/differential/python_oracle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "process/connection.h"
#include "process/context.h"
#include "process/process.h"
#include "process/spawn.h"

namespace conformance {
namespace {

namespace os = ::procspec::platform::testing;
using ::conformance::module_testing::ExpectSameFacts;
using ::conformance::module_testing::Facts;
using ::conformance::module_testing::Outcome;
using ::conformance::module_testing::PyStr;
using ::conformance::module_testing::PythonRun;
using ::conformance::module_testing::ReportPipe;
using ::conformance::module_testing::ReportWriter;
using ::conformance::module_testing::RunPython;
using ::conformance::module_testing::RunPythonFile;
using ::conformance::testing::FindExample;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::RunExample;
using ::procspec::Connection;

void ProgramsNoop() {}
PROCSPEC_TARGET(ProgramsNoop);

// ---- A too-long message on a duplex end and on a read-only end -------------

constexpr char kTooLongScript[] = R"py(
def send_long(conn, one_way, back):
    conn.send_bytes(b"0123456789")
    conn.send_bytes(b"xy")
    one_way.send_bytes(b"0123456789")
    back.send_bytes(conn.recv_bytes())


def main():
    mine, theirs = mp.Pipe()
    reader, writer = mp.Pipe(duplex=False)
    back_reader, back_writer = mp.Pipe(duplex=False)
    p = mp.Process(target=send_long, args=(theirs, writer, back_writer))
    p.start()
    fact("duplex.recv_too_long", outcome(lambda: mine.recv_bytes(4)))
    fact("duplex.closed", mine.closed)
    fact("duplex.readable", mine.readable)
    fact("duplex.writable", mine.writable)
    fact("duplex.send_after", outcome(lambda: mine.send_bytes(b"hi")))
    fact("duplex.recv_after", outcome(mine.recv_bytes))
    fact("duplex.poll_after", outcome(mine.poll))
    fact("peer.received", back_reader.recv_bytes().decode())
    fact("readonly.recv_too_long", outcome(lambda: reader.recv_bytes(4)))
    fact("readonly.closed", reader.closed)
    p.join()
    fact("child.exitcode", p.exitcode)
)py";

void DiffSendLong(Connection conn, Connection one_way, Connection back) {
  (void)conn.send_bytes("0123456789");
  (void)conn.send_bytes("xy");
  (void)one_way.send_bytes("0123456789");
  absl::StatusOr<std::string> reply = conn.recv_bytes();
  (void)back.send_bytes(reply.ok() ? *reply : Outcome(reply.status()));
}
PROCSPEC_TARGET(DiffSendLong);

CONFORMANCE_TEST(ProgramsDifferential, TooLongMessageMatchesCPython,
                 "communication.pipe.too_long_duplex",
                 "communication.pipe.bytes") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kTooLongScript));

  Facts cpp;
  ASSERT_OK_AND_ASSIGN(auto duplex, procspec::Pipe());
  ASSERT_OK_AND_ASSIGN(auto one_way, procspec::Pipe(false));
  ASSERT_OK_AND_ASSIGN(auto back, procspec::Pipe(false));
  auto& [mine, theirs] = duplex;
  auto& [reader, writer] = one_way;
  auto& [back_reader, back_writer] = back;
  procspec::Process p(DiffSendLong, std::tuple{theirs, writer, back_writer});
  KillOnExit reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  writer.close();
  back_writer.close();
  cpp["duplex.recv_too_long"] = Outcome(mine.recv_bytes(4));
  cpp["duplex.closed"] = PyStr(mine.closed());
  cpp["duplex.readable"] = PyStr(mine.readable());
  cpp["duplex.writable"] = PyStr(mine.writable());
  cpp["duplex.send_after"] = Outcome(mine.send_bytes("hi"));
  cpp["duplex.recv_after"] = Outcome(mine.recv_bytes());
  cpp["duplex.poll_after"] = Outcome(mine.poll());
  // Bounded: a child that never got the reply must fail the test, not hang it.
  absl::StatusOr<bool> replied = back_reader.poll(
      absl::ToDoubleSeconds(conformance::testing::EventTimeout()));
  absl::StatusOr<std::string> received =
      replied.value_or(false) ? back_reader.recv_bytes()
                              : absl::StatusOr<std::string>("(no reply)");
  cpp["peer.received"] = received.ok() ? *received : Outcome(received);
  cpp["readonly.recv_too_long"] = Outcome(reader.recv_bytes(4));
  cpp["readonly.closed"] = PyStr(reader.closed());
  ASSERT_OK_AND_ASSIGN(int code, conformance::testing::JoinSoon(p));
  cpp["child.exitcode"] = absl::StrCat(code);

  ExpectSameFacts(python.facts, cpp);
}

// ---- Class names under an explicit context ---------------------------------

constexpr char kContextNamesScript[] = R"py(
def noop():
    pass


def report(key):
    me = mp.current_process()
    fact(key + ".name", me.name)
    fact(key + ".class", repr(me).split(" ")[0])


def main():
    made = [
        ("default", mp.Process),
        ("default_context", mp.get_context().Process),
        ("fork", mp.get_context("fork").Process),
        ("spawn", mp.get_context("spawn").Process),
        ("forkserver", mp.get_context("forkserver").Process),
    ]
    for key, cls in made:
        p = cls(target=noop)
        fact("made." + key + ".name", p.name)
        fact("made." + key + ".class", repr(p).split(" ")[0])
    named = mp.get_context("spawn").Process(target=noop, name="given")
    fact("made.given.repr_prefix", repr(named).split(" parent")[0])
    ctx = mp.get_context(mp.get_start_method())
    for key, p in [("child.context", ctx.Process(target=report, args=("child.context",))),
                   ("child.default", mp.Process(target=report, args=("child.default",)))]:
        fact(key + ".parent_side", p.name)
        p.start()
        p.join()
        fact(key + ".exitcode", p.exitcode)
)py";

void DiffReportClass(ReportWriter writer, std::string key) {
  procspec::Process& me = procspec::current_process();
  const std::string repr = me.repr();
  (void)writer.SendFact(key + ".name", me.name());
  (void)writer.SendFact(key + ".class", repr.substr(0, repr.find(' ')));
}
PROCSPEC_TARGET(DiffReportClass);

// Rewrites every "<Class>-<N>" in the facts' values as "<Class>-<N - base>",
// `base` the number of the first default name: the suite has made other
// Process objects before, CPython's program has not.
Facts Relative(const Facts& facts) {
  int base = 0;
  if (auto first = facts.find("made.default.name"); first != facts.end()) {
    const std::size_t dash = first->second.rfind('-');
    if (dash != std::string::npos)
      (void)absl::SimpleAtoi(first->second.substr(dash + 1), &base);
  }
  Facts relative;
  for (const auto& [key, value] : facts) {
    std::string out;
    std::size_t i = 0;
    while (i < value.size()) {
      const std::size_t dash = value.find("Process-", i);
      if (dash == std::string::npos) break;
      std::size_t digits = dash + 8;
      std::size_t end = digits;
      while (end < value.size() && std::isdigit(value[end])) ++end;
      int n = 0;
      absl::StrAppend(&out, value.substr(i, digits - i));
      if (end > digits &&
          absl::SimpleAtoi(value.substr(digits, end - digits), &n)) {
        absl::StrAppend(&out, n - base);
      }
      i = end;
    }
    absl::StrAppend(&out, value.substr(std::min(i, value.size())));
    relative[key] = out;
  }
  return relative;
}

CONFORMANCE_TEST(ProgramsDifferential, ContextProcessNamesMatchCPython,
                 "process.name.context_class") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(PythonRun python, RunPython(kContextNamesScript));

  Facts cpp;
  auto record = [&cpp](const std::string& key, procspec::Process& p) {
    const std::string repr = p.repr();
    cpp["made." + key + ".name"] = p.name();
    cpp["made." + key + ".class"] = repr.substr(0, repr.find(' '));
  };
  {
    procspec::Process p(ProgramsNoop);
    record("default", p);
  }
  ASSERT_OK_AND_ASSIGN(const procspec::Context* current,
                       procspec::get_context());
  for (const auto& [key, context] :
       std::vector<std::pair<std::string, const procspec::Context*>>{
           {"default_context", current},
           {"fork", *procspec::get_context("fork")},
           {"spawn", *procspec::get_context("spawn")},
           {"forkserver", *procspec::get_context("forkserver")}}) {
    procspec::Process p(ProgramsNoop, {.context = context});
    record(key, p);
  }
  procspec::Process named(
      ProgramsNoop,
      {.name = "given", .context = *procspec::get_context("spawn")});
  const std::string named_repr = named.repr();
  cpp["made.given.repr_prefix"] =
      named_repr.substr(0, named_repr.find(" parent"));

  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  ASSERT_OK_AND_ASSIGN(const procspec::Context* instance,
                       procspec::get_context(std::string(StartMethod())));
  procspec::Process with_context(
      DiffReportClass,
      std::tuple{report.Writer(), std::string("child.context")},
      {.context = instance});
  procspec::Process with_default(
      DiffReportClass,
      std::tuple{report.Writer(), std::string("child.default")});
  for (auto& [key, p] : std::vector<std::pair<std::string, procspec::Process*>>{
           {"child.context", &with_context},
           {"child.default", &with_default}}) {
    KillOnExit reaper(*p);
    cpp[key + ".parent_side"] = p->name();
    ASSERT_OK(p->start());
    ASSERT_OK_AND_ASSIGN(int code, conformance::testing::JoinSoon(*p));
    cpp[key + ".exitcode"] = absl::StrCat(code);
  }
  report.CloseWriteEnd();
  ASSERT_OK_AND_ASSIGN(Facts reported, report.ReadFacts());
  for (auto& [key, value] : reported) cpp[key] = value;

  ExpectSameFacts(Relative(python.facts), Relative(cpp));
}

// ---- Whole programs beside their Python twins ------------------------------

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  std::sort(lines.begin(), lines.end());
  return lines;
}

struct TwinRuns {
  os::CommandResult cpp;
  os::CommandResult python;
};

// Runs //examples:<name> and its twin examples/<name>.py with `args`.
absl::StatusOr<TwinRuns> RunTwins(const std::string& name,
                                  const std::vector<std::string>& args) {
  absl::StatusOr<std::string> twin = FindExample(name + ".py");
  if (!twin.ok()) return twin.status();
  absl::StatusOr<os::CommandResult> python = RunPythonFile(*twin, args);
  if (!python.ok()) return python.status();
  absl::StatusOr<os::CommandResult> cpp = RunExample(name, args);
  if (!cpp.ok()) return cpp.status();
  return TwinRuns{*std::move(cpp), *std::move(python)};
}

// An unguarded program (it starts a process from code every spawned child runs
// again): under spawn and forkserver the parent's start() succeeds and the
// child fails with a RuntimeError before its target, exitcode 1; under fork
// the child runs its target. The same lines, the same exit status.
CONFORMANCE_TEST(ProgramsDifferential, UnguardedProgramMatchesCPython,
                 "module.start_method.main_guard_forkserver",
                 "module.start_method.main_guard_spawn") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(
      TwinRuns runs, RunTwins("spawn_unguarded", {std::string(StartMethod())}));
  EXPECT_EQ(runs.cpp.status.exitcode(), runs.python.status.exitcode())
      << "procspec's stderr:\n"
      << runs.cpp.err;
  EXPECT_EQ(SortedLines(runs.cpp.out), SortedLines(runs.python.out))
      << "procspec's stderr:\n"
      << runs.cpp.err << "\nCPython's stderr:\n"
      << runs.python.err;
  EXPECT_EQ(absl::StrContains(runs.cpp.err, "RuntimeError"),
            absl::StrContains(runs.python.err, "RuntimeError"))
      << "procspec's stderr:\n"
      << runs.cpp.err << "\nCPython's stderr:\n"
      << runs.python.err;
}

// Code before the guard reads argv[1] (sys.argv[1]): every child started by
// spawn or forkserver has the parent's arguments, and the lines match.
CONFORMANCE_TEST(ProgramsDifferential, ArgvBeforeTheGuardMatchesCPython,
                 "module.start_method.child_argv") {
  CONFORMANCE_REQUIRE(RequirePython3());
  ASSERT_OK_AND_ASSIGN(TwinRuns runs, RunTwins("argv_before_init",
                                               {std::string(StartMethod())}));
  EXPECT_EQ(runs.cpp.status.exitcode(), runs.python.status.exitcode())
      << "procspec's stderr:\n"
      << runs.cpp.err;
  EXPECT_EQ(SortedLines(runs.cpp.out), SortedLines(runs.python.out))
      << "procspec's stderr:\n"
      << runs.cpp.err << "\nCPython's stderr:\n"
      << runs.python.err;
  EXPECT_EQ(runs.cpp.err, "");
}

}  // namespace
}  // namespace conformance
