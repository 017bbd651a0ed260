// Several processes in one container (CPython: procs = [Process(...) for _ in
// range(n)]). A Process is neither copyable nor movable (a started child
// refers to its object by address): a std::deque constructs in place and never
// moves its elements.
#include <deque>
#include <memory>
#include <tuple>
#include <type_traits>
#include <vector>

#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance {
namespace {

using ::conformance::testing::JoinSoon;

static_assert(!std::is_copy_constructible_v<procspec::Process>);
static_assert(!std::is_move_constructible_v<procspec::Process>);

void ExitWithIndex(int index) { procspec::Exit(index); }
PROCSPEC_TARGET(ExitWithIndex);

CONFORMANCE_TEST(Container, DequeOfProcessesStartsAndJoinsEach,
                 "process.construction.several_in_a_container") {
  std::deque<procspec::Process> procs;
  for (int i = 0; i < 4; ++i) procs.emplace_back(ExitWithIndex, std::tuple{i});
  std::deque<conformance::testing::KillOnExit> reapers;
  for (procspec::Process& p : procs) {
    reapers.emplace_back(p);
    ASSERT_OK(p.start());
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(int code, JoinSoon(procs[i]));
    EXPECT_EQ(code, i);
  }
}

CONFORMANCE_TEST(Container, VectorOfUniquePointers,
                 "process.construction.several_in_a_container") {
  std::vector<std::unique_ptr<procspec::Process>> procs;
  for (int i = 0; i < 3; ++i) {
    procs.push_back(
        std::make_unique<procspec::Process>(ExitWithIndex, std::tuple{i + 10}));
  }
  std::deque<conformance::testing::KillOnExit> reapers;
  for (auto& p : procs) {
    reapers.emplace_back(*p);
    ASSERT_OK(p->start());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(int code, JoinSoon(*procs[i]));
    EXPECT_EQ(code, i + 10);
  }
}

}  // namespace
}  // namespace conformance
