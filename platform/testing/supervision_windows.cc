// Supervised runs on Windows. The program is this executable (or another)
// started with CreateProcessW in a job object of its own, the Windows
// counterpart of a process group: TerminateJobObject ends the program and
// everything it started that stayed in the job. The progress "descriptor" is
// the write end of a pipe, passed with PROC_THREAD_ATTRIBUTE_HANDLE_LIST (so
// the program inherits exactly it and its standard streams); its HANDLE value
// is the number on the command line. The program's process handle, signalled
// when it ends, is the end signal that NextLine (supervision.cc) waits on.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "platform/platform.h"
#include "platform/testing/supervision.h"
#include "platform/windows/win32.h"
#include "platform/windows/windows_backend.h"

namespace procspec::platform::testing {
namespace {

using windows::FromHandle;
using windows::LastWinError;
using windows::ToHandle;

// The exit code TerminateJobObject gives every process of the job; reported
// as a death by SIGKILL, as the Linux supervisor's killpg reports it.
constexpr UINT kKilledExitCode = 0x10009;
constexpr int kSigkill = 9;

// RtlGetVersion tells the version the system really is (GetVersionExW lies
// to programs without a manifest); under Wine, the version Wine emulates.
using RtlGetVersionFunction = LONG(WINAPI*)(OSVERSIONINFOW*);

std::string MachineName() {
  SYSTEM_INFO info{};
  GetNativeSystemInfo(&info);
  switch (info.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64:
      return "x86_64";
    case PROCESSOR_ARCHITECTURE_ARM64:
      return "aarch64";
    case PROCESSOR_ARCHITECTURE_INTEL:
      return "x86";
    default:
      return absl::StrCat("architecture ", info.wProcessorArchitecture);
  }
}

// An inheritable duplicate of `handle`, for one CreateProcessW's handle list.
absl::StatusOr<UniqueHandle> InheritableCopy(HANDLE handle) {
  HANDLE copy = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), handle, GetCurrentProcess(), &copy,
                       0, TRUE, DUPLICATE_SAME_ACCESS)) {
    return LastWinError("DuplicateHandle");
  }
  return UniqueHandle(FromHandle(copy));
}

absl::StatusOr<UniqueHandle> NewKillOnCloseJob() {
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  if (job == nullptr) return LastWinError("CreateJobObject");
  UniqueHandle owned(FromHandle(job));
  // If this process dies, the program and what it started die with it.
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits,
                               sizeof(limits))) {
    return LastWinError("SetInformationJobObject");
  }
  return owned;
}

}  // namespace

absl::StatusOr<HostDescription> DescribeHost() {
  OSVERSIONINFOW version{};
  version.dwOSVersionInfoSize = sizeof(version);
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  auto rtl_get_version =
      ntdll == nullptr
          ? nullptr
          : reinterpret_cast<RtlGetVersionFunction>(reinterpret_cast<void*>(
                GetProcAddress(ntdll, "RtlGetVersion")));
  if (rtl_get_version == nullptr || rtl_get_version(&version) != 0) {
    return absl::UnavailableError("RtlGetVersion is not available");
  }
  return HostDescription{
      "Windows",
      absl::StrCat(version.dwMajorVersion, ".", version.dwMinorVersion, ".",
                   version.dwBuildNumber),
      MachineName()};
}

// The job the program runs in; closing it (this process's only handle)
// kills whatever is still in it.
struct WatchedProgram::Waiter {
  UniqueHandle job;
};

