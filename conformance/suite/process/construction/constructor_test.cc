// Constructing a Process: its fields and their defaults, group, args and
// kwargs.
//
// CPython: Process(group=None, target=None, name=None, args=(), kwargs={}, *,
// daemon=None). procspec takes target and args as typed leading parameters and
// the other keyword arguments as a designated-initializer procspec::Options;
// what CPython can only reject in the child at run time (args the target
// cannot take) is rejected at compile time, which the static_asserts below pin
// down.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "conformance/harness/child_entry.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/process/construction/construction_testing.h"
#include "gtest/gtest.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"
#include "process/target.h"
#include "process/value.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::RunChildEntry;
using construction_testing::ReportPipe;
using construction_testing::SendLineTo;
using construction_testing::SendTo;
using procspec::InheritedHandle;

void TakesIntStringDouble(int, std::string, double) {}
void TakesKwargs(const procspec::Kwargs&) {}
void TakesIntAndKwargs(int, const procspec::Kwargs&) {}
void TakesNothing() {}
PROCSPEC_TARGET(TakesNothing);

// Registered targets: a child reports what it received through `out`.
void ConstructorReportFields(InheritedHandle out, int number,
                             const procspec::Kwargs& kwargs) {
  procspec::Process& self = procspec::current_process();
  SendTo(out, absl::StrCat(self.name(), "|", self.daemon() ? "daemon" : "-",
                           "|", number, "|", kwargs.at("age").repr()));
}
PROCSPEC_TARGET(ConstructorReportFields);

// Targets without parameters, told apart by their exit codes.
void ConstructorCalled() { procspec::Exit(7); }
PROCSPEC_TARGET(ConstructorCalled);
void ConstructorNamed() {
  procspec::Exit(procspec::current_process().name() == "only-a-name" ? 8 : 9);
}
PROCSPEC_TARGET(ConstructorNamed);

void ConstructorReportThree(InheritedHandle out, int first,
                            const std::string& second, double third) {
  SendTo(out, absl::StrCat(first, "|", second, "|", third));
}
PROCSPEC_TARGET(ConstructorReportThree);

void ConstructorReportInts(InheritedHandle out, int a, int b, int c) {
  SendTo(out, absl::StrCat(a, ",", b, ",", c));
}
PROCSPEC_TARGET(ConstructorReportInts);

void ConstructorMutateArgs(InheritedHandle out, int value,
                           std::vector<int>& vector) {
  value = 42;
  vector.push_back(3);
  SendTo(out, absl::StrCat(value, "|", absl::StrJoin(vector, ",")));
}
PROCSPEC_TARGET(ConstructorMutateArgs);

// Exits with 0 if it received exactly "p1", else 3.
void ConstructorExpectP1(const std::string& name) {
  if (name != "p1") procspec::Exit(3);
}
PROCSPEC_TARGET(ConstructorExpectP1);

void ConstructorReportDoubled(InheritedHandle out, double value) {
  SendTo(out, absl::StrCat(value * 2));
}
PROCSPEC_TARGET(ConstructorReportDoubled);

void ConstructorReportKwargs(InheritedHandle out,
                             const procspec::Kwargs& kwargs) {
  std::string seen;
  for (const auto& [key, value] : kwargs) {
    absl::StrAppend(&seen, key, "=", value.repr(), ";");
  }
  SendTo(out, seen);
}
PROCSPEC_TARGET(ConstructorReportKwargs);

void ConstructorReportKwargTypes(InheritedHandle out, int first,
                                 const procspec::Kwargs& kwargs) {
  const bool types_ok =
      kwargs.at("name").is<std::string>() &&
      kwargs.at("age").is<std::int64_t>() && kwargs.at("ratio").is<double>() &&
      kwargs.at("flag").is<bool>() && kwargs.at("nothing").is<std::nullptr_t>();
  SendTo(out, absl::StrCat(first, "|", kwargs.size(), "|",
                           kwargs.at("name").as<std::string>(), "|",
                           kwargs.at("age").as<std::int64_t>(), "|",
                           types_ok ? "types-ok" : "types-wrong"));
}
PROCSPEC_TARGET(ConstructorReportKwargTypes);

