// Stress: many children at once, for several rounds, and many threads of the
// parent on the same Process objects. No zombie, no leaked descriptor, no
// shared memory left in /dev/shm, every exit code right, and no lost or
// changing exit status.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/os_testing.h"
#include "process/inherited_handle.h"
#include "process/process.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::procspec::InheritedHandle;

// 500 children alive at once, for PROCSPEC_STRESS_ROUNDS rounds: one in the
// suite (a few seconds; far more under sanitizers, whose fork is slow), ten in
// //conformance:stress_<backend>_<method> (fork and forkserver).
constexpr int kChildren = 500;
int Rounds() {
  int rounds = 1;
  const std::optional<std::string> env = os::GetEnv("PROCSPEC_STRESS_ROUNDS");
  if (env.has_value() && absl::SimpleAtoi(*env, &rounds) && rounds >= 1)
    return rounds;
  return 1;
}

// Kills and joins every started process of `processes` when the scope ends,
// so that a failed round leaves nothing behind.
struct KillAllOnExit {
  std::vector<std::unique_ptr<procspec::Process>>& processes;
  ~KillAllOnExit() {
    for (auto& p : processes) {
      absl::StatusOr<std::optional<procspec::Pid>> pid = p->pid();
      if (!pid.ok() || !pid->has_value()) continue;
      (void)p->kill();
      (void)p->join();
    }
  }
};

CONFORMANCE_TEST(Stress, FiveHundredChildrenAtOnce,
                 "robustness.stress.many_children") {
  ASSERT_OK_AND_ASSIGN(std::vector<platform::NativeHandle> descriptors,
                       os::OpenDescriptors());
  ASSERT_OK_AND_ASSIGN(std::vector<platform::Pid> children, ChildPids());
  const int rounds = Rounds();
  const absl::Time start = absl::Now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::vector<std::string> shm_before = ProcspecDevShmEntries();
    ASSERT_OK_AND_ASSIGN(platform::PipeEnds gate, platform::MakePipe());
    std::vector<std::unique_ptr<procspec::Process>> processes;
    KillAllOnExit cleanup{processes};
    for (int i = 0; i < kChildren; ++i) {
      processes.push_back(std::make_unique<procspec::Process>(
          RobustnessGatedExit,
          std::tuple{InheritedHandle(gate.read.get()),
                     InheritedHandle(gate.write.get()), (round + i) % 128}));
    }
    int started = 0;
    absl::Status failed;
    for (auto& p : processes) {
      failed = p->start();
      if (!failed.ok()) break;
      ++started;
    }
    // Every child is alive (blocked on the gate) until the parent lets go.
    gate.write.reset();
    gate.read.reset();
    ASSERT_OK(failed) << "after " << started << " children";
    std::vector<std::string> wrong;
    for (int i = 0; i < kChildren; ++i) {
      absl::StatusOr<int> exitcode =
          testing::JoinAndGetExitcode(*processes[static_cast<std::size_t>(i)]);
      if (!exitcode.ok() || *exitcode != (round + i) % 128) {
        wrong.push_back(absl::StrCat(i, ": ",
                                     exitcode.ok()
                                         ? absl::StrCat(*exitcode)
                                         : exitcode.status().ToString()));
      }
    }
    EXPECT_EQ(wrong, std::vector<std::string>());
    EXPECT_EQ(NewChildren(children), std::vector<std::string>());
    // No shared memory left in /dev/shm by this process or a child.
    std::vector<platform::Pid> makers = {platform::CurrentPid()};
    for (auto& p : processes) {
      absl::StatusOr<std::optional<procspec::Pid>> pid = p->pid();
      if (pid.ok() && pid->has_value()) makers.push_back(**pid);
    }
    EXPECT_EQ(NewDevShmEntriesOf(shm_before, ProcspecDevShmEntries(), makers),
              std::vector<std::string>());
    processes.clear();
    EXPECT_EQ(NewDescriptors(descriptors), std::vector<std::string>());
  }
  const absl::Duration elapsed = absl::Now() - start;
  RecordProperty("children_per_round", kChildren);
  RecordProperty("rounds", rounds);
  RecordProperty("seconds", absl::StrCat(absl::ToDoubleSeconds(elapsed)));
  std::cout << "stress: " << kChildren << " children x " << rounds
            << " rounds in " << absl::FormatDuration(elapsed) << " ("
            << BackendName() << ", " << StartMethod() << ")\n";
}

