#include "conformance/suite/robustness/robustness_testing.h"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "conformance/suite/common/child_testing.h"
#include "platform/platform.h"
#include "platform/testing/fault_injection.h"
#include "platform/testing/os_testing.h"
#include "process/context.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::robustness {

namespace platform = ::procspec::platform;
namespace os = ::procspec::platform::testing;

void RobustnessBlockThenExit(HandshakeChild handshake, int code) {
  if (!handshake.SignalReady().ok()) procspec::Exit(100);
  if (!handshake.WaitForRelease().ok()) procspec::Exit(101);
  procspec::Exit(code);
}
PROCSPEC_TARGET(RobustnessBlockThenExit);

void RobustnessBlockUntilKilled() { testing::BlockUntilKilled(); }
PROCSPEC_TARGET(RobustnessBlockUntilKilled);

void RobustnessGatedExit(procspec::InheritedHandle gate_read,
                         procspec::InheritedHandle gate_write, int code) {
  platform::UniqueHandle(gate_write.get()).reset();
  testing::WaitForByteOrEof(gate_read.get());
  procspec::Exit(code);
}
PROCSPEC_TARGET(RobustnessGatedExit);

int AwaitStormTicks(const os::SignalStorm& storm, int count) {
  (void)os::SignalStorm::BlockInThisThread();
  int seen = 0;
  while (seen < count) {
    absl::StatusOr<std::string> bytes = platform::ReadSome(
        storm.ticks(), static_cast<std::size_t>(count - seen));
    if (!bytes.ok() || bytes->empty()) break;
    seen += static_cast<int>(bytes->size());
  }
  return seen;
}

void Report::Add(absl::string_view key, absl::string_view value) {
  std::string clean(value);
  std::replace(clean.begin(), clean.end(), '\n', ' ');
  absl::StrAppend(&text_, key, "=", clean, "\n");
}

std::map<std::string, std::string> ParseReport(absl::string_view text) {
  std::map<std::string, std::string> fields;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const std::size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    fields[std::string(line.substr(0, equals))] =
        std::string(line.substr(equals + 1));
  }
  return fields;
}

std::string ExitcodeText(const absl::StatusOr<std::optional<int>>& code) {
  if (!code.ok()) return code.status().ToString();
  return code->has_value() ? absl::StrCat(**code) : "None";
}

std::string ExitcodeText(procspec::Process& p) {
  return ExitcodeText(p.exitcode());
}

std::string PidText(procspec::Process& p) {
  absl::StatusOr<std::optional<procspec::Pid>> pid = p.pid();
  if (!pid.ok()) return pid.status().ToString();
  return pid->has_value() ? absl::StrCat(**pid) : "None";
}

procspec::Options InContext(const char* method) {
  return {.context = *procspec::get_context(method)};
}

std::vector<std::string> NewDescriptors(
    const std::vector<platform::NativeHandle>& before) {
  std::vector<std::string> fresh;
  absl::StatusOr<std::vector<platform::NativeHandle>> now =
      os::OpenDescriptors();
  if (!now.ok()) return {absl::StrCat("cannot list: ", now.status().message())};
  for (platform::NativeHandle handle : *now) {
    if (std::find(before.begin(), before.end(), handle) == before.end())
      fresh.push_back(
          absl::StrCat(handle, " (", os::DescribeDescriptor(handle), ")"));
  }
  return fresh;
}

absl::StatusOr<std::vector<platform::Pid>> ChildPids() {
  absl::StatusOr<std::vector<os::ChildInfo>> children = os::ListChildren();
  if (!children.ok()) return children.status();
  std::vector<platform::Pid> pids;
  for (const os::ChildInfo& child : *children) pids.push_back(child.pid);
  return pids;
}

std::vector<std::string> NewChildren(const std::vector<platform::Pid>& before) {
  std::vector<std::string> fresh;
  absl::StatusOr<std::vector<os::ChildInfo>> now = os::ListChildren();
  if (!now.ok()) return {absl::StrCat("cannot list: ", now.status().message())};
  for (const os::ChildInfo& child : *now) {
    if (std::find(before.begin(), before.end(), child.pid) == before.end()) {
      fresh.push_back(absl::StrCat(
          child.pid, " ", std::string(os::ProcessStateName(child.state)), " ",
          child.command));
    }
  }
  return fresh;
}

std::vector<std::string> ProcspecDevShmEntries() {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it("/dev/shm", error), end;
       !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (absl::StartsWith(name, "procspec")) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> NewDevShmEntriesOf(
    const std::vector<std::string>& before, const std::vector<std::string>& now,
    const std::vector<procspec::platform::Pid>& pids) {
  std::vector<std::string> made;
  for (const std::string& name : now) {
    if (std::find(before.begin(), before.end(), name) != before.end()) continue;
    for (procspec::platform::Pid pid : pids) {
      if (absl::StartsWith(name, absl::StrCat("procspec-", pid, "-"))) {
        made.push_back(name);
        break;
      }
    }
  }
  return made;
}

absl::StatusOr<NamespaceRun> RunReportInNewPidNamespace(
    absl::FunctionRef<void(Report&)> body) {
  absl::StatusOr<platform::PipeEnds> pipe = platform::MakePipe();
  if (!pipe.ok()) return pipe.status();
  const platform::NativeHandle write_end = pipe->write.get();
  absl::StatusOr<platform::ExitStatus> status =
      os::RunInNewPidNamespace([write_end, body] {
        Report report;
        const std::string asan = os::GetEnv("ASAN_OPTIONS").value_or("");
        os::SetEnv("ASAN_OPTIONS",
                   asan.empty() ? "detect_leaks=0" : asan + ":detect_leaks=0");
        body(report);
        (void)platform::WriteAll(write_end, report.text());
        platform::FlushStandardStreams();
        return 0;
      });
  pipe->write.reset();
  if (!status.ok()) return status.status();
  absl::StatusOr<std::string> text =
      ::conformance::testing::ReadToEnd(pipe->read.get());
  if (!text.ok()) return text.status();
  return NamespaceRun{.status = *status, .report_text = *std::move(text)};
}

}  // namespace conformance::robustness