void ConstructorReportKwargsSize(InheritedHandle out,
                                 const procspec::Kwargs& kwargs) {
  SendTo(out, absl::StrCat("size=", kwargs.size()));
}
PROCSPEC_TARGET(ConstructorReportKwargsSize);

void ConstructorReportName(InheritedHandle out, const std::string& name) {
  SendTo(out, absl::StrCat("called with ", name));
}
PROCSPEC_TARGET(ConstructorReportName);

void ConstructorPrintCalled(const std::string&) { std::printf("called\n"); }
PROCSPEC_TARGET(ConstructorPrintCalled);

using OneStringFn = void (*)(std::string);

// `Options{.group = value}` compiles for a value of type T (a run-time value,
// not a constant, so that no null-pointer-constant conversion applies).
template <typename T>
concept GroupAccepts = requires(T value) {
  procspec::Options{.group = value};
};
// `O{.group = 0}` and `O{.group = NULL}` with the literal itself (O is a
// template parameter only so that an ill-formed initializer is a false
// requirement rather than a compile error).
template <typename O>
concept GroupAcceptsLiteralZero = requires {
  O{.group = 0};
};
template <typename O>
concept GroupAcceptsNullMacro = requires {
  O{.group = NULL};
};
template <typename O>
concept GroupAcceptsNullptr = requires {
  O{.group = nullptr};
};

// Every field of Options is optional and defaults to CPython's default: no
// group, the default name, no kwargs, daemon inherited.
CONFORMANCE_TEST(Constructor, OptionsDefaultToCPythonsDefaults,
                 "process.constructor.named_fields") {
  static_assert(std::is_aggregate_v<procspec::Options>,
                "Options is filled with designated initializers");
  const procspec::Options options;
  EXPECT_TRUE(options.group == nullptr);
  EXPECT_EQ(options.name, "");
  EXPECT_TRUE(options.kwargs.empty());
  EXPECT_FALSE(options.daemon.has_value());
}

// Process() with no argument at all: nothing starts; pid and exitcode are
// None, the name is the default one, daemon is the creator's (False in the
// main process) and repr says 'initial'.
CONFORMANCE_TEST(Constructor, NoArgumentsConstructsAnInitialProcess,
                 "process.constructor.named_fields") {
  procspec::Process p;
  ASSERT_OK_AND_ASSIGN(std::optional<procspec::Pid> pid, p.pid());
  EXPECT_FALSE(pid.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<int> exitcode, p.exitcode());
  EXPECT_FALSE(exitcode.has_value());
  ASSERT_OK_AND_ASSIGN(bool alive, p.is_alive());
  EXPECT_FALSE(alive);
  EXPECT_FALSE(p.daemon());
  EXPECT_TRUE(
      construction_testing::DefaultNameNumber(p.name(), "Process").has_value())
      << p.name();
  EXPECT_NE(p.repr().find(" initial>"), std::string::npos) << p.repr();
  EXPECT_TRUE(procspec::active_children().empty());
}

// A Process without a target runs nothing in the child and exits with 0.
CONFORMANCE_TEST(Constructor, NoTargetRunsNothingAndExitsZero,
                 "process.constructor.named_fields") {
  procspec::Process p;
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// Fields are named, any subset in declaration order: the child sees the name
// and the daemon flag given, and the target gets args and kwargs.
CONFORMANCE_TEST(Constructor, NamedFieldsReachTheChild,
                 "process.constructor.named_fields") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(
      ConstructorReportFields, std::tuple{report.ChildEnd(), 7},
      {.name = "worker", .kwargs = {{"age", 23}}, .daemon = true});
  EXPECT_EQ(p.name(), "worker");
  EXPECT_TRUE(p.daemon());
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "worker|daemon|7|23");
}

