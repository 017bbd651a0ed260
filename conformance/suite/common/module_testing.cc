#include "conformance/suite/common/module_testing.h"

#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "conformance/harness/timeout.h"

namespace conformance::module_testing {

namespace platform = ::procspec::platform;

Reaper::~Reaper() {
  absl::StatusOr<bool> alive = process_.is_alive();
  if (alive.ok() && *alive) (void)process_.kill();
  (void)process_.join();
}

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
  return platform::WriteAll(handle_.get(),
                            absl::StrCat(std::string(line), "\n"));
}

absl::Status ReportWriter::SendFact(std::string_view key,
                                    std::string_view value) const {
  return Send(absl::StrCat(std::string(key), "=", std::string(value)));
}

absl::Status ReportPipe::Send(std::string_view line) const {
  return platform::WriteAll(ends_.write.get(),
                            absl::StrCat(std::string(line), "\n"));
}

absl::Status ReportPipe::SendFact(std::string_view key,
                                  std::string_view value) const {
  return Send(absl::StrCat(std::string(key), "=", std::string(value)));
}

void ReportPipe::CloseWriteEnd() { ends_.write.reset(); }

absl::StatusOr<std::vector<std::string>> ReportPipe::ReadLines() {
  if (ends_.write.valid()) {
    return absl::FailedPreconditionError(
        "ReportPipe::ReadLines before CloseWriteEnd would never see EOF");
  }
  const absl::Time deadline = absl::Now() + ScaledTimeout(absl::Seconds(30));
  const platform::NativeHandle handle = ends_.read.get();
  std::string data;
  while (true) {
    absl::StatusOr<std::vector<std::size_t>> ready =
        platform::WaitReadable(absl::MakeConstSpan(&handle, 1), deadline);
    if (!ready.ok()) return ready.status();
    if (ready->empty()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "children still hold the report pipe; read so far: \"", data, "\""));
    }
    absl::StatusOr<std::string> chunk = platform::ReadSome(handle, 4096);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    data += *chunk;
  }
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(data, '\n', absl::SkipEmpty())) {
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
