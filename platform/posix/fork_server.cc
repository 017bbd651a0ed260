// The fork server of the posix backend (and of the backends derived from it):
// the server's loop, the requester's ForkServer and the ChildProcess of a
// child the server forked. POSIX.1-2008 only: socketpair, sendmsg/recvmsg with
// SCM_RIGHTS, poll, waitpid(pid).
//
// Wire format (native byte order: both ends are the same program on the same
// machine), over a SOCK_STREAM unix socketpair:
//   request: the header of internal/wire.h (a fork or a signal request); a
//            fork request's descriptors by SCM_RIGHTS in batches (the first
//            with the header, each further one with one byte of its own),
//            then its payload.
//   reply:   i64 child pid (0 if the fork failed, and for a signal request),
//            i64 absl status code, i64 errno (0 if none), u64 message size,
//            with SCM_RIGHTS {process handle} where the backend has one (a
//            pidfd); then the message.
//   status:  on the per-child status pipe, one i64: the exit code, or -N for a
//            death by signal N; then end of file.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "platform/internal/wire.h"
#include "platform/posix/internal/errors.h"
#include "platform/posix/internal/fork_registry.h"
#include "platform/posix/internal/posix_io.h"
#include "platform/posix/posix_backend.h"

namespace procspec::platform::posix {
namespace {

constexpr std::size_t kHandlesPerMessage =
    internal::kForkServerHandlesPerMessage;
constexpr std::uint64_t kMaxPayload = internal::kMaxForkServerPayload;
// CPython: a child whose status never arrived (the server died) reports 255.
constexpr int kUnknownStatusExitCode = 255;

struct ReplyHeader {
  std::int64_t pid;
  std::int64_t code;
  std::int64_t error_number;
  std::uint64_t message_size;
};

// A connected, close-on-exec unix socketpair. Requires ForkMutex() (the ends
// are inheritable until FD_CLOEXEC is set).
absl::StatusOr<std::pair<UniqueHandle, UniqueHandle>> MakeSocketPairLocked() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
    return internal::ErrnoError(errno, "socketpair");
  UniqueHandle first(fds[0]), second(fds[1]);
  if (absl::Status s = internal::SetCloseOnExec(fds[0]); !s.ok()) return s;
  if (absl::Status s = internal::SetCloseOnExec(fds[1]); !s.ok()) return s;
  return std::make_pair(std::move(first), std::move(second));
}

union ControlBuffer {
  cmsghdr align;
  char bytes[CMSG_SPACE(sizeof(int) * kHandlesPerMessage)];
};

// Sends all of `data`, with `handles` attached to its first byte. Never raises
// SIGPIPE (MSG_NOSIGNAL): a peer that has gone is an EPIPE error.
absl::Status SendWithHandles(NativeHandle socket, std::string_view data,
                             const std::vector<NativeHandle>& handles) {
  ControlBuffer control;
  std::memset(&control, 0, sizeof(control));
  bool first = true;
  while (!data.empty()) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (first && !handles.empty()) {
      message.msg_control = control.bytes;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * handles.size());
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * handles.size());
      int* fds = reinterpret_cast<int*>(CMSG_DATA(header));
      for (std::size_t i = 0; i < handles.size(); ++i)
        fds[i] = static_cast<int>(handles[i]);
    }
    const ssize_t sent =
        sendmsg(static_cast<int>(socket), &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return internal::ErrnoError(errno, "sendmsg");
    }
    first = false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return absl::OkStatus();
}