// Process(target) and Process(target, {.name = ...}): args default to the
// empty tuple, so the target is called with no argument (each target says it
// was called by its exit code).
CONFORMANCE_TEST(Constructor, TargetWithoutArgsIsCalledWithNone,
                 "process.constructor.named_fields") {
  static_assert(procspec::ValidTargetAndArgs<void (*)(), std::tuple<>>);
  procspec::Process p(ConstructorCalled);
  procspec::Process q(ConstructorNamed, {.name = "only-a-name"});
  EXPECT_EQ(q.name(), "only-a-name");
  ASSERT_OK(p.start());
  KillOnExit guard_p(p);
  ASSERT_OK_AND_ASSIGN(int exitcode_p, JoinAndGetExitcode(p));
  ASSERT_OK(q.start());
  KillOnExit guard_q(q);
  ASSERT_OK_AND_ASSIGN(int exitcode_q, JoinAndGetExitcode(q));
  EXPECT_EQ(exitcode_p, 7) << "the target was not called";
  EXPECT_EQ(exitcode_q, 8) << "7: not called; 9: called under another name";
}

// group can only be None: Options::group accepts nullptr and nothing else (a
// function, an int, a string, a literal 0 or NULL do not compile), where
// CPython raises AssertionError "group argument must be None for now".
CONFORMANCE_TEST(Group, OnlyNullptrCompiles, "process.group.must_be_none") {
  static_assert(GroupAccepts<std::nullptr_t>);
  static_assert(GroupAcceptsNullptr<procspec::Options>);
  static_assert(!GroupAccepts<int>);
  static_assert(!GroupAccepts<bool>);
  static_assert(!GroupAccepts<const char*>);
  static_assert(!GroupAccepts<std::string>);
  static_assert(!GroupAccepts<void*>);
  // The seed's positional misuse, a target landing in group.
  static_assert(!GroupAccepts<void (*)()>);
  static_assert(!GroupAcceptsLiteralZero<procspec::Options>);
  static_assert(!GroupAcceptsNullMacro<procspec::Options>);
  // And with group = None given explicitly, the process works as usual.
  procspec::Process p(TakesNothing, {.group = nullptr, .name = "grouped"});
  EXPECT_EQ(p.name(), "grouped");
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
}

// args=(1, 'two', 3.5) calls target(1, 'two', 3.5): every element, in order.
CONFORMANCE_TEST(Args, PassedPositionallyInOrder, "process.args.positional") {
  static_assert(
      procspec::ValidTargetAndArgs<decltype(&TakesIntStringDouble),
                                   std::tuple<int, const char*, double>>);
  // The same values in another order do not fit the target.
  static_assert(
      !procspec::ValidTargetAndArgs<decltype(&TakesIntStringDouble),
                                    std::tuple<const char*, int, double>>);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportThree,
                      std::tuple{report.ChildEnd(), 1, "two", 3.5});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "1|two|3.5");
}

// The seed's args=(1,2,3): three ints, as three parameters.
CONFORMANCE_TEST(Args, SeedsOneTwoThree, "process.args.positional") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportInts,
                      std::tuple{report.ChildEnd(), 1, 2, 3});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "1,2,3");
}

// The child works on copies: what the target changes through its arguments,
// the parent does not see.
CONFORMANCE_TEST(Args, ChildMutationsAreNotSeenByTheParent,
                 "process.args.positional") {
  int parent_value = 1;
  std::vector<int> parent_vector = {1, 2};
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(
      ConstructorMutateArgs,
      std::tuple{report.ChildEnd(), parent_value, parent_vector});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "42|1,2,3");
  EXPECT_EQ(parent_value, 1);
  EXPECT_EQ(parent_vector, (std::vector<int>{1, 2}));
}

// The child works on copies, even of a pointer into the parent's memory: what
// the target changes through it, the parent does not see.
CONFORMANCE_TEST(Args, ChildMutationsThroughAPointerAreNotSeenByTheParent,
                 "process.args.positional") {
  CONFORMANCE_REQUIRE(
      StartMethod() == "fork"
          ? absl::OkStatus()
          : Unsupported("needs the fork start method: a pointer into the "
                        "parent's memory is an argument only a forked child "
                        "can follow (nothing CPython could pickle either)"));
  int parent_value = 1;
  std::vector<int> parent_vector = {1, 2};
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  auto target = [&report](int* value, std::vector<int>& vector) {
    *value = 42;
    vector.push_back(3);
    report.Send(absl::StrCat(*value, "|", absl::StrJoin(vector, ",")));
  };
  procspec::Process p(target, std::tuple{&parent_value, parent_vector});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "42|1,2,3");
  EXPECT_EQ(parent_value, 1);
  EXPECT_EQ(parent_vector, (std::vector<int>{1, 2}));
}