absl::StatusOr<std::unique_ptr<WatchedProgram>> WatchedProgram::Start(
    const std::vector<std::string>& argv, bool stdout_to_stderr) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  absl::StatusOr<PipeEnds> progress = MakePipe();
  if (!progress.ok()) return progress.status();
  absl::StatusOr<UniqueHandle> job = NewKillOnCloseJob();
  if (!job.ok()) return job.status();

  // Inherited handles keep their values: the copies' values are the child's.
  std::vector<UniqueHandle> copies;
  absl::StatusOr<UniqueHandle> child_progress =
      InheritableCopy(ToHandle(progress->write.get()));
  if (!child_progress.ok()) return child_progress.status();
  const NativeHandle progress_number = child_progress->get();
  copies.push_back(*std::move(child_progress));

  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof(startup);
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  HANDLE null_input =
      CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  nullptr, OPEN_EXISTING, 0, nullptr);
  if (null_input == INVALID_HANDLE_VALUE) return LastWinError("CreateFile NUL");
  UniqueHandle null_owner(FromHandle(null_input));
  const HANDLE sources[] = {
      null_input,
      GetStdHandle(stdout_to_stderr ? STD_ERROR_HANDLE : STD_OUTPUT_HANDLE),
      GetStdHandle(STD_ERROR_HANDLE)};
  HANDLE* targets[] = {&startup.StartupInfo.hStdInput,
                       &startup.StartupInfo.hStdOutput,
                       &startup.StartupInfo.hStdError};
  for (int i = 0; i < 3; ++i) {
    *targets[i] = nullptr;
    if (sources[i] == nullptr || sources[i] == INVALID_HANDLE_VALUE) continue;
    // A stream this process cannot duplicate (closed) stays closed.
    absl::StatusOr<UniqueHandle> copy = InheritableCopy(sources[i]);
    if (!copy.ok()) continue;
    *targets[i] = ToHandle(copy->get());
    copies.push_back(*std::move(copy));
  }
  std::vector<HANDLE> inherited;
  for (const UniqueHandle& copy : copies)
    inherited.push_back(ToHandle(copy.get()));
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
  std::vector<char> storage(size);
  auto* attributes =
      reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage.data());
  if (!InitializeProcThreadAttributeList(attributes, 1, 0, &size))
    return LastWinError("InitializeProcThreadAttributeList");
  struct DeleteList {
    LPPROC_THREAD_ATTRIBUTE_LIST list;
    ~DeleteList() { DeleteProcThreadAttributeList(list); }
  } delete_list{attributes};
  if (!UpdateProcThreadAttribute(
          attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited.data(),
          inherited.size() * sizeof(HANDLE), nullptr, nullptr)) {
    return LastWinError("UpdateProcThreadAttribute");
  }
  startup.lpAttributeList = attributes;

  std::vector<std::string> args = argv;
  for (std::string& arg : args) {
    arg = absl::StrReplaceAll(
        arg, {{kProgressFdPlaceholder, absl::StrCat(progress_number)}});
  }
  std::wstring command_line = windows::QuoteCommandLine(args);
  const std::wstring application = windows::Widen(argv[0]);
  PROCESS_INFORMATION info{};
  // Suspended until it is in the job: nothing it starts escapes the job.
  if (!CreateProcessW(application.c_str(), command_line.data(), nullptr,
                      nullptr, TRUE,
                      EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED, nullptr,
                      nullptr, &startup.StartupInfo, &info)) {
    return absl::NotFoundError(absl::StrCat(
        "cannot run ", argv[0], ": ", windows::WinErrorText(GetLastError())));
  }
  copies.clear();  // the program has its own
  UniqueHandle process(FromHandle(info.hProcess));
  UniqueHandle thread(FromHandle(info.hThread));
  if (!AssignProcessToJobObject(ToHandle(job->get()), info.hProcess) ||
      ResumeThread(info.hThread) == static_cast<DWORD>(-1)) {
    absl::Status error = LastWinError("AssignProcessToJobObject");
    TerminateProcess(info.hProcess, kKilledExitCode);
    WaitForSingleObject(info.hProcess, INFINITE);
    return error;
  }
  std::unique_ptr<WatchedProgram> program(new WatchedProgram);
  program->pid_ = static_cast<Pid>(info.dwProcessId);
  progress->write.reset();
  program->progress_ = std::move(progress->read);
  program->ended_signal_ = std::move(process);
  program->waiter_ = std::make_unique<Waiter>();
  program->waiter_->job = *std::move(job);
  return program;
}

WatchedProgram::~WatchedProgram() { (void)KillGroupAndReap(); }

absl::StatusOr<ExitStatus> WatchedProgram::KillGroupAndReap() {
  if (reaped_) return status_;
  if (waiter_ != nullptr && waiter_->job.valid() &&
      !TerminateJobObject(ToHandle(waiter_->job.get()), kKilledExitCode)) {
    return LastWinError("TerminateJobObject");
  }
  const HANDLE process = ToHandle(ended_signal_.get());
  if (WaitForSingleObject(process, INFINITE) == WAIT_FAILED)
    return LastWinError("WaitForSingleObject");
  DWORD code = 0;
  if (!GetExitCodeProcess(process, &code))
    return LastWinError("GetExitCodeProcess");
  reaped_ = true;
  ended_ = true;
  if (code == kKilledExitCode) {
    status_.signaled = true;
    status_.value = kSigkill;
  } else {
    status_.value = static_cast<int>(code);
  }
  return status_;
}

absl::StatusOr<UniqueHandle> AdoptProgressDescriptor(int fd) {
  const NativeHandle handle = static_cast<NativeHandle>(fd);
  // Not inherited by the program's own children.
  if (fd <= 0 ||
      !SetHandleInformation(ToHandle(handle), HANDLE_FLAG_INHERIT, 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("progress handle ", fd, " is not open"));
  }
  return UniqueHandle(handle);
}

}  // namespace procspec::platform::testing