// One recvmsg into `buffer`: the bytes received (0 at end of file); the
// descriptors that came with them are appended to `handles`, close-on-exec.
// `*truncated` is set if some could not be received (the kernel drops what
// this process has no room for: EMFILE). Call it once the socket is readable,
// with ForkMutex() held, so that no fork of this library sees a received
// descriptor before it is close-on-exec.
absl::StatusOr<std::size_t> ReceiveOnceLocked(
    NativeHandle socket, char* buffer, std::size_t size,
    std::vector<UniqueHandle>* handles, bool* truncated) {
  ControlBuffer control;
  iovec iov{buffer, size};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.bytes;
  message.msg_controllen = sizeof(control.bytes);
  ssize_t got;
  do {
    got = recvmsg(static_cast<int>(socket), &message, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return internal::ErrnoError(errno, "recvmsg");
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
      continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* fds = reinterpret_cast<const int*>(CMSG_DATA(header));
    for (std::size_t i = 0; i < count; ++i) {
      (void)internal::SetCloseOnExec(fds[i]);
      handles->emplace_back(fds[i]);
    }
  }
  if (message.msg_flags & MSG_CTRUNC) *truncated = true;
  return static_cast<std::size_t>(got);
}

// Receives exactly `size` bytes (a header) and the descriptors sent with them
// (`*truncated` as ReceiveOnceLocked). nullopt at end of file before the first
// byte.
absl::StatusOr<std::optional<std::string>> ReceiveHeader(
    NativeHandle socket, std::size_t size, std::vector<UniqueHandle>* handles,
    bool* truncated) {
  std::string data(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const NativeHandle wait_on[] = {socket};
    absl::StatusOr<std::vector<std::size_t>> ready =
        WaitReadable(wait_on, absl::InfiniteFuture());
    if (!ready.ok()) return ready.status();
    absl::StatusOr<std::size_t> chunk;
    {
      std::lock_guard<std::mutex> lock(internal::ForkMutex());
      chunk = ReceiveOnceLocked(socket, data.data() + got, size - got, handles,
                                truncated);
    }
    if (!chunk.ok()) return chunk.status();
    if (*chunk == 0) {
      if (got == 0) return std::nullopt;
      return absl::OutOfRangeError("end of file in a fork server message");
    }
    got += *chunk;
  }
  return data;
}

template <typename T>
std::string Bytes(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

template <typename T>
T FromBytes(const std::string& bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(value));
  return value;
}

// The requester's end of the channel, shared by the ForkServer and every
// child it started (whose signals the server delivers where there is no
// process handle). One request at a time.
struct Channel {
  std::mutex mu;
  // Invalid once the ForkServer has closed it (the server then exits).
  internal::RegisteredHandle socket;
};

// A request: the header with the first batch of `handles`, one byte with
// each further batch, then `payload`.
absl::Status SendRequest(NativeHandle socket,
                         const internal::ForkServerRequest& request,
                         absl::Span<const NativeHandle> handles,
                         std::string_view payload) {
  const std::size_t first = std::min(handles.size(), kHandlesPerMessage);
  if (absl::Status s = SendWithHandles(
          socket, internal::EncodeForkServerRequest(request),
          std::vector<NativeHandle>(handles.begin(), handles.begin() + first));
      !s.ok()) {
    return s;
  }
  for (std::size_t at = first; at < handles.size(); at += kHandlesPerMessage) {
    const std::size_t end = std::min(handles.size(), at + kHandlesPerMessage);
    if (absl::Status s =
            SendWithHandles(socket, std::string(1, '\0'),
                            std::vector<NativeHandle>(handles.begin() + at,
                                                      handles.begin() + end));
        !s.ok()) {
      return s;
    }
  }
  if (payload.empty()) return absl::OkStatus();
  return SendWithHandles(socket, payload, {});
}

struct Reply {
  ReplyHeader header;
  std::string message;
  // The process handle, if one came.
  std::vector<UniqueHandle> handles;
};

// The server's reply; Unavailable if the server has gone.
absl::StatusOr<Reply> ReceiveReply(NativeHandle socket) {
  Reply reply;
  // A handle this process has no room for is dropped by the kernel: the child
  // is then signalled through the server instead.
  bool truncated = false;
  absl::StatusOr<std::optional<std::string>> header =
      ReceiveHeader(socket, sizeof(ReplyHeader), &reply.handles, &truncated);
  if (!header.ok() || !header->has_value())
    return absl::UnavailableError("the fork server has gone");
  reply.header = FromBytes<ReplyHeader>(**header);
  if (reply.header.message_size > 0) {
    absl::StatusOr<std::string> text =
        ReadExactly(socket, static_cast<std::size_t>(std::min<std::uint64_t>(
                                reply.header.message_size, kMaxPayload)));
    if (!text.ok()) return absl::UnavailableError("the fork server has gone");
    reply.message = *std::move(text);
  }
  return reply;
}

// The error a reply without a child stands for: an OS error (errno) as the
// fork start method reports it (CPython's os.fork: BlockingIOError "[Errno
// 11] Resource temporarily unavailable"), anything else with the server's
// message.
absl::Status ReplyError(const Reply& reply) {
  if (reply.header.error_number > 0 && reply.header.error_number < 4096)
    return internal::OsError(static_cast<int>(reply.header.error_number));
  const std::int64_t code = reply.header.code;
  return absl::Status(code > 0 && code <= 16
                          ? static_cast<absl::StatusCode>(code)
                          : absl::StatusCode::kUnknown,
                      absl::StrCat("fork server: ", reply.message));
}

// Has the server send `signal_number` to its child `pid`, unless it has
// reaped it. Nothing is sent once the server has gone: the child's status is
// then "unknown" (255) to this process, and its pid may name anyone.
absl::Status SignalThroughServer(Channel& channel, Pid pid, int signal_number) {
  std::lock_guard<std::mutex> lock(channel.mu);
  if (!channel.socket.valid()) return absl::OkStatus();
  internal::ForkServerRequest request;
  request.requester = CurrentPid();
  request.kind = internal::kForkServerSignal;
  request.target = pid;
  request.signal = signal_number;
  if (!SendRequest(channel.socket.get(), request, {}, {}).ok())
    return absl::OkStatus();
  absl::StatusOr<Reply> reply = ReceiveReply(channel.socket.get());
  if (!reply.ok()) return absl::OkStatus();
  if (reply->header.error_number != 0) {
    return internal::ErrnoError(static_cast<int>(reply->header.error_number),
                                "kill");
  }
  return absl::OkStatus();
}

// The errno of a status made by internal::OsError or ErrnoError ("[Errno N]
// ..."), or 0.
std::int64_t ErrorNumberOf(const absl::Status& status) {
  absl::string_view message = status.message();
  if (!absl::ConsumePrefix(&message, "[Errno ")) return 0;
  const std::size_t end = message.find(']');
  int number = 0;
  if (end == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, end), &number) || number <= 0) {
    return 0;
  }
  return number;
}

