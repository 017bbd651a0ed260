#include "platform/windows/windows_backend.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/internal/wire.h"
#include "platform/platform.h"
#include "platform/windows/win32.h"

namespace procspec::platform::windows {
namespace {

// ---- The parent's side of a child

class WindowsChild : public ChildProcess {
 public:
  WindowsChild(UniqueHandle process, Pid pid)
      : process_(std::move(process)), pid_(pid) {}

  Pid pid() const override { return pid_; }

  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (status_.has_value()) return status_;
    }
    HANDLE process = ToHandle(process_.get());
    for (;;) {
      const DWORD result = WaitForSingleObject(process, WaitMillis(deadline));
      if (result == WAIT_OBJECT_0) break;
      if (result == WAIT_FAILED) return LastWinError("WaitForSingleObject");
      // A timeout never comes early: wait again for what rounding left.
      if (absl::Now() >= deadline) return std::nullopt;
    }
    DWORD code = 0;
    if (!GetExitCodeProcess(process, &code))
      return LastWinError("GetExitCodeProcess");
    const ExitStatus status = ExitStatusFromCode(code);
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.has_value()) status_ = status;
    return status_;
  }

  absl::Status SendSignal(Signal signal) override {
    if (signal == Signal::kInterrupt) {
      return absl::UnimplementedError(
          "the windows backend cannot interrupt a child: Windows has no "
          "signals to send to another process");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.has_value()) return absl::OkStatus();
    HANDLE process = ToHandle(process_.get());
    if (TerminateProcess(process, kTerminatedExitCode)) return absl::OkStatus();
    const DWORD error = GetLastError();
    // As CPython's Popen.terminate: a child that has already exited is not
    // an error (Windows reports ERROR_ACCESS_DENIED for it).
    if (WaitForSingleObject(process, 0) == WAIT_OBJECT_0)
      return absl::OkStatus();
    return WinError(error, "TerminateProcess");
  }

  NativeHandle sentinel() const override { return process_.get(); }

 private:
  UniqueHandle process_;
  const Pid pid_;
  std::mutex mu_;
  std::optional<ExitStatus> status_;  // guarded by mu_
};

// ---- The child's view of its parent

class WindowsParentWatch : public ParentWatch {
 public:
  WindowsParentWatch(Pid pid, UniqueHandle process)
      : pid_(pid), process_(std::move(process)) {}
  Pid pid() const override { return pid_; }
  bool IsAlive() override {
    // No handle (the parent passed none): as CPython, assume it runs.
    if (!process_.valid()) return true;
    return WaitForSingleObject(ToHandle(process_.get()), 0) == WAIT_TIMEOUT;
  }
  NativeHandle sentinel() const override { return process_.get(); }

 private:
  const Pid pid_;
  UniqueHandle process_;
};

absl::Status NotOnWindows(std::string_view what) {
  return absl::UnimplementedError(
      absl::StrCat("the windows backend cannot ", std::string(what),
                   ": Windows has no fork(); use the spawn start method"));
}

// An inheritable duplicate of `handle` (in this process), for the handle list
// of one CreateProcessW; closed on destruction.
absl::StatusOr<UniqueHandle> InheritableCopy(HANDLE handle, DWORD access = 0) {
  HANDLE copy = nullptr;
  const DWORD options = access == 0 ? DUPLICATE_SAME_ACCESS : 0;
  if (!DuplicateHandle(GetCurrentProcess(), handle, GetCurrentProcess(), &copy,
                       access, TRUE, options)) {
    return LastWinError("DuplicateHandle");
  }
  return UniqueHandle(FromHandle(copy));
}

// The job that kills the children started with die_with_parent when this
// process ends: only this process holds its handle (never inheritable), so
// the system closes it when this process ends, however it ends. The
// children's own children are not in it (silent breakaway).
absl::StatusOr<HANDLE> DieWithParentJob() {
  static std::mutex mu;
  static HANDLE job = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (job != nullptr) return job;
  HANDLE created = CreateJobObjectW(nullptr, nullptr);
  if (created == nullptr) return LastWinError("CreateJobObject");
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags =
      JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK;
  if (!SetInformationJobObject(created, JobObjectExtendedLimitInformation,
                               &limits, sizeof(limits))) {
    absl::Status error = LastWinError("SetInformationJobObject");
    CloseHandle(created);
    return error;
  }
  job = created;
  return job;
}

// This process's environment as a CreateProcessW block, with `marker`
// ("NAME=value") in place of any variable of the same name.
std::wstring ChildEnvironment(const std::wstring& marker) {
  const std::wstring prefix = Widen(absl::StrCat(kSpawnMarkerVariable, "="));
  std::wstring block;
  wchar_t* strings = GetEnvironmentStringsW();
  if (strings != nullptr) {
    for (const wchar_t* entry = strings; *entry != L'\0';) {
      const std::wstring_view variable(entry);
      if (variable.substr(0, prefix.size()) != prefix) {
        block.append(variable);
        block.push_back(L'\0');
      }
      entry += variable.size() + 1;
    }
    FreeEnvironmentStringsW(strings);
  }
  block.append(marker);
  block.push_back(L'\0');
  block.push_back(L'\0');
  return block;
}

