#include "conformance/suite/common/module_testing.h"

#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/child_testing.h"
#include "process/connection.h"

namespace conformance::module_testing {

namespace platform = ::procspec::platform;

absl::StatusOr<Facts> ParseFacts(const std::vector<std::string>& lines) {
  Facts facts;
  for (const std::string& line : lines) {
    const std::size_t equals = line.find('=');
    if (equals == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a key=value fact: \"", line, "\""));
    }
    const std::string key = line.substr(0, equals);
    if (!facts.emplace(key, line.substr(equals + 1)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("fact \"", key, "\" reported twice"));
    }
  }
  return facts;
}

absl::StatusOr<ReportPipe> ReportPipe::Create() {
  absl::StatusOr<platform::PipeEnds> ends = platform::MakePipe();
  if (!ends.ok()) return ends.status();
  ReportPipe pipe;
  pipe.ends_ = *std::move(ends);
  return pipe;
}

absl::Status ReportWriter::Send(std::string_view line) const {
  return testing::WriteLine(handle_.get(), std::string(line));
}

absl::Status ReportWriter::SendFact(std::string_view key,
                                    std::string_view value) const {
  return Send(absl::StrCat(std::string(key), "=", std::string(value)));
}

absl::Status ReportPipe::Send(std::string_view line) const {
  return Writer().Send(line);
}

absl::Status ReportPipe::SendFact(std::string_view key,
                                  std::string_view value) const {
  return Writer().SendFact(key, value);
}

void ReportPipe::CloseWriteEnd() { ends_.write.reset(); }

absl::StatusOr<std::vector<std::string>> ReportPipe::ReadLines() {
  if (ends_.write.valid()) {
    return absl::FailedPreconditionError(
        "ReportPipe::ReadLines before CloseWriteEnd would never see EOF");
  }
  absl::StatusOr<std::string> data =
      testing::ReadToEnd(ends_.read.get(), ScaledTimeout(absl::Seconds(30)));
  if (!data.ok()) return data.status();
  std::vector<std::string> lines;
  for (absl::string_view line :
       absl::StrSplit(*data, '\n', absl::SkipEmpty())) {
    lines.emplace_back(line);
  }
  return lines;
}

absl::StatusOr<Facts> ReportPipe::ReadFacts() {
  absl::StatusOr<std::vector<std::string>> lines = ReadLines();
  if (!lines.ok()) return lines.status();
  return ParseFacts(*lines);
}

std::string PyStr(bool value) { return value ? "True" : "False"; }

std::string PyStr(const std::optional<int>& value) {
  return value.has_value() ? absl::StrCat(*value) : "None";
}

absl::Status WaitUntilEnded(procspec::Process& process) {
  absl::StatusOr<procspec::Handle> sentinel = process.sentinel();
  if (!sentinel.ok()) return sentinel.status();
  const double timeout =
      absl::ToDoubleSeconds(ScaledTimeout(absl::Seconds(30)));
  absl::StatusOr<std::vector<procspec::Handle>> ready =
      procspec::connection::wait({*sentinel}, timeout);
  if (!ready.ok()) return ready.status();
  if (ready->empty()) {
    return absl::DeadlineExceededError("the child did not end in time");
  }
  return absl::OkStatus();
}

}  // namespace conformance::module_testing
