#include "platform/posix/posix_backend.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "platform/internal/wire.h"
#include "platform/posix/child_process.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/fork_registry.h"
#include "platform/posix/internal/posix_io.h"
#include "platform/posix/parent_watch.h"

extern char** environ;  // POSIX: declared by no header without _GNU_SOURCE

namespace procspec::platform::posix {
namespace {

// A spawned child's first passed descriptor (after stdin, stdout, stderr).
constexpr int kFirstPassedDescriptor = 3;
// Descriptors above this are not looked for (a limit above it is taken to be
// this).
constexpr rlim_t kDescriptorScanLimit = rlim_t{1} << 20;

// EX_SOFTWARE: the child could not run `child_main` to its end through no fault
// of the OS.
constexpr int kChildBugExitCode = 70;

// In the child: one line on stderr, then exit without running anything of the
// parent's.
[[noreturn]] void ExitChildWithMessage(std::string_view message) {
  FlushStandardStreams();
  const std::string line =
      absl::StrCat("procspec: child process ", CurrentPid(), ": ",
                   absl::string_view(message.data(), message.size()), "\n");
  (void)WriteAll(STDERR_FILENO, line);
  ExitImmediately(kChildBugExitCode);
}

// Threads started by KillSelfWhenReadableLocked in this process.
std::atomic<int> watcher_threads{0};

// Runs in a thread of a child forked with die_with_parent: `watch` is a
// duplicate of a descriptor that becomes readable when the parent is gone (a
// parent-watch pipe's read end, or a pidfd of the parent).
void KillSelfWhenParentEnds(int watch) {
  pollfd entry = {watch, POLLIN, 0};
  while (poll(&entry, 1, -1) < 0 && errno == EINTR) {
  }
  kill(getpid(), SIGKILL);
}

// In a child after fork(): blocks until the parent's go-ahead (one byte) on
// `go_ahead`; exits at once, having run nothing, if the parent gave up on it
// (end of file).
void AwaitGoAhead(const UniqueHandle& go_ahead) {
  char byte;
  ssize_t got;
  do {
    got = read(static_cast<int>(go_ahead.get()), &byte, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1) ExitImmediately(kChildBugExitCode);
}

}  // namespace

// Writes `data` to a pipe whose reader may have gone, without the SIGPIPE that
// would end this process: the signal is blocked in this thread for the write,
// and one the write raises is consumed. OK if the reader has gone (EPIPE).
absl::Status WriteToChild(int fd, std::string_view data) {
  sigset_t pipe_only, old_mask, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  int error = 0;
  while (!data.empty()) {
    const ssize_t written = write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  if (error == EPIPE && !was_pending) {
    const timespec zero = {0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  // EPIPE: the child has gone without reading. It reports that through its
  // exit status, as a child that failed any other way does.
  if (error == 0 || error == EPIPE) return absl::OkStatus();
  return internal::ErrnoError(error, "write");
}

namespace {

// This process's environment without any spawn marker, plus `marker`.
std::vector<std::string> ChildEnvironment(const std::string& marker) {
  std::vector<std::string> env;
  const std::string prefix = absl::StrCat(kSpawnMarkerVariable, "=");
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::strncmp(*entry, prefix.c_str(), prefix.size()) != 0)
      env.emplace_back(*entry);
  }
  env.push_back(marker);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

int PosixBackend::AddCloseFromAction(posix_spawn_file_actions_t* actions,
                                     int lowest) {
  // POSIX has no "close from" action: one close action per descriptor that
  // would cross the exec (open, without close-on-exec) from `lowest` up.
  // poll() says which descriptors are open (POLLNVAL for the others), many at
  // a time. Called with the fork mutex held, so the library opens none
  // meanwhile; one that another thread of the program opens without
  // close-on-exec at this very moment may still cross.
  rlimit limit;
  rlim_t highest = 1024;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) highest = limit.rlim_cur;
  if (highest == RLIM_INFINITY || highest > kDescriptorScanLimit)
    highest = kDescriptorScanLimit;
  const rlim_t batch = std::min<rlim_t>(highest, 1024);
  std::vector<pollfd> fds(static_cast<std::size_t>(batch));
  for (rlim_t first = static_cast<rlim_t>(lowest); first < highest;
       first += batch) {
    const std::size_t count =
        static_cast<std::size_t>(std::min<rlim_t>(batch, highest - first));
    for (std::size_t i = 0; i < count; ++i)
      fds[i] = pollfd{static_cast<int>(first + i), 0, 0};
    int ready;
    do {
      ready = poll(fds.data(), count, 0);
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return errno;
    for (std::size_t i = 0; i < count; ++i) {
      if ((fds[i].revents & POLLNVAL) != 0) continue;
      const int flags = fcntl(fds[i].fd, F_GETFD);
      if (flags < 0 || (flags & FD_CLOEXEC) != 0) continue;
      if (int error = posix_spawn_file_actions_addclose(actions, fds[i].fd);
          error != 0) {
        return error;
      }
    }
  }
  return 0;
}

absl::StatusOr<std::string> PosixBackend::OwnExecutable() {
  // POSIX has no call for it, and /proc is not POSIX (macOS has none, the
  // BSDs mount it only optionally): the path procspec::Init found from
  // argv[0], as CPython's sys.executable.
  std::string path = ProgramPath();
  if (!path.empty()) return path;
  // A program that never called Init: the /proc/self/exe link where there is
  // one.
  path.assign(PATH_MAX, '\0');
  const ssize_t length = readlink("/proc/self/exe", path.data(), path.size());
  if (length < 0) {
    return absl::FailedPreconditionError(
        "the program's path is unknown: procspec::Init(argc, argv) records it "
        "from argv[0] (or set_executable names the program)");
  }
  path.resize(static_cast<std::size_t>(length));
  return path;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::Spawn(
    const SpawnOptions& options) {
  if (options.die_with_parent && !SupportsDieWithParent()) {
    return absl::UnimplementedError(
        absl::StrCat("backend ", std::string(name()),
                     " cannot kill a child when its parent dies"));
  }
  std::string executable = options.executable;
  if (executable.empty()) {
    absl::StatusOr<std::string> own = OwnExecutable();
    if (!own.ok()) return own.status();
    executable = *std::move(own);
  }
  std::vector<std::string> argv = options.argv;
  if (argv.empty()) argv.push_back(executable);
  FlushStandardStreams();

  std::unique_lock<std::mutex> lock(internal::ForkMutex());
  absl::StatusOr<ForkPlumbing> plumbing =
      PrepareLocked(ForkOptions{.die_with_parent = options.die_with_parent});
  if (!plumbing.ok()) return plumbing.status();
  absl::StatusOr<PipeEnds> bootstrap = MakePipeLocked();
  if (!bootstrap.ok()) return bootstrap.status();
  const std::string key = internal::NewSpawnKey();

  // Exactly these descriptors cross the exec, renumbered from 3 on, and every
  // other descriptor from there up is closed in the new process, so that
  // nothing the program opened without close-on-exec reaches the child
  // (CPython's _posixsubprocess: close_fds=True, pass_fds).
  std::vector<NativeHandle> inherited = {bootstrap->read.get(),
                                         plumbing->sentinel_write.get(),
                                         plumbing->watch_read.get()};
  inherited.insert(inherited.end(), options.handles.begin(),
                   options.handles.end());
  std::vector<int> child_number(inherited.size(), -1);
  int first_closed = kFirstPassedDescriptor;
  for (std::size_t i = 0; i < inherited.size(); ++i) {
    if (inherited[i] != kInvalidHandle) child_number[i] = first_closed++;
  }
  // Each is placed from a close-on-exec copy numbered above every target, so
  // that placing one never overwrites the source of another. The copies close
  // on return.
  std::vector<UniqueHandle> copies;
  posix_spawn_file_actions_t actions;
  if (int error = posix_spawn_file_actions_init(&actions); error != 0)
    return internal::ErrnoError(error, "posix_spawn_file_actions_init");
  int error = 0;
  for (std::size_t i = 0; i < inherited.size() && error == 0; ++i) {
    if (child_number[i] < 0) continue;
    const int copy =
        fcntl(static_cast<int>(inherited[i]), F_DUPFD_CLOEXEC, first_closed);
    if (copy < 0) {
      error = errno;
      break;
    }
    copies.emplace_back(copy);
    // dup2 in a spawn file action clears FD_CLOEXEC on the target.
    error = posix_spawn_file_actions_adddup2(&actions, copy, child_number[i]);
  }
  if (error == 0) error = AddCloseFromAction(&actions, first_closed);
  pid_t pid = -1;
  if (error == 0) {
    // The bootstrap pipe is the first descriptor passed.
    std::vector<std::string> env = ChildEnvironment(
        absl::StrCat(kSpawnMarkerVariable, "=",
                     internal::FormatSpawnMarker(
                         {.fd = kFirstPassedDescriptor, .key = key})));
    std::vector<char*> c_argv = CStrings(argv);
    std::vector<char*> c_env = CStrings(env);
    error = posix_spawn(&pid, executable.c_str(), &actions, nullptr,
                        c_argv.data(), c_env.data());
  }
  posix_spawn_file_actions_destroy(&actions);
  // Under the lock: no child forked meanwhile holds a copy.
  copies.clear();
  if (error != 0) {
    // As CPython's subprocess: an exec failure names the file, a failure to
    // create the process (EAGAIN, ENOMEM) does not. Nothing was started, and
    // every descriptor made for the child is closed on return.
    const bool about_the_file = error == ENOENT || error == EACCES ||
                                error == ENOEXEC || error == ENOTDIR ||
                                error == ELOOP || error == ENAMETOOLONG ||
                                error == ETXTBSY || error == EISDIR;
    return internal::OsError(error, about_the_file ? executable : "");
  }

  internal::SpawnHeader fields;
  fields.backend = std::string(name());
  fields.parent = CurrentPid();
  fields.die_with_parent = options.die_with_parent;
  fields.size = options.payload.size();
  // The child's numbers for them.
  for (std::size_t i = 0; i < options.handles.size(); ++i)
    fields.handles.push_back(child_number[3 + i]);
  fields.handoff = absl::StrCat(child_number[1], " ", child_number[2]);
  const std::string header = internal::FormatSpawnHeader(fields);
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      AdoptLocked(pid, *plumbing);
  if (!child.ok() && !absl::IsNotFound(child.status())) {
    kill(pid, SIGKILL);
    int wait_status;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  bootstrap->read.reset();
  // Registered while it is open, so that no child forked meanwhile holds it.
  internal::RegisteredHandle write_end =
      internal::RegisteredHandle::AdoptLocked(std::move(bootstrap->write));
  lock.unlock();
  if (!child.ok()) return child.status();

  const int writer = static_cast<int>(write_end.get());
  if (absl::Status written =
          WriteToChild(writer, key + header + options.payload);
      !written.ok()) {
    // The child cannot bootstrap; it sees end of file and exits non-zero.
    return written;
  }
  return child;
}

absl::StatusOr<ChildContext> PosixBackend::AdoptSpawned(
    std::string_view handoff, Pid parent, bool die_with_parent) {
  std::vector<std::string> fields =
      absl::StrSplit(absl::string_view(handoff.data(), handoff.size()), ' ');
  int sentinel = -1, watch = -1;
  if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &sentinel) ||
      !absl::SimpleAtoi(fields[1], &watch) || sentinel < -1 || watch < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad handoff '",
                     absl::string_view(handoff.data(), handoff.size()), "'"));
  }
  for (int fd : {sentinel, watch}) {
    if (fd >= 0 && fcntl(fd, F_GETFD) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("handoff descriptor ", fd, " is not open"));
    }
  }
  std::unique_lock<std::mutex> lock(internal::ForkMutex());
  ForkPlumbing plumbing;
  if (sentinel >= 0) {
    if (absl::Status s = internal::SetCloseOnExec(sentinel); !s.ok()) return s;
    // Held until this process exits, as a forked child holds it.
    internal::RegisterLocked(sentinel);
  }
  if (watch >= 0) {
    if (absl::Status s = internal::SetCloseOnExec(watch); !s.ok()) return s;
    plumbing.watch_read = UniqueHandle(watch);
  }
  if (die_with_parent) {
    if (absl::Status status = ArmDieWithParentLocked(parent, plumbing);
        !status.ok()) {
      return status;
    }
  }
  absl::StatusOr<std::unique_ptr<ParentWatch>> parent_watch =
      WatchParentLocked(parent, plumbing);
  if (!parent_watch.ok()) return parent_watch.status();
  ChildContext context;
  context.parent = *std::move(parent_watch);
  return context;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::Fork(
    const ForkOptions& options,
    absl::FunctionRef<int(ChildContext&)> child_main) {
  return ForkImpl(options, nullptr, child_main);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::ForkForRequester(
    Pid parent, UniqueHandle watch, const ForkOptions& options,
    absl::FunctionRef<int(ChildContext&)> child_main) {
  Requester requester{parent, std::move(watch)};
  return ForkImpl(options, &requester, child_main);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::ForkImpl(
    const ForkOptions& options, Requester* requester,
    absl::FunctionRef<int(ChildContext&)> child_main) {
  if (options.die_with_parent && !SupportsDieWithParent()) {
    return absl::UnimplementedError(
        absl::StrCat("backend ", std::string(name()),
                     " cannot kill a child when its parent dies"));
  }
  // Outside the lock: flushing may block on a full pipe.
  FlushStandardStreams();
  std::unique_lock<std::mutex> lock(internal::ForkMutex());
  absl::StatusOr<ForkPlumbing> plumbing = PrepareLocked(options);
  if (!plumbing.ok()) return plumbing.status();
  if (requester != nullptr) {
    // The child watches the requester, not this process.
    plumbing->watch_read.reset();
    plumbing->watch_write.reset();
  }
  PipeEnds go_ahead;
  if (AdoptCanFailAfterFork()) {
    absl::StatusOr<PipeEnds> pipe = MakePipeLocked();
    // CPython's os.pipe() failing: OSError, e.g. "[Errno 24] Too many open
    // files" under a descriptor limit.
    if (!pipe.ok()) return pipe.status();
    go_ahead = *std::move(pipe);
  }
  const Pid parent = CurrentPid();
  const pid_t pid = fork();
  // CPython's os.fork(): BlockingIOError "[Errno 11] Resource temporarily
  // unavailable" under RLIMIT_NPROC. The plumbing is closed on return.
  if (pid < 0) return internal::OsError(errno);
  if (pid == 0) {
    go_ahead.write.reset();
    RunChild(lock, parent, options, *plumbing, std::move(go_ahead.read),
             requester, child_main);
  }
  // Frees a descriptor for AdoptLocked under a descriptor limit.
  go_ahead.read.reset();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      AdoptLocked(pid, *plumbing);
  if (child.ok()) {
    if (go_ahead.write.valid()) {
      // The child waits with the read end open, so this cannot block, and a
      // SIGPIPE (a child already killed by someone) is not ours.
      (void)WriteToChild(static_cast<int>(go_ahead.write.get()), "g");
    }
    return child;
  }
  // Nobody could ever wait for this child: do not leave it running or as a
  // zombie. With a go-ahead pipe it is still waiting for the byte, having run
  // nothing: it is killed before the write end closes. Unless it is already
  // gone (ESRCH: killed by someone and auto-reaped because SIGCHLD is
  // ignored), when its pid may name a stranger by now.
  if (!absl::IsNotFound(child.status())) {
    kill(pid, SIGKILL);
    go_ahead.write.reset();
    int wait_status;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  return child.status();
}

void PosixBackend::RunChild(std::unique_lock<std::mutex>& lock, Pid parent,
                            const ForkOptions& options, ForkPlumbing& plumbing,
                            UniqueHandle go_ahead, Requester* requester,
                            absl::FunctionRef<int(ChildContext&)> child_main) {
  // The parent's descriptors for its other children and for its own parent
  // watch.
  internal::CloseRegisteredInChildLocked();
  // Threads are not copied by fork(): the parent's watcher is not here.
  watcher_threads.store(0);
  if (go_ahead.valid()) {
    AwaitGoAhead(go_ahead);
    go_ahead.reset();
  }
  plumbing.sentinel_read.reset();
  plumbing.watch_write.reset();
  // Kept open until this process exits, so that the parent's sentinel fires
  // then, and registered so that no child of this process holds it open longer.
  if (plumbing.sentinel_write.valid())
    internal::RegisterLocked(plumbing.sentinel_write.release());

  ChildContext context;
  if (options.die_with_parent) {
    // A fork server's child dies with the requester, which is not its parent:
    // only a thread on the requester's watch can see that.
    if (absl::Status status =
            requester != nullptr
                ? KillSelfWhenReadableLocked(requester->watch.get())
                : ArmDieWithParentLocked(parent, plumbing);
        !status.ok()) {
      ExitChildWithMessage(
          absl::StrCat("cannot watch the parent: ", status.ToString()));
    }
  }
  absl::StatusOr<std::unique_ptr<ParentWatch>> watch;
  if (requester != nullptr) {
    // Registered here, so that this child's own children do not hold it.
    watch = std::make_unique<SentinelParentWatch>(
        requester->pid,
        internal::RegisteredHandle::AdoptLocked(std::move(requester->watch)));
  } else {
    watch = WatchParentLocked(parent, plumbing);
  }
  if (!watch.ok()) {
    ExitChildWithMessage(
        absl::StrCat("cannot watch the parent: ", watch.status().ToString()));
  }
  context.parent = *std::move(watch);
  lock.unlock();

  int code = kChildBugExitCode;
  try {
    code = child_main(context);
  } catch (const std::exception& error) {
    ExitChildWithMessage(absl::StrCat("uncaught exception: ", error.what()));
  } catch (...) {
    ExitChildWithMessage(
        "uncaught exception of a type not derived from std::exception");
  }
  FlushStandardStreams();
  ExitImmediately(code & 0xff);
}

absl::StatusOr<PipeEnds> PosixBackend::MakePipe() {
  std::lock_guard<std::mutex> lock(internal::ForkMutex());
  return internal::MakePosixPipeLocked();
}

absl::StatusOr<PipeEnds> PosixBackend::MakePipeLocked() {
  return internal::MakePosixPipeLocked();
}

absl::StatusOr<ForkPlumbing> PosixBackend::PrepareLocked(const ForkOptions&) {
  absl::StatusOr<PipeEnds> sentinel = MakePipeLocked();
  if (!sentinel.ok()) return sentinel.status();
  absl::StatusOr<PipeEnds> watch = MakePipeLocked();
  if (!watch.ok()) return watch.status();
  return ForkPlumbing{
      .sentinel_read = std::move(sentinel->read),
      .sentinel_write = std::move(sentinel->write),
      .watch_read = std::move(watch->read),
      .watch_write = std::move(watch->write),
  };
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PosixBackend::AdoptLocked(
    Pid child, ForkPlumbing& plumbing) {
  // The child's ends: only the child may hold them, or its sentinel would not
  // fire at its exit.
  plumbing.sentinel_write.reset();
  plumbing.watch_read.reset();
  return std::make_unique<PosixChildProcess>(
      child,
      internal::RegisteredHandle::AdoptLocked(
          std::move(plumbing.sentinel_read)),
      internal::RegisteredHandle::AdoptLocked(std::move(plumbing.watch_write)));
}

absl::Status PosixBackend::ArmDieWithParentLocked(Pid, ForkPlumbing& plumbing) {
  // POSIX has no "signal me when my parent dies"; a thread blocked on the
  // parent watch is the portable equivalent.
  return KillSelfWhenReadableLocked(plumbing.watch_read.get());
}

absl::Status PosixBackend::KillSelfWhenReadableLocked(NativeHandle handle) {
  // The thread reads its own duplicate, so child_main may close the
  // ParentWatch.
  const int watch = fcntl(static_cast<int>(handle), F_DUPFD_CLOEXEC, 0);
  if (watch < 0) return internal::ErrnoError(errno, "fcntl(F_DUPFD_CLOEXEC)");
  // Kept for the life of this process; registered so that its own children do
  // not hold it.
  internal::RegisterLocked(watch);
  try {
    std::thread(KillSelfWhenParentEnds, watch).detach();
  } catch (const std::system_error& error) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start a thread: ", error.what()));
  }
  watcher_threads.fetch_add(1);
  return absl::OkStatus();
}

int PosixBackend::WatcherThreads() { return watcher_threads.load(); }

absl::StatusOr<std::unique_ptr<ParentWatch>> PosixBackend::WatchParentLocked(
    Pid parent, ForkPlumbing& plumbing) {
  return std::make_unique<SentinelParentWatch>(
      parent,
      internal::RegisteredHandle::AdoptLocked(std::move(plumbing.watch_read)));
}

UniqueHandle PosixBackend::OpenProcessHandle(Pid) { return UniqueHandle(); }

int PosixBackend::SignalProcessHandle(NativeHandle, int) { return EBADF; }

Backend& PosixBackendInstance() {
  static auto* backend = new PosixBackend();
  return *backend;
}

}  // namespace procspec::platform::posix