// args=('p1',) is std::tuple{"p1"}: a tuple of one element, and the target
// receives exactly "p1".
CONFORMANCE_TEST(Args, OneElementTupleReachesTheTargetIntact,
                 "process.args.one_element_tuple") {
  static_assert(procspec::kIsTuple<decltype(std::tuple{"p1"})>);
  static_assert(std::tuple_size_v<decltype(std::tuple{"p1"})> == 1);
  static_assert(procspec::kIsTuple<decltype(std::make_tuple("p1"))>);
  static_assert(
      procspec::ValidTargetAndArgs<OneStringFn, decltype(std::tuple{"p1"})>);
  static_assert(procspec::ValidTargetAndArgs<OneStringFn,
                                             decltype(std::make_tuple("p1"))>);
  procspec::Process p(ConstructorExpectP1, std::tuple{"p1"});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0) << "3: the target did not receive exactly \"p1\"";
}

// args=('p1') without the comma: a bare "p1" (or std::string) is not a tuple
// and is rejected at compile time; ('p1',) must be spelled as a tuple.
CONFORMANCE_TEST(Args, BareValueIsNotATupleAndIsRejected,
                 "process.args.one_element_tuple") {
  static_assert(!procspec::kIsTuple<const char*>);
  static_assert(!procspec::kIsTuple<const char(&)[3]>);
  static_assert(!procspec::kIsTuple<std::string>);
  static_assert(!procspec::ValidTargetAndArgs<OneStringFn, const char*>);
  static_assert(!procspec::ValidTargetAndArgs<OneStringFn, std::string>);
  // Nor is a pair or an array a tuple, although std::apply accepts them.
  static_assert(!procspec::kIsTuple<std::pair<const char*, int>>);
  static_assert(!procspec::ValidTargetAndArgs<void (*)(std::string, int),
                                              std::pair<const char*, int>>);
}

// args the target cannot be called with (CPython: TypeError "task() takes 1
// positional argument but 2 were given" in the child) do not compile: too
// many, too few, wrong types, or a target that is not callable at all.
CONFORMANCE_TEST(Args, UncallableCombinationsAreRejected,
                 "process.args.uncallable_rejected") {
  // Too many: the seed's task('p', '1').
  static_assert(
      !procspec::kCallableWithArgs<OneStringFn,
                                   std::tuple<const char*, const char*>>);
  static_assert(
      !procspec::ValidTargetAndArgs<OneStringFn,
                                    std::tuple<const char*, const char*>>);
  // Too few.
  static_assert(!procspec::ValidTargetAndArgs<OneStringFn, std::tuple<>>);
  static_assert(!procspec::ValidTargetAndArgs<decltype(&TakesIntStringDouble),
                                              std::tuple<int, const char*>>);
  // Wrong type.
  static_assert(
      !procspec::ValidTargetAndArgs<void (*)(int), std::tuple<std::string>>);
  // Not callable at all.
  static_assert(!procspec::ValidTargetAndArgs<int, std::tuple<>>);
  static_assert(!procspec::ValidTargetAndArgs<std::string, std::tuple<int>>);
  // A target taking kwargs still needs its positional args.
  static_assert(!procspec::ValidTargetAndArgs<decltype(&TakesIntAndKwargs),
                                              std::tuple<>>);
  // What is accepted: exact and convertible arguments.
  static_assert(
      procspec::kCallableWithArgs<OneStringFn, std::tuple<const char*>>);
  static_assert(procspec::kCallableWithArgs<void (*)(double), std::tuple<int>>);
  static_assert(
      procspec::ValidTargetAndArgs<std::function<void(int)>, std::tuple<int>>);
  // A convertible argument is converted when the child calls the target.
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportDoubled,
                      std::tuple{report.ChildEnd(), 21});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "42");
}