// A child forked by a fork server on this process's request. Its status comes
// through the status pipe, whose read end is the sentinel.
class RelayedChildProcess final : public ChildProcess {
 public:
  RelayedChildProcess(PosixBackend& backend, std::shared_ptr<Channel> channel,
                      Pid pid, internal::RegisteredHandle status,
                      internal::RegisteredHandle watch,
                      internal::RegisteredHandle process_handle)
      : backend_(backend),
        channel_(std::move(channel)),
        pid_(pid),
        creator_(CurrentPid()),
        status_pipe_(std::move(status)),
        watch_(std::move(watch)),
        process_handle_(std::move(process_handle)) {}

  Pid pid() const override { return pid_; }
  NativeHandle sentinel() const override { return status_pipe_.get(); }

  absl::StatusOr<std::optional<ExitStatus>> Wait(absl::Time deadline) override {
    if (absl::Status status = CheckCreator(); !status.ok()) return status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (status_.has_value()) return status_;
    }
    const NativeHandle handles[] = {status_pipe_.get()};
    absl::StatusOr<std::vector<std::size_t>> ready =
        WaitReadable(handles, deadline);
    if (!ready.ok()) return ready.status();
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.has_value() || ready->empty()) return status_;
    // Readable: the server wrote the whole status (one write, below
    // PIPE_BUF), or died: end of file. Neither blocks.
    std::string bytes;
    while (bytes.size() < sizeof(std::int64_t)) {
      absl::StatusOr<std::string> chunk =
          ReadSome(status_pipe_.get(), sizeof(std::int64_t) - bytes.size());
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) break;
      bytes += *chunk;
    }
    // Then end of file, which follows at once (the server closes its end right
    // after writing): so that the sentinel stays readable for ever, as a
    // sentinel of an ended process must, not only once the server got round
    // to closing it.
    while (bytes.size() == sizeof(std::int64_t)) {
      absl::StatusOr<std::string> rest = ReadSome(status_pipe_.get(), 64);
      if (!rest.ok() || rest->empty()) break;
    }
    if (bytes.size() == sizeof(std::int64_t)) {
      const std::int64_t code = FromBytes<std::int64_t>(bytes);
      status_ =
          code < 0
              ? ExitStatus{.signaled = true, .value = static_cast<int>(-code)}
              : ExitStatus{.signaled = false, .value = static_cast<int>(code)};
    } else {
      status_ = ExitStatus{.signaled = false, .value = kUnknownStatusExitCode};
    }
    // Nobody needs them any more; the pidfd must not outlive the status.
    watch_.Reset();
    process_handle_.Reset();
    return status_;
  }

  absl::Status SendSignal(Signal signal) override {
    if (absl::Status status = CheckCreator(); !status.ok()) return status;
    std::lock_guard<std::mutex> lock(mu_);
    // Once the status is known, the pid may name another process.
    if (status_.has_value()) return absl::OkStatus();
    const int number = SignalNumber(signal);
    if (process_handle_.valid()) {
      const int error =
          backend_.SignalProcessHandle(process_handle_.get(), number);
      if (error == 0 || error == ESRCH) return absl::OkStatus();
      return internal::ErrnoError(error, "pidfd_send_signal");
    }
    // No process handle (POSIX): between the server reaping the child and
    // this process reading its status, the pid could already name another
    // process (CPython's forkserver signals it then). Only the server knows
    // whether it has reaped the child: it delivers the signal.
    return SignalThroughServer(*channel_, pid_, number);
  }

 private:
  absl::Status CheckCreator() const {
    if (CurrentPid() == creator_) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("process ", pid_, " was started for process ", creator_,
                     ", not for this one"));
  }

  PosixBackend& backend_;
  const std::shared_ptr<Channel> channel_;
  const Pid pid_;
  const Pid creator_;
  const internal::RegisteredHandle status_pipe_;
  std::mutex mu_;
  std::optional<ExitStatus> status_;
  internal::RegisteredHandle watch_;
  internal::RegisteredHandle process_handle_;
};