// A PROC_THREAD_ATTRIBUTE_HANDLE_LIST: exactly these handles are inherited.
class HandleListAttribute {
 public:
  absl::Status Init(std::vector<HANDLE> handles) {
    handles_ = std::move(handles);
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    storage_.resize(size);
    list_ = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data());
    if (!InitializeProcThreadAttributeList(list_, 1, 0, &size)) {
      list_ = nullptr;
      return LastWinError("InitializeProcThreadAttributeList");
    }
    if (!UpdateProcThreadAttribute(
            list_, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles_.data(),
            handles_.size() * sizeof(HANDLE), nullptr, nullptr)) {
      return LastWinError("UpdateProcThreadAttribute");
    }
    return absl::OkStatus();
  }
  ~HandleListAttribute() {
    if (list_ != nullptr) DeleteProcThreadAttributeList(list_);
  }
  LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }

 private:
  std::vector<HANDLE> handles_;
  std::vector<char> storage_;
  LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

// Appends `argument` to `line` as the C runtime's argv parser reads it back:
// backslashes are literal except before a quote, where they escape.
void AppendQuoted(std::wstring& line, const std::wstring& argument) {
  if (!argument.empty() &&
      argument.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += argument;
    return;
  }
  line.push_back(L'"');
  std::size_t backslashes = 0;
  for (wchar_t c : argument) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"')
      line.append(backslashes * 2 + 1, L'\\');
    else
      line.append(backslashes, L'\\');
    backslashes = 0;
    line.push_back(c);
  }
  line.append(backslashes * 2, L'\\');
  line.push_back(L'"');
}

}  // namespace

std::wstring QuoteCommandLine(const std::vector<std::string>& argv) {
  std::wstring line;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) line.push_back(L' ');
    AppendQuoted(line, Widen(argv[i]));
  }
  return line;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> WindowsBackend::Fork(
    const ForkOptions& options,
    absl::FunctionRef<int(ChildContext&)> child_main) {
  (void)options;
  (void)child_main;
  return NotOnWindows("fork a process");
}

