// The platform layer: every operating-system call procspec makes goes through
// this interface.
//
// Layers point one way: platform/ (OS calls) <- process/ (semantics) <-
// conformance/, examples/. Nothing outside platform/ includes an OS header
// beyond the C++ standard library, and this header names no OS either. A port
// to a new OS is one folder under platform/ that implements `Backend` and the
// OS's side of the free functions below (platform/README.md: what a port
// provides), plus a capability manifest and an expectations file; the
// conformance suite never changes for a port.
//
// Backends are chosen at run time by name ("linux", "posix");
// `CurrentBackend()` is the one selected with `SelectBackend`, else the one
// `PROCSPEC_BACKEND` names, else the best for this OS.
#ifndef PROCSPEC_PLATFORM_PLATFORM_H_
#define PROCSPEC_PLATFORM_PLATFORM_H_

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace procspec::platform {

using Pid = std::int64_t;

// A waitable OS object: a file descriptor on POSIX (a HANDLE on Windows).
using NativeHandle = std::intptr_t;
inline constexpr NativeHandle kInvalidHandle = -1;

// Signals the library sends. Numbers are the OS's, so that a death by signal
// reports -N.
enum class Signal { kTerminate, kKill, kInterrupt };
int SignalNumber(Signal signal);
// "SIGTERM" for 15, as Python's signal.Signals names it; "" for an unknown
// number.
std::string SignalName(int signal_number);

// How a child ended, as the OS reported it when it was reaped.
struct ExitStatus {
  bool signaled = false;  // true: killed by `value`; false: exited with code
                          // `value` (0..255).
  int value = 0;
  // The child has ended, but something else in this process reaped it (a
  // SIGCHLD handler calling waitpid(-1), or SIGCHLD set to SIG_IGN, when the
  // kernel reaps it): its status is lost, and `signaled` and `value` mean
  // nothing.
  bool collected_elsewhere = false;

  // CPython's Process.exitcode: the exit code, or -N for a death by signal N.
  int exitcode() const { return signaled ? -value : value; }
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

// An owned descriptor, closed on destruction. Created close-on-exec. Closing
// (`reset`) is the OS's (platform/README.md: what a port provides).
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(NativeHandle handle) : handle_(handle) {}
  UniqueHandle(UniqueHandle&& other) noexcept : handle_(other.release()) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { reset(); }

  NativeHandle get() const { return handle_; }
  bool valid() const { return handle_ != kInvalidHandle; }
  NativeHandle release() { return std::exchange(handle_, kInvalidHandle); }
  void reset(NativeHandle handle = kInvalidHandle);

 private:
  NativeHandle handle_ = kInvalidHandle;
};

// A unidirectional pipe; both ends close-on-exec (atomically where the OS
// allows).
struct PipeEnds {
  UniqueHandle read;
  UniqueHandle write;
};

// A started child process. Thread-safe: any thread may wait, poll or signal
// concurrently.
//
// The exit status is cached once the child is reaped, and after that
// `SendSignal` sends nothing: the pid may already belong to another process.
// Destroying the object closes its handles but neither waits nor signals; an
// unreaped child stays a zombie (the process layer keeps a record of every
// child until it is reaped). Destroying it while the child runs also counts,
// for the child's `ParentWatch` under the "posix" backend, as the parent
// leaving. In a process other than the one that started the child (e.g. a
// forked grandchild that inherited the object) every method is inert: `Wait`
// and `SendSignal` fail with FailedPrecondition and the destructor closes
// nothing.
class ChildProcess {
 public:
  virtual ~ChildProcess() = default;

  virtual Pid pid() const = 0;

  // Waits until the child has exited or `deadline` passes, whichever is first;
  // event-driven (no polling loop). Reaps the child the first time it is seen
  // to have exited and caches the status. Returns nullopt if the child is still
  // running at `deadline`; a deadline in the past polls without blocking.
  // `absl::InfiniteFuture()` waits for ever. EINTR is retried. What tells is
  // the child's exit itself, never its descriptors: a child that closed its
  // sentinel early (an exec, a loop closing descriptors) or a grandchild that
  // holds it changes neither the answer nor when it comes. A past deadline
  // never blocks. A child that something else in this process reaped (a
  // SIGCHLD handler, SIGCHLD ignored) has ended: its status, cached like any
  // other, says `collected_elsewhere`.
  virtual absl::StatusOr<std::optional<ExitStatus>> Wait(
      absl::Time deadline) = 0;

  // Sends `signal` to the child unless it has been reaped (by this object or by
  // anything else in this process), in which case it does nothing and returns
  // OK. Does not wait.
  virtual absl::Status SendSignal(Signal signal) = 0;

  // A handle that becomes readable when the child exits (pidfd, or the read end
  // of a pipe that the child's exit closes). Owned by this object; valid until
  // it is destroyed. Its number never changes (as CPython's sentinel); a pipe
  // the child closed early (an exec) is made, once Wait has seen that, to
  // refer to a pipe that becomes readable at the child's exit.
  virtual NativeHandle sentinel() const = 0;
};

// The child's view of its parent (CPython's parent_process()).
class ParentWatch {
 public:
  virtual ~ParentWatch() = default;
  virtual Pid pid() const = 0;
  // True while the parent runs (non-blocking). Once false, false for ever.
  virtual bool IsAlive() = 0;
  // Becomes readable when the parent exits (at once if it had already gone).
  // Owned by this object; a child the backend forks later does not inherit it.
  virtual NativeHandle sentinel() const = 0;
};

struct ForkOptions {
  // Opt-in, beyond CPython: the child is killed (SIGKILL) when its parent dies,
  // however the parent dies. Backends that cannot do it fail with
  // Unimplemented. The parent is the process, never the thread that called
  // Fork: a thread in the child waits for the parent to end (on "linux" on a
  // pidfd of the parent, on "posix" on the parent-watch pipe) and kills the
  // child. Under "posix" destroying the ChildProcess while the child runs also
  // counts as the parent's death. A program the child execs is no longer
  // watched.
  bool die_with_parent = false;
};

// What a forked child receives before it runs.
struct ChildContext {
  // Never null.
  std::unique_ptr<ParentWatch> parent;
  // In a child a fork server forked: the descriptors passed with the request
  // (`ForkServer::StartChild`'s `handles`), in that order, close-on-exec and
  // owned by this process now. Empty for a plain Fork.
  std::vector<UniqueHandle> handles;
};

// A child that is a fresh run of an executable (CPython's spawn start method).
struct SpawnOptions {
  // The file to execute; "" is this process's own executable.
  std::string executable;
  // The child's argv, argv[0] first; empty means {executable}.
  std::vector<std::string> argv;
  // Bytes delivered to the child through an inherited pipe (the only
  // descriptor it inherits beyond the standard streams and the backend's own
  // sentinel and parent-watch ends); the child reads them with
  // `ReceiveSpawnPayload`. The environment carries only the pipe's descriptor
  // number and a per-child key (`kSpawnMarkerVariable`), never the payload.
  std::string payload;
  // As ForkOptions::die_with_parent.
  bool die_with_parent = false;
  // Further descriptors that cross the exec under their own numbers (e.g. a
  // fork server's channel); the child receives them, close-on-exec again, in
  // `SpawnedContext::handles`, in this order.
  std::vector<NativeHandle> handles;
};

// The environment variable that marks a process started by `Backend::Spawn`;
// its value is "<descriptor>:<key>": the bootstrap pipe's number, and the
// random key the parent writes first on that pipe (a bootstrap without it does
// not come from the parent, and is rejected: internal/wire.h).
inline constexpr char kSpawnMarkerVariable[] = "PROCSPEC_SPAWN_FD";

// What a spawned child receives: the payload and its view of the parent.
struct SpawnedContext {
  std::string payload;
  ChildContext context;
  // SpawnOptions::handles, owned by this process now.
  std::vector<UniqueHandle> handles;
};

// ---- Fork servers (CPython's forkserver start method)
// A fork server is a child of this process that forks children on request, so
// that they start from the server's memory, not from this process's (which may
// have threads by then). Requests travel over a close-on-exec unix socketpair:
// the payload, plus (SCM_RIGHTS) the write end of a status pipe and the read
// end of a parent-watch pipe, both made by the requester. The server forks the
// child, which runs the server's `ServedChildMain` with the payload and a
// ParentWatch on the requester; it replies with the child's pid (and, where the
// OS has them, a pidfd of the child so that the requester's signals cannot
// reach a process that reused the pid); it reaps the child and writes its exit
// status to the status pipe, as CPython's forkserver writes the returncode.
// The requester's ChildProcess has that pipe's read end as its sentinel; end of
// file without a status (the server died) reports exit code 255.

// The most descriptors one fork server request can pass to its child (and one
// spawned child can receive): far above what a program passes, and a bound on
// what a server accepts from a request.
inline constexpr std::size_t kMaxForkServerHandles = 1024;

// What a fork server's child runs: returns the exit code. A plain function, so
// that a server started as a fresh run of the program finds the same one.
using ServedChildMain = int (*)(const std::string& payload,
                                ChildContext& context);

// The requester's side of a fork server. Thread-safe; inert in any process but
// its creator (requests fail with FailedPrecondition there).
class ForkServer {
 public:
  virtual ~ForkServer() = default;
  virtual Pid pid() const = 0;
  // False once the server has ended; it is reaped then. Non-blocking.
  virtual bool IsRunning() = 0;
  // Has the server fork a child that runs its ServedChildMain with `payload`.
  // The child's pid() is its real pid, but it is not this process's child: its
  // status comes from the server. `SendSignal` goes through the pidfd the
  // server sent where there is one; otherwise the server delivers it, and
  // sends nothing to a child it has reaped (so a reused pid is never
  // reached, unlike CPython's kill(pid)).
  // `handles` (at most kMaxForkServerHandles) reach the child by SCM_RIGHTS,
  // as its `ChildContext::handles`; the server closes its copies once it has
  // forked the child, so no other child holds them. Unavailable if the server
  // has gone (it is reaped then; start another). With
  // `options.die_with_parent` the child is killed (SIGKILL) when this process
  // dies, however it dies: the child's thread watches this process through
  // its ParentWatch (the server is its parent, so the kernel's parent-death
  // signal would watch the wrong process).
  virtual absl::StatusOr<std::unique_ptr<ChildProcess>> StartChild(
      std::string_view payload, absl::Span<const NativeHandle> handles,
      const ForkOptions& options) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "linux", "posix", ...
  virtual std::string_view name() const = 0;

  // Forks the calling process, after flushing the standard streams (so nothing
  // buffered is written twice). In the parent, returns the child. In the child:
  // closes the descriptors the backend holds for other children and for its own
  // parent watch, runs `child_main`, flushes the C and C++ standard streams and
  // exits at once (no atexit handlers, no static destructors) with the value
  // `child_main` returned, truncated to 8 bits. Never returns in the child. An
  // exception escaping `child_main` is a bug in the caller: the child writes
  // one line to stderr and exits with 70. A failure to set the child up (e.g.
  // out of descriptors) does the same. Safe to call from several threads at
  // once.
  virtual absl::StatusOr<std::unique_ptr<ChildProcess>> Fork(
      const ForkOptions& options,
      absl::FunctionRef<int(ChildContext&)> child_main) = 0;

  // Whether `Fork` (and so the fork and forkserver start methods, and the
  // fork-server calls below) can work at all: false where the OS has no fork()
  // ("windows"), where only `Spawn` starts children and they fail with
  // Unimplemented.
  virtual bool SupportsFork() const { return true; }

  // Whether `Fork` honours `ForkOptions::die_with_parent`.
  virtual bool SupportsDieWithParent() const = 0;

  // Starts `options.executable` as a new program (posix_spawn; CreateProcess
  // on Windows) with `options.payload` waiting for it on an inherited pipe.
  // Every other descriptor this library made stays close-on-exec. The
  // environment is this process's, plus the marker. Returns once the payload
  // is written (blocks while the child has not read what the pipe cannot
  // hold); a child that exits without reading it is not an error: its exit
  // status says what happened. Safe to call from several threads at once.
  virtual absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const SpawnOptions& options) = 0;

  // In a spawned child, called by `ReceiveSpawnPayload` with the backend's
  // part of the bootstrap header: takes over the inherited sentinel and
  // parent-watch ends (close-on-exec from now on, and closed in this
  // process's own forked children) and builds the parent watch.
  virtual absl::StatusOr<ChildContext> AdoptSpawned(std::string_view handoff,
                                                    Pid parent,
                                                    bool die_with_parent) = 0;

  // Starts a fork server by fork() of this process; the server runs
  // `ServeForks(channel, child_main)`. Call it while this process has one
  // thread (procspec::Init): the server's end of the socketpair is not
  // registered with the fork lock until the server has it.
  virtual absl::StatusOr<std::unique_ptr<ForkServer>> ForkForkServer(
      ServedChildMain child_main) = 0;
  // Starts a fork server as a fresh run of this executable (`Spawn`, safe
  // with threads): it receives `payload` and, as `SpawnedContext::handles[0]`,
  // its end of the channel, and must call `ServeForks` with it. `argv` as
  // SpawnOptions::argv.
  virtual absl::StatusOr<std::unique_ptr<ForkServer>> SpawnForkServer(
      std::string payload, std::vector<std::string> argv) = 0;
  // The server's loop: serves requests on `channel` (forking with this
  // backend) until the requester closes its end or exits, then exits with 0.
  // Single-threaded and event-driven: poll on the channel and the children's
  // sentinels; each child is reaped by its own pid.
  [[noreturn]] virtual void ServeForks(UniqueHandle channel,
                                       ServedChildMain child_main) = 0;

  // A pipe made the way this backend makes descriptors, neither end
  // inherited by a child ("linux": pipe2(O_CLOEXEC); "posix": pipe() then
  // FD_CLOEXEC, serialised with this library's forks so that no child forked
  // in between inherits an end that is not yet close-on-exec).
  virtual absl::StatusOr<PipeEnds> MakePipe() = 0;

  // Shared memory (platform/shared_memory.h): a close-on-exec descriptor of
  // `size` zeroed bytes that no name in the file system refers to, readable
  // and writable by this user only. "posix": shm_open of a random name
  // (O_CREAT|O_EXCL, mode 0600) unlinked at once, both by a helper process
  // forked for the purpose (shared_memory.h: no SIGKILL of the caller can
  // leave the name); "linux": memfd_create.
  virtual absl::StatusOr<UniqueHandle> CreateSharedMemory(std::size_t size) = 0;

  // The timed waits of SharedSemaphore and RobustMutex (shared_memory.h), for
  // a `deadline` neither infinite nor past. "posix" has POSIX's only kind, on
  // the realtime clock (sem_timedwait, pthread_mutex_timedlock), so a step of
  // the wall clock moves the timeout (documented); "linux" waits on
  // CLOCK_MONOTONIC for the time left until `deadline` when it starts.
  // Decrements the process-shared semaphore at `semaphore`: true, or false
  // with errno set (ETIMEDOUT once the deadline has passed, never earlier);
  // EINTR resumes the wait to the same deadline.
  virtual bool WaitSemaphoreUntil(void* semaphore, absl::Time deadline) = 0;
  // Sleeps on a 32-bit word of shared memory (SharedSemaphore's word kind):
  // whether this backend can. "linux": yes (a futex); the default: no, and
  // SharedSemaphore is a sem_t instead.
  virtual bool HasWordWaits() const { return false; }
  // Sleeps while the word at `word` holds `expected`, until a WakeWord on it
  // from any process, `deadline` (InfiniteFuture: none) or a signal: 0 once
  // woken or when the word differed, ETIMEDOUT once `deadline` has passed
  // (never earlier), EINTR. Only where HasWordWaits().
  virtual int WaitWordUntil(const void* word, std::uint32_t expected,
                            absl::Time deadline) {
    (void)word, (void)expected, (void)deadline;
    return ENOSYS;
  }
  // Wakes one process or thread sleeping on `word`.
  virtual void WakeWord(const void* word) { (void)word; }
  // Locks the process-shared mutex at `mutex`: 0, or an errno value as
  // pthread_mutex_timedlock's (never EINTR).
  virtual int LockMutexUntil(void* mutex, absl::Time deadline) = 0;
  // The number of threads this process has, where the OS can tell (CPython
  // 3.12 reads /proc/self/stat on Linux before it warns about forking a
  // multi-threaded process); nullopt where it cannot. The default, and the
  // "posix" backend's answer, is nullopt: POSIX has no call that counts a
  // process's threads.
  virtual std::optional<int> ThreadCount() const { return std::nullopt; }
};