class PosixForkServer final : public ForkServer {
 public:
  PosixForkServer(PosixBackend& backend, std::unique_ptr<ChildProcess> server,
                  internal::RegisteredHandle channel)
      : backend_(backend),
        creator_(CurrentPid()),
        server_(std::move(server)),
        channel_(std::make_shared<Channel>()) {
    channel_->socket = std::move(channel);
  }

  ~PosixForkServer() override {
    if (CurrentPid() != creator_) return;
    // End of file tells the server to exit; then it is reaped, not left a
    // zombie. The children it served keep the (closed) channel: their signals
    // go nowhere from now on.
    {
      std::lock_guard<std::mutex> lock(channel_->mu);
      channel_->socket.Reset();
    }
    (void)server_->Wait(absl::InfiniteFuture());
  }

  Pid pid() const override { return server_->pid(); }

  bool IsRunning() override {
    absl::StatusOr<std::optional<ExitStatus>> status =
        server_->Wait(absl::InfinitePast());
    return status.ok() && !status->has_value();
  }

  absl::StatusOr<std::unique_ptr<ChildProcess>> StartChild(
      std::string_view payload, absl::Span<const NativeHandle> passed,
      const ForkOptions& options) override {
    if (passed.size() > kMaxForkServerHandles) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a fork server request passes at most ", kMaxForkServerHandles,
          " descriptors, not ", passed.size()));
    }
    if (CurrentPid() != creator_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the fork server ", server_->pid(), " serves process ", creator_));
    }
    std::lock_guard<std::mutex> lock(channel_->mu);
    if (!channel_->socket.valid() || !IsRunning()) return Gone();
    internal::RegisteredHandle status_read, status_write, watch_read,
        watch_write;
    {
      // Registered at once, so that no child forked meanwhile holds an end.
      std::lock_guard<std::mutex> fork_lock(internal::ForkMutex());
      absl::StatusOr<PipeEnds> status = backend_.MakePipeForForkServerLocked();
      if (!status.ok()) return status.status();
      absl::StatusOr<PipeEnds> watch = backend_.MakePipeForForkServerLocked();
      if (!watch.ok()) return watch.status();
      status_read =
          internal::RegisteredHandle::AdoptLocked(std::move(status->read));
      status_write =
          internal::RegisteredHandle::AdoptLocked(std::move(status->write));
      watch_read =
          internal::RegisteredHandle::AdoptLocked(std::move(watch->read));
      watch_write =
          internal::RegisteredHandle::AdoptLocked(std::move(watch->write));
    }
    std::vector<NativeHandle> attached = {status_write.get(), watch_read.get()};
    attached.insert(attached.end(), passed.begin(), passed.end());
    internal::ForkServerRequest request;
    request.size = payload.size();
    request.requester = CurrentPid();
    request.flags =
        options.die_with_parent ? internal::kForkServerDieWithRequester : 0;
    request.handles = attached.size();
    absl::Status sent =
        SendRequest(channel_->socket.get(), request, attached, payload);
    // The server holds the status pipe's write end and the child the watch's
    // read end; copies here would hide the server's and the child's ends.
    status_write.Reset();
    watch_read.Reset();
    if (!sent.ok()) return Gone();

    absl::StatusOr<Reply> reply = ReceiveReply(channel_->socket.get());
    if (!reply.ok()) return Gone();
    if (reply->header.pid <= 0) return ReplyError(*reply);
    internal::RegisteredHandle process_handle;
    if (!reply->handles.empty()) {
      std::lock_guard<std::mutex> fork_lock(internal::ForkMutex());
      process_handle =
          internal::RegisteredHandle::AdoptLocked(std::move(reply->handles[0]));
    }
    return std::make_unique<RelayedChildProcess>(
        backend_, channel_, reply->header.pid, std::move(status_read),
        std::move(watch_write), std::move(process_handle));
  }

 private:
  // The server has ended, or is ending (it closed the channel): reap it.
  absl::Status Gone() {
    (void)server_->Wait(absl::InfiniteFuture());
    return absl::UnavailableError(
        absl::StrCat("the fork server ", server_->pid(), " has ended"));
  }

  PosixBackend& backend_;
  const Pid creator_;
  const std::unique_ptr<ChildProcess> server_;
  const std::shared_ptr<Channel> channel_;
};

