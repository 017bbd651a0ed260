// A start() that fails has run no target, and a child whose target runs is
// one that start() returned: the parent never abandons (kills) a child that
// may already be running user code. Made to fail with a descriptor limit: a
// host (a child of the test) lowers RLIMIT_NOFILE a little above what it has
// open and starts children that stay alive until every start was tried, so
// that the starts run out of descriptors at some point.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/environment.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "conformance/suite/robustness/robustness_testing.h"
#include "gtest/gtest.h"
#include "platform/platform.h"
#include "platform/testing/hostile_host.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/errors.h"
#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::robustness {
namespace {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;
using ::conformance::testing::JoinAndGetExitcode;
using ::conformance::testing::KillOnExit;
using ::conformance::testing::ReadToEnd;
using ::procspec::InheritedHandle;

constexpr int kStarts = 40;
// Descriptors the host may open beyond those it has when it sets the limit.
constexpr int kHeadroom = 12;

// Says "<index>" the moment its target runs, then waits for a byte on `gate`.
void RobustnessCountedTarget(InheritedHandle ran, InheritedHandle gate,
                             int index) {
  (void)platform::WriteAll(ran.get(), absl::StrCat(index, "\n"));
  (void)platform::ReadSome(gate.get(), 1);
  procspec::Exit(0);
}
PROCSPEC_TARGET(RobustnessCountedTarget);

// The descriptor limit under which exactly `free` more descriptors can be
// opened: new descriptors take the lowest free numbers, and a program run
// outside Bazel may have holes below its highest open descriptor.
int LimitLeavingFree(const std::vector<platform::NativeHandle>& open,
                     int free) {
  int limit = 0;
  std::size_t next = 0;  // open is ascending
  for (int left = free; left > 0 || (next < open.size() && open[next] == limit);
       ++limit) {
    if (next < open.size() && open[next] == limit) {
      ++next;
    } else {
      --left;
    }
  }
  return limit;
}

void RobustnessStartUnderDescriptorLimit(InheritedHandle report_pipe,
                                         std::string method) {
  Report report;
  absl::StatusOr<platform::PipeEnds> ran = platform::MakePipe();
  absl::StatusOr<platform::PipeEnds> gate = platform::MakePipe();
  absl::StatusOr<std::vector<platform::NativeHandle>> open =
      os::OpenDescriptors();
  const absl::Status limited =
      ran.ok() && gate.ok() && open.ok()
          ? os::SetDescriptorLimit(LimitLeavingFree(*open, kHeadroom))
          : absl::InternalError("setup failed");
  report.Add("setup", limited.ok() ? "ok" : limited.ToString());
  if (limited.ok()) {
    std::vector<std::unique_ptr<procspec::Process>> started;
    std::vector<std::string> failed, messages;
    for (int i = 0; i < kStarts; ++i) {
      auto p = std::make_unique<procspec::Process>(
          RobustnessCountedTarget,
          std::tuple{InheritedHandle(ran->write.get()),
                     InheritedHandle(gate->read.get()), i},
          procspec::Options{.context = *procspec::get_context(method)});
      if (absl::Status s = p->start(); s.ok()) {
        started.push_back(std::move(p));
      } else {
        failed.push_back(absl::StrCat(i));
        messages.push_back(
            absl::StrCat(procspec::PythonExceptionType(s), ": ", s.message()));
      }
    }
    report.Add("started", absl::StrCat(started.size()));
    report.Add("failed", absl::StrJoin(failed, ","));
    report.Add("messages", absl::StrJoin(messages, "|"));
    (void)platform::WriteAll(gate->write.get(),
                             std::string(started.size(), 'g'));
    std::vector<std::string> exitcodes;
    for (auto& p : started) {
      (void)p->join();
      absl::StatusOr<std::optional<int>> code = p->exitcode();
      exitcodes.push_back(code.ok() && code->has_value() ? absl::StrCat(**code)
                                                         : "?");
    }
    report.Add("exitcodes", absl::StrJoin(exitcodes, ","));
    started.clear();
    ran->write.reset();
    absl::StatusOr<std::string> lines = ReadToEnd(ran->read.get());
    std::vector<std::string> ran_indices;
    if (lines.ok()) {
      for (absl::string_view line :
           absl::StrSplit(*lines, '\n', absl::SkipEmpty())) {
        ran_indices.emplace_back(line);
      }
    }
    std::set<int> failed_set;
    for (const std::string& f : failed) failed_set.insert(std::stoi(f));
    std::vector<std::string> ran_after_failure;
    for (const std::string& r : ran_indices) {
      if (failed_set.count(std::stoi(r)) != 0) ran_after_failure.push_back(r);
    }
    report.Add("ran", absl::StrCat(ran_indices.size()));
    report.Add("ran_after_failed_start", absl::StrJoin(ran_after_failure, ","));
  }
  (void)platform::WriteAll(report_pipe.get(), report.text());
  procspec::Exit(0);
}
PROCSPEC_TARGET(RobustnessStartUnderDescriptorLimit);

CONFORMANCE_TEST(StartNoTarget, FailedStartRanNoTarget,
                 "robustness.start.failed_start_ran_no_target") {
  ASSERT_OK_AND_ASSIGN(platform::PipeEnds pipe, platform::MakePipe());
  procspec::Process host(RobustnessStartUnderDescriptorLimit,
                         std::tuple{InheritedHandle(pipe.write.get()),
                                    std::string(StartMethod())});
  KillOnExit guard(host);
  ASSERT_OK(host.start());
  pipe.write.reset();
  ASSERT_OK_AND_ASSIGN(std::string text, ReadToEnd(pipe.read.get()));
  ASSERT_OK_AND_ASSIGN(int exitcode, JoinAndGetExitcode(host));
  EXPECT_EQ(exitcode, 0);
  std::map<std::string, std::string> report = ParseReport(text);
  ASSERT_EQ(report["setup"], "ok") << text;
  // The limit was reached (else the test shows nothing).
  EXPECT_NE(report["failed"], "") << text;
  // Every child that start() returned ran its target once and exited 0.
  EXPECT_EQ(report["ran"], report["started"]) << text;
  EXPECT_EQ(report["ran_after_failed_start"], "") << text;
  int started = 0;
  ASSERT_TRUE(absl::SimpleAtoi(report["started"], &started)) << text;
  EXPECT_EQ(report["exitcodes"],
            absl::StrJoin(std::vector<std::string>(started, "0"), ","))
      << text;
  for (absl::string_view message : absl::StrSplit(report["messages"], '|')) {
    EXPECT_TRUE(
        absl::StartsWith(message, "OSError: [Errno 24] Too many open files"))
        << text;
  }
}

}  // namespace
}  // namespace conformance::robustness