// Backends compiled into this binary, by name.
std::vector<std::string> BackendNames();
// The backend called `name`; NotFound for an unknown name.
absl::StatusOr<Backend*> GetBackend(std::string_view name);
// The backend in use: the one selected last, else $PROCSPEC_BACKEND, else the
// best for this OS (the first of BackendNames(): "linux" on Linux). An unknown
// $PROCSPEC_BACKEND is reported once on stderr and ignored. Thread-safe.
Backend& CurrentBackend();
// Selects the backend `CurrentBackend()` returns from now on (tests force one
// per target).
absl::Status SelectBackend(std::string_view name);

// ---- Process identity and environment

Pid CurrentPid();

// Records the path of this program for Backend::Spawn, found as CPython finds
// sys.executable: `argv0` when it holds a '/' (a relative one taken against
// the current directory, now), else the first executable file of that name
// on $PATH. procspec::Init calls it with argv[0]; only the first call with a
// non-null `argv0` counts, so that a later change of directory changes
// nothing.
void RecordProgramPath(const char* argv0);
// What RecordProgramPath found; "" if nothing (or it was never called).
std::string ProgramPath();

namespace internal {
// Defined by the OS's runtime: on POSIX in posix/identity.cc, which registers
// (before main) the pthread_atfork child handler that increments it; an OS
// without fork() never changes it.
extern std::atomic<std::uint64_t> fork_generation;
}  // namespace internal
// A number that changes in a child after every fork() of this process,
// whoever calls it (this library's Fork or fork() by user code: a
// pthread_atfork child handler increments it), and nowhere else. Reading it is
// one atomic load, no system call: per-process state can remember the
// generation it belongs to and reset itself when it finds itself in a forked
// child, more cheaply than by comparing CurrentPid(). (posix_spawn's and
// vfork's children exec before they could read it.)
inline std::uint64_t ForkGeneration() {
  return internal::fork_generation.load(std::memory_order_relaxed);
}
// The number of CPUs the OS reports, at least 1.
int CpuCount();
// Replaces standard input with the null device (as CPython does in every
// child).
absl::Status RedirectStdinToNull();
// Ends the process at once with `code` (no atexit handlers, no static
// destructors).
[[noreturn]] void ExitImmediately(int code);
// Flushes stdout and stderr (C and C++ streams), so that nothing buffered is
// written twice after a fork.
void FlushStandardStreams();