// The server's record of a child it forked, until it is reaped.
struct Served {
  Pid pid = 0;
  // Kept for the descriptors the backend made for the child; the server reaps
  // the child by its pid, not through this object (whose sentinel a
  // grandchild may hold open long after the child has exited).
  std::unique_ptr<ChildProcess> child;
  internal::RegisteredHandle status;
};

[[noreturn]] void ServerFails(std::string_view why) {
  FlushStandardStreams();
  std::cerr << "procspec: fork server " << CurrentPid() << ": " << why
            << std::endl;
  ExitImmediately(1);
}

void Report(Served& served, const ExitStatus& status) {
  const std::int64_t code = status.exitcode();
  // The requester may have gone; nothing to do then.
  (void)WriteToChild(static_cast<int>(served.status.get()), Bytes(code));
  served.status.Reset();
}

// ---- The server's own signal handling. The server is this library's process,
// so it may own SIGCHLD: whatever the host did with it (SIG_IGN makes the
// kernel reap children at once; a waitpid(-1) handler reaps them behind the
// server's back), the server installs its own handler, which only writes a
// byte to a self-pipe, and reaps each of its children by pid. A served child
// gets the dispositions and mask the server started with back before it runs
// anything of the program's (as CPython's forkserver restores its handlers in
// each child).

// The self-pipe's write end and the server's pid (a served child inherits the
// handler until it restores the host's: it must not write to a descriptor
// number that means something else there).
int g_child_signal_pipe = -1;
pid_t g_server_pid = 0;

extern "C" void OnChildSignal(int) {
  const int saved_errno = errno;
  if (getpid() == g_server_pid) {
    const char byte = 0;
    // Non-blocking: a full pipe already says "a child changed state", so the
    // result is not needed (tested, as -D_FORTIFY_SOURCE wants it used).
    if (write(g_child_signal_pipe, &byte, 1) < 0) {
    }
  }
  errno = saved_errno;
}

struct HostSignals {
  struct sigaction child;
  struct sigaction interrupt;
  sigset_t mask;
};