// Several threads on the same Process objects: terminate(), kill(), join(),
// join(0), is_alive() and exitcode at once. Each thread's view of a process
// never goes back (once an exit code is seen, it stays the same and is_alive()
// is False), and every thread that saw an exit code saw the final one.
CONFORMANCE_TEST(Stress, ThreadsShareProcessObjectsConsistently,
                 "robustness.stress.threads") {
  constexpr int kProcesses = 24;
  constexpr int kPollRounds = 100;
  ASSERT_OK_AND_ASSIGN(std::vector<platform::Pid> children, ChildPids());
  std::vector<std::unique_ptr<procspec::Process>> processes;
  KillAllOnExit cleanup{processes};
  for (int i = 0; i < kProcesses; ++i) {
    processes.push_back(
        std::make_unique<procspec::Process>(RobustnessBlockUntilKilled));
    ASSERT_OK(processes.back()->start());
  }
  std::mutex mu;
  std::vector<std::string> violations;
  // seen[t][i]: the exit code thread t last saw for process i.
  std::vector<std::vector<std::optional<int>>> seen(
      6, std::vector<std::optional<int>>(kProcesses));
  auto violation = [&](std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    violations.push_back(std::move(what));
  };
  auto observe = [&](int thread, int i, std::optional<int> code,
                     std::optional<bool> alive) {
    std::optional<int>& last = seen[thread][i];
    if (last.has_value() && code != last) {
      violation(absl::StrCat("thread ", thread, " process ", i, ": exitcode ",
                             *last, " then ",
                             code ? absl::StrCat(*code) : "None"));
    }
    if (code.has_value()) last = code;
    if (last.has_value() && alive.has_value() && *alive) {
      violation(absl::StrCat("thread ", thread, " process ", i,
                             ": alive after exitcode ", *last));
    }
  };
  auto poller = [&](int thread) {
    for (int round = 0; round < kPollRounds; ++round) {
      for (int i = 0; i < kProcesses; ++i) {
        procspec::Process& p = *processes[static_cast<std::size_t>(i)];
        absl::StatusOr<std::optional<int>> code = p.exitcode();
        if (!code.ok()) violation(code.status().ToString());
        absl::StatusOr<bool> alive = p.is_alive();
        if (!alive.ok()) violation(alive.status().ToString());
        if (absl::Status joined = p.join(0); !joined.ok())
          violation(joined.ToString());
        absl::StatusOr<std::optional<int>> after = p.exitcode();
        if (code.ok() && alive.ok() && after.ok()) {
          observe(thread, i, *code, *alive);
          observe(thread, i, *after, std::nullopt);
          // is_alive() False means the exit status is known.
          if (!*alive && !after->has_value()) {
            violation(absl::StrCat("thread ", thread, " process ", i,
                                   ": not alive but exitcode None"));
          }
        }
      }
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (auto& p : processes)
      if (absl::Status s = p->terminate(); !s.ok()) violation(s.ToString());
  });
  threads.emplace_back([&] {
    for (auto it = processes.rbegin(); it != processes.rend(); ++it)
      if (absl::Status s = (*it)->kill(); !s.ok()) violation(s.ToString());
  });
  threads.emplace_back([&] { poller(2); });
  threads.emplace_back([&] { poller(3); });
  threads.emplace_back([&] { poller(4); });
  threads.emplace_back([&] {
    for (int i = 0; i < kProcesses; ++i) {
      procspec::Process& p = *processes[static_cast<std::size_t>(i)];
      if (absl::Status s = p.join(); !s.ok()) violation(s.ToString());
      absl::StatusOr<std::optional<int>> code = p.exitcode();
      if (!code.ok() || !code->has_value()) {
        violation(absl::StrCat("process ", i, ": no exitcode after join()"));
      } else {
        observe(5, i, *code, std::nullopt);
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(violations, std::vector<std::string>());
  const int sigterm = -platform::SignalNumber(platform::Signal::kTerminate);
  const int sigkill = -platform::SignalNumber(platform::Signal::kKill);
  for (int i = 0; i < kProcesses; ++i) {
    procspec::Process& p = *processes[static_cast<std::size_t>(i)];
    ASSERT_OK_AND_ASSIGN(std::optional<int> code, p.exitcode());
    ASSERT_TRUE(code.has_value()) << i;
    EXPECT_TRUE(*code == sigterm || *code == sigkill) << i << ": " << *code;
    for (int thread = 2; thread < 6; ++thread) {
      const std::optional<int>& saw = seen[thread][static_cast<std::size_t>(i)];
      if (saw.has_value()) {
        EXPECT_EQ(*saw, *code) << "thread " << thread;
      }
    }
  }
  EXPECT_EQ(NewChildren(children), std::vector<std::string>());
}

}  // namespace
}  // namespace conformance::robustness