// ---- Spawned children

// Whether this process was started by `Backend::Spawn`. The first call reads
// the marker and removes it from the environment (so that this process's own
// children do not see it); later calls return the same answer. Call it early,
// while the process has one thread (setenv/unsetenv are not thread-safe).
bool IsSpawnedChild();
// In a spawned child: reads the bootstrap pipe to its end, selects the
// parent's backend and takes over the inherited handles. Once only (later
// calls fail with FailedPrecondition). A malformed or truncated bootstrap fails
// with InvalidArgument or OutOfRange, never crashes.
absl::StatusOr<SpawnedContext> ReceiveSpawnPayload();

// ---- Descriptors

// A pipe from `PipeEnds` (defined above `Backend`), made by
// `CurrentBackend().MakePipe()`.
absl::StatusOr<PipeEnds> MakePipe();

// Writes all of `data`; retries EINTR and short writes. Writing to a pipe
// nobody reads raises SIGPIPE, whose default action ends the process; ignore
// SIGPIPE to get an error instead.
absl::Status WriteAll(NativeHandle handle, std::string_view data);
// Reads up to `max_bytes`; an empty string means end of file. Retries EINTR.
absl::StatusOr<std::string> ReadSome(NativeHandle handle,
                                     std::size_t max_bytes);
// Reads exactly `size` bytes, or fails with OutOfRange on a premature end of
// file. The buffer grows as bytes arrive (internal/growing_read.h): a `size`
// that the other end announced and never sends costs no memory.
absl::StatusOr<std::string> ReadExactly(NativeHandle handle, std::size_t size);

// Waits until one of `handles` is readable (or at end of file) or `deadline`
// passes. Returns the indices of the ready handles, ascending, empty on
// timeout. Event-driven; EINTR is retried with the remaining time. An invalid
// (closed) handle fails with InvalidArgument. With no handles it waits until
// `deadline`.
absl::StatusOr<std::vector<std::size_t>> WaitReadable(
    absl::Span<const NativeHandle> handles, absl::Time deadline);

}  // namespace procspec::platform

#endif  // PROCSPEC_PLATFORM_PLATFORM_H_