// Installs the server's handlers; returns what the host had.
HostSignals TakeOverSignals() {
  HostSignals host;
  struct sigaction on_child {};
  on_child.sa_handler = OnChildSignal;
  sigemptyset(&on_child.sa_mask);
  on_child.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &on_child, &host.child);
  // As CPython's server: a Ctrl-C meant for the program does not end the
  // server.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGINT, &ignore, &host.interrupt);
  sigset_t child_only;
  sigemptyset(&child_only);
  sigaddset(&child_only, SIGCHLD);
  pthread_sigmask(SIG_UNBLOCK, &child_only, &host.mask);
  return host;
}

void RestoreHostSignals(const HostSignals& host) {
  sigaction(SIGCHLD, &host.child, nullptr);
  sigaction(SIGINT, &host.interrupt, nullptr);
  pthread_sigmask(SIG_SETMASK, &host.mask, nullptr);
}

absl::Status SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return internal::ErrnoError(errno, "fcntl(O_NONBLOCK)");
  return absl::OkStatus();
}

// Reads whatever the handler wrote: the pipe is only a wake-up.
void DrainChildSignals(NativeHandle read_end) {
  char bytes[64];
  while (read(static_cast<int>(read_end), bytes, sizeof(bytes)) > 0) {
  }
}

// Reaps every child of `children` that has ended (waitpid by pid, WNOHANG:
// never another's child), reports its status and forgets it.
void ReapEnded(std::vector<Served>& children) {
  for (auto it = children.begin(); it != children.end();) {
    int wait_status = 0;
    pid_t result;
    do {
      result = waitpid(static_cast<pid_t>(it->pid), &wait_status, WNOHANG);
    } while (result < 0 && errno == EINTR);
    if (result == 0) {
      ++it;
      continue;
    }
    // Reaped: report it. Not reapable by us (an error): end of file says
    // "unknown", 255.
    if (result > 0) Report(*it, internal::DecodeWaitStatus(wait_status));
    it = children.erase(it);
  }
}

// A signal request: sends it to the child `request.target` unless that child
// has ended (reaped first, so that a child that has just exited gets nothing)
// or is not one this server has unreaped. 0, or the errno of kill().
std::int64_t SignalServed(std::vector<Served>& children,
                          const internal::ForkServerRequest& request) {
  ReapEnded(children);
  const auto it = std::find_if(
      children.begin(), children.end(),
      [&](const Served& served) { return served.pid == request.target; });
  if (it == children.end()) return 0;
  // Unreaped, so the pid still names the child (at worst a zombie).
  if (kill(static_cast<pid_t>(request.target),
           static_cast<int>(request.signal)) == 0 ||
      errno == ESRCH) {
    return 0;
  }
  return errno;
}

// The soft limit on descriptors, raised to the hard one: the server receives
// a request's descriptors whatever limit the program had when it started the
// server. Returns the new soft limit (at most `kScanLimit`).
constexpr rlim_t kScanLimit = rlim_t{1} << 20;
rlim_t RaiseDescriptorLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  const rlim_t highest = std::max(before, limit.rlim_cur);
  return highest == RLIM_INFINITY || highest > kScanLimit ? kScanLimit
                                                          : highest;
}