// kwargs={"name": "race", "age": 23} (the seed's dict, corrected): a target
// taking `const Kwargs&` receives both entries with their values.
CONFORMANCE_TEST(Kwargs, SeedsDictIsDeliveredToTheTarget,
                 "process.kwargs.passed") {
  static_assert(
      procspec::kReceivesKwargs<decltype(&TakesKwargs), std::tuple<>>);
  static_assert(
      !procspec::kCallableWithArgs<decltype(&TakesKwargs), std::tuple<>>);
  static_assert(
      procspec::ValidTargetAndArgs<decltype(&TakesKwargs), std::tuple<>>);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportKwargs, std::tuple{report.ChildEnd()},
                      {.kwargs = {{"name", "race"}, {"age", 23}}});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "age=23;name='race';");
}

// target(*args, **kwargs): positional args first, then the kwargs, with their
// value types intact (str, int, float, bool, None).
CONFORMANCE_TEST(Kwargs, FollowTheArgsWithTypesIntact,
                 "process.kwargs.passed") {
  static_assert(
      procspec::kReceivesKwargs<decltype(&TakesIntAndKwargs), std::tuple<int>>);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportKwargTypes,
                      std::tuple{report.ChildEnd(), 5},
                      {.kwargs = {{"name", "race"},
                                  {"age", 23},
                                  {"ratio", 0.5},
                                  {"flag", true},
                                  {"nothing", nullptr}}});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "5|5|race|23|types-ok");
}

// kwargs={} (the default): a target that takes kwargs receives an empty map.
CONFORMANCE_TEST(Kwargs, DefaultIsAnEmptyMap, "process.kwargs.passed") {
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportKwargsSize,
                      std::tuple{report.ChildEnd()});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 0);
  EXPECT_EQ(seen, "size=0");
}

// A keyword the target does not take: start() succeeds, the target is never
// called, and the child ends with exitcode 1.
CONFORMANCE_TEST(Kwargs, UnexpectedKeywordFailsTheChildWithExitcodeOne,
                 "process.kwargs.unexpected_fails_child") {
  static_assert(
      !procspec::kReceivesKwargs<OneStringFn, std::tuple<const char*>>);
  ASSERT_OK_AND_ASSIGN(ReportPipe report, ReportPipe::Create());
  procspec::Process p(ConstructorReportName,
                      std::tuple{report.ChildEnd(), "p1"},
                      {.kwargs = {{"age", 23}}});
  ASSERT_OK(p.start());
  KillOnExit guard(p);
  ASSERT_OK_AND_ASSIGN(std::string seen, report.ReadAll());
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(p));
  EXPECT_EQ(exitcode, 1);
  EXPECT_EQ(seen, "");
}

CONFORMANCE_CHILD_ENTRY(construction_unexpected_kwarg) {
  procspec::Process p(ConstructorPrintCalled, std::tuple{"p1"},
                      {.kwargs = {{"age", 23}}});
  if (!p.start().ok()) return 100;
  absl::StatusOr<int> exitcode = conformance::testing::JoinAndGetExitcode(p);
  std::printf("exitcode=%d\n", exitcode.ok() ? *exitcode : -1000);
  return 0;
}

// ... and the child's stderr is "Process <name>:" followed by the TypeError
// naming the keyword (no traceback in C++).
CONFORMANCE_TEST(Kwargs, UnexpectedKeywordPrintsTheTypeError,
                 "process.kwargs.unexpected_fails_child") {
  ASSERT_OK_AND_ASSIGN(procspec::platform::testing::CommandResult result,
                       RunChildEntry("construction_unexpected_kwarg"));
  EXPECT_EQ(result.status.exitcode(), 0) << result.err;
  EXPECT_EQ(result.out, "exitcode=1\n");
  EXPECT_EQ(result.err,
            "Process Process-1:\n"
            "TypeError: target() got an unexpected keyword argument 'age'\n");
}

}  // namespace
}  // namespace conformance