absl::StatusOr<std::unique_ptr<ChildProcess>> WindowsBackend::Spawn(
    const SpawnOptions& options) {
  std::string executable = options.executable;
  if (executable.empty()) executable = ProgramPath();
  if (executable.empty()) return LastWinError("GetModuleFileName");
  std::vector<std::string> argv = options.argv;
  if (argv.empty()) argv.push_back(executable);
  FlushStandardStreams();

  absl::StatusOr<PipeEnds> bootstrap = MakePipe();
  if (!bootstrap.ok()) return bootstrap.status();
  const std::string key = internal::NewSpawnKey();

  // Inheritable copies of exactly what the child gets: the bootstrap pipe's
  // read end, a handle on this process (its parent watch), the standard
  // streams and SpawnOptions::handles. Inherited handles keep their values,
  // so the copies' values are the child's.
  std::vector<UniqueHandle> copies;
  auto copy = [&](HANDLE handle, DWORD access = 0) -> absl::StatusOr<HANDLE> {
    absl::StatusOr<UniqueHandle> made = InheritableCopy(handle, access);
    if (!made.ok()) return made.status();
    copies.push_back(*std::move(made));
    return ToHandle(copies.back().get());
  };
  absl::StatusOr<HANDLE> child_bootstrap =
      copy(ToHandle(bootstrap->read.get()));
  if (!child_bootstrap.ok()) return child_bootstrap.status();
  absl::StatusOr<HANDLE> child_parent = copy(
      GetCurrentProcess(), SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION);
  if (!child_parent.ok()) return child_parent.status();
  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof(startup);
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  HANDLE* standard[] = {&startup.StartupInfo.hStdInput,
                        &startup.StartupInfo.hStdOutput,
                        &startup.StartupInfo.hStdError};
  const DWORD standard_ids[] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
                                STD_ERROR_HANDLE};
  for (int i = 0; i < 3; ++i) {
    HANDLE stream = GetStdHandle(standard_ids[i]);
    *standard[i] = nullptr;
    if (stream == nullptr || stream == INVALID_HANDLE_VALUE) continue;
    // A stream this process cannot duplicate (closed) is left closed.
    if (absl::StatusOr<HANDLE> passed = copy(stream); passed.ok())
      *standard[i] = *passed;
  }
  std::vector<int> passed_numbers;
  for (NativeHandle handle : options.handles) {
    absl::StatusOr<HANDLE> passed = copy(ToHandle(handle));
    if (!passed.ok()) return passed.status();
    passed_numbers.push_back(static_cast<int>(FromHandle(*passed)));
  }
  std::vector<HANDLE> inherited;
  for (const UniqueHandle& handle : copies)
    inherited.push_back(ToHandle(handle.get()));
  HandleListAttribute attribute;
  if (absl::Status s = attribute.Init(inherited); !s.ok()) return s;
  startup.lpAttributeList = attribute.get();

  std::wstring environment = ChildEnvironment(Widen(
      absl::StrCat(kSpawnMarkerVariable, "=",
                   internal::FormatSpawnMarker(
                       {.fd = static_cast<int>(FromHandle(*child_bootstrap)),
                        .key = key}))));
  std::wstring command_line = QuoteCommandLine(argv);
  const std::wstring application = Widen(executable);
  absl::StatusOr<HANDLE> job = nullptr;
  if (options.die_with_parent) {
    job = DieWithParentJob();
    if (!job.ok()) return job.status();
  }
  PROCESS_INFORMATION info{};
  const DWORD flags = EXTENDED_STARTUPINFO_PRESENT |
                      CREATE_UNICODE_ENVIRONMENT |
                      (options.die_with_parent ? CREATE_SUSPENDED : 0);
  if (!CreateProcessW(application.c_str(), command_line.data(), nullptr,
                      nullptr, TRUE, flags, environment.data(), nullptr,
                      &startup.StartupInfo, &info)) {
    // As CPython's subprocess on Windows: "[WinError 2] The system cannot
    // find the file specified".
    const DWORD error = GetLastError();
    return absl::Status(WinError(error, "").code(), WinErrorText(error));
  }
  // The child has its copies; this process's go.
  copies.clear();
  UniqueHandle thread(FromHandle(info.hThread));
  auto child =
      std::make_unique<WindowsChild>(UniqueHandle(FromHandle(info.hProcess)),
                                     static_cast<Pid>(info.dwProcessId));
  if (options.die_with_parent) {
    // Suspended until it is in the job: no instant of it runs unwatched.
    if (!AssignProcessToJobObject(*job, info.hProcess) ||
        ResumeThread(info.hThread) == static_cast<DWORD>(-1)) {
      absl::Status error = LastWinError("AssignProcessToJobObject");
      TerminateProcess(info.hProcess, kTerminatedExitCode);
      (void)child->Wait(absl::InfiniteFuture());
      return error;
    }
  }
  bootstrap->read.reset();

  internal::SpawnHeader fields;
  fields.backend = std::string(name());
  fields.parent = CurrentPid();
  fields.die_with_parent = options.die_with_parent;
  fields.size = options.payload.size();
  fields.handles = passed_numbers;
  fields.handoff = absl::StrCat(FromHandle(*child_parent));
  const std::string header = internal::FormatSpawnHeader(fields);
  if (absl::Status written =
          WriteAll(bootstrap->write.get(), key + header + options.payload);
      !written.ok()) {
    // The child cannot bootstrap; it sees the end of the pipe and exits
    // non-zero.
    return written;
  }
  return child;
}

absl::StatusOr<ChildContext> WindowsBackend::AdoptSpawned(
    std::string_view handoff, Pid parent, bool die_with_parent) {
  (void)die_with_parent;  // the parent's job does it
  std::intptr_t value = 0;
  if (!absl::SimpleAtoi(absl::string_view(handoff.data(), handoff.size()),
                        &value) ||
      value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad handoff '",
                     absl::string_view(handoff.data(), handoff.size()), "'"));
  }
  HANDLE process = ToHandle(value);
  // Not inherited by this process's own children.
  if (!SetHandleInformation(process, HANDLE_FLAG_INHERIT, 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("handoff handle ", value, " is not open"));
  }
  ChildContext context;
  context.parent =
      std::make_unique<WindowsParentWatch>(parent, UniqueHandle(value));
  return context;
}

absl::StatusOr<std::unique_ptr<ForkServer>> WindowsBackend::ForkForkServer(
    ServedChildMain child_main) {
  (void)child_main;
  return NotOnWindows("start a fork server");
}

absl::StatusOr<std::unique_ptr<ForkServer>> WindowsBackend::SpawnForkServer(
    std::string payload, std::vector<std::string> argv) {
  (void)payload;
  (void)argv;
  return NotOnWindows("start a fork server");
}

void WindowsBackend::ServeForks(UniqueHandle channel,
                                ServedChildMain child_main) {
  (void)channel;
  (void)child_main;
  std::fputs("procspec: the windows backend has no fork server\n", stderr);
  ExitImmediately(70);
}

Backend& WindowsBackendInstance() {
  static WindowsBackend* const backend = new WindowsBackend;
  return *backend;
}

}  // namespace procspec::platform::windows