// Closes every descriptor below `limit` but `keep`: a forked server starts
// with every descriptor the program had open without close-on-exec, which
// would reach every child it forks. POSIX has no closefrom(): poll() says which
// descriptors are open (POLLNVAL for the others), many at a time.
void CloseDescriptorsExcept(const std::vector<NativeHandle>& keep,
                            rlim_t limit) {
  const std::size_t batch =
      static_cast<std::size_t>(std::min<rlim_t>(limit, 1024));
  std::vector<pollfd> fds(batch);
  for (rlim_t first = 0; first < limit; first += batch) {
    const std::size_t count =
        static_cast<std::size_t>(std::min<rlim_t>(batch, limit - first));
    for (std::size_t i = 0; i < count; ++i)
      fds[i] = pollfd{static_cast<int>(first + i), 0, 0};
    int ready;
    do {
      ready = poll(fds.data(), count, 0);
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return;
    for (std::size_t i = 0; i < count; ++i) {
      const int fd = fds[i].fd;
      if (fd <= 2 || (fds[i].revents & POLLNVAL) != 0) continue;
      if (std::find(keep.begin(), keep.end(), fd) != keep.end()) continue;
      close(fd);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ForkServer>> PosixBackend::ForkForkServer(
    ServedChildMain child_main) {
  internal::RegisteredHandle client;
  UniqueHandle server_end;
  {
    std::lock_guard<std::mutex> lock(internal::ForkMutex());
    absl::StatusOr<std::pair<UniqueHandle, UniqueHandle>> sockets =
        MakeSocketPairLocked();
    if (!sockets.ok()) return sockets.status();
    // Registered: closed in the server, and in every other child.
    client = internal::RegisteredHandle::AdoptLocked(std::move(sockets->first));
    // Not registered, so that the server keeps it; the caller has no other
    // thread that could fork meanwhile.
    server_end = std::move(sockets->second);
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> server =
      Fork(ForkOptions(), [&](ChildContext&) -> int {
        ServeForks(std::move(server_end), child_main);
      });
  server_end.reset();
  if (!server.ok()) return server.status();
  return std::make_unique<PosixForkServer>(*this, *std::move(server),
                                           std::move(client));
}

absl::StatusOr<std::unique_ptr<ForkServer>> PosixBackend::SpawnForkServer(
    std::string payload, std::vector<std::string> argv) {
  internal::RegisteredHandle client, server_end;
  {
    std::lock_guard<std::mutex> lock(internal::ForkMutex());
    absl::StatusOr<std::pair<UniqueHandle, UniqueHandle>> sockets =
        MakeSocketPairLocked();
    if (!sockets.ok()) return sockets.status();
    // Both registered: no child forked by another thread holds either; the
    // spawn passes the server's end on explicitly.
    client = internal::RegisteredHandle::AdoptLocked(std::move(sockets->first));
    server_end =
        internal::RegisteredHandle::AdoptLocked(std::move(sockets->second));
  }
  SpawnOptions options;
  options.payload = std::move(payload);
  options.argv = std::move(argv);
  options.handles = {server_end.get()};
  absl::StatusOr<std::unique_ptr<ChildProcess>> server = Spawn(options);
  server_end.Reset();
  if (!server.ok()) return server.status();
  return std::make_unique<PosixForkServer>(*this, *std::move(server),
                                           std::move(client));
}

void PosixBackend::ServeForks(UniqueHandle channel_end,
                              ServedChildMain child_main) {
  const HostSignals host = TakeOverSignals();
  const rlim_t descriptor_limit = RaiseDescriptorLimit();
  internal::RegisteredHandle channel, signal_read, signal_write;
  {
    std::lock_guard<std::mutex> lock(internal::ForkMutex());
    // Registered, so that no served child holds them.
    channel = internal::RegisteredHandle::AdoptLocked(std::move(channel_end));
    absl::StatusOr<PipeEnds> signals = MakePipeLocked();
    if (!signals.ok()) ServerFails(signals.status().ToString());
    signal_read =
        internal::RegisteredHandle::AdoptLocked(std::move(signals->read));
    signal_write =
        internal::RegisteredHandle::AdoptLocked(std::move(signals->write));
    // Only this process's own descriptors (the registered ones: the
    // channel, the self-pipe, its sentinel and parent watch) stay open.
    CloseDescriptorsExcept(internal::RegisteredLocked(), descriptor_limit);
  }
  for (NativeHandle end : {signal_read.get(), signal_write.get()}) {
    if (absl::Status s = SetNonBlocking(static_cast<int>(end)); !s.ok())
      ServerFails(s.ToString());
  }
  g_child_signal_pipe = static_cast<int>(signal_write.get());
  g_server_pid = getpid();
  std::vector<Served> children;
  while (true) {
    const NativeHandle handles[] = {channel.get(), signal_read.get()};
    absl::StatusOr<std::vector<std::size_t>> ready =
        WaitReadable(handles, absl::InfiniteFuture());
    if (!ready.ok()) ServerFails(ready.status().ToString());
    // Children first: drained before the reaping, so that a child ending
    // meanwhile leaves a byte for the next round.
    DrainChildSignals(signal_read.get());
    ReapEnded(children);
    if ((*ready)[0] != 0) continue;

    std::vector<UniqueHandle> fds;
    bool truncated = false;
    absl::StatusOr<std::optional<std::string>> request = ReceiveHeader(
        channel.get(), internal::EncodeForkServerRequest({}).size(), &fds,
        &truncated);
    if (!request.ok()) ServerFails(request.status().ToString());
    // The requester closed its end or exited: CPython's server exits too. Its
    // children keep running, orphaned.
    if (!request->has_value()) ExitImmediately(0);
    // A malformed header leaves no way to find the next request: the stream
    // is lost.
    absl::StatusOr<internal::ForkServerRequest> header =
        internal::DecodeForkServerRequest(**request);
    if (!header.ok()) ServerFails(std::string(header.status().message()));
    if (header->kind == internal::kForkServerSignal) {
      ReplyHeader reply{0, 0, 0, 0};
      reply.error_number = SignalServed(children, *header);
      (void)SendWithHandles(channel.get(), Bytes(reply), {});
      continue;
    }
    for (std::size_t batch = 0;
         batch < internal::ForkServerHandleBatches(header->handles); ++batch) {
      absl::StatusOr<std::optional<std::string>> marker =
          ReceiveHeader(channel.get(), 1, &fds, &truncated);
      if (!marker.ok()) ServerFails(marker.status().ToString());
      if (!marker->has_value()) ExitImmediately(0);
    }
    absl::StatusOr<std::string> payload =
        ReadExactly(channel.get(), static_cast<std::size_t>(header->size));
    if (!payload.ok()) ServerFails(payload.status().ToString());
    // One request that cannot be served is answered with its error; the
    // server goes on with the next. Descriptors the kernel could not give
    // this process (its limit, even raised to the hard one, is reached) are
    // EMFILE, as a failed open or dup would be.
    if (truncated || fds.size() != header->handles) {
      const absl::Status failed =
          truncated ? internal::OsError(EMFILE)
                    : absl::InvalidArgumentError(absl::StrCat(
                          "malformed request: ", fds.size(), " of ",
                          header->handles, " descriptors came"));
      ReplyHeader reply{0, static_cast<std::int64_t>(failed.code()),
                        ErrorNumberOf(failed), failed.message().size()};
      if (SendWithHandles(channel.get(), Bytes(reply), {}).ok())
        (void)SendWithHandles(channel.get(), std::string(failed.message()), {});
      continue;
    }
    // The descriptors for the child: moved into it after the fork, closed
    // here at the end of this round (before the next fork), so that no other
    // child of the server holds them.
    std::vector<UniqueHandle> passed;
    for (std::size_t i = 2; i < fds.size(); ++i)
      passed.push_back(std::move(fds[i]));

    Served served;
    {
      // Registered: no child of this server holds another's status pipe (nor
      // its own: end of file must mean the server has gone).
      std::lock_guard<std::mutex> lock(internal::ForkMutex());
      served.status =
          internal::RegisteredHandle::AdoptLocked(std::move(fds[0]));
    }
    ForkOptions options;
    options.die_with_parent =
        (header->flags & internal::kForkServerDieWithRequester) != 0;
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ForkForRequester(header->requester, std::move(fds[1]), options,
                         [&](ChildContext& context) {
                           RestoreHostSignals(host);
                           context.handles = std::move(passed);
                           return child_main(*payload, context);
                         });
    ReplyHeader reply{0, 0, 0, 0};
    std::string message;
    UniqueHandle process_handle;
    if (child.ok()) {
      reply.pid = (*child)->pid();
      // Before the child can be reaped (only this loop reaps it), so the
      // handle names it.
      process_handle = OpenProcessHandle(reply.pid);
    } else {
      reply.code = static_cast<std::int64_t>(child.status().code());
      // fork() failing (EAGAIN under RLIMIT_NPROC): the requester reports it
      // as the fork start method does.
      reply.error_number = ErrorNumberOf(child.status());
      message = std::string(child.status().message());
      reply.message_size = message.size();
    }
    std::vector<NativeHandle> reply_handles;
    if (process_handle.valid()) reply_handles.push_back(process_handle.get());
    // A requester that has gone is noticed as end of file on the next round.
    if (SendWithHandles(channel.get(), Bytes(reply), reply_handles).ok() &&
        !message.empty()) {
      (void)SendWithHandles(channel.get(), message, {});
    }
    if (child.ok()) {
      served.pid = reply.pid;
      served.child = *std::move(child);
      children.push_back(std::move(served));
    }
  }
}

}  // namespace procspec::platform::posix
