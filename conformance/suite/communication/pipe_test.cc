// Pipe and Connection across processes, under fork, spawn and
// forkserver: the Connections are Process arguments.
//
// The seed names Pipe among multiprocessing's components:
// 提供了Process、Queue、Pipe、Lock等组件。
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/clause.h"
#include "conformance/harness/timeout.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "platform/platform.h"
#include "process/connection.h"
#include "process/errors.h"
#include "process/frame.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::communication {
namespace {

using ::conformance::module_testing::Reaper;
using ::conformance::testing::JoinAndGetExitcode;
using ::procspec::Connection;

// Receives a vector of ints, replies with their sum and the text "sum"; exit
// 10 + step on a failure.
void PipeSumServer(Connection conn) {
  absl::StatusOr<std::vector<int>> numbers = conn.recv<std::vector<int>>();
  if (!numbers.ok()) procspec::Exit(10);
  std::int64_t sum = 0;
  for (int n : *numbers) sum += n;
  if (!conn.send(std::pair<std::string, std::int64_t>{"sum", sum}).ok())
    procspec::Exit(11);
}
PROCSPEC_TARGET(PipeSumServer);

CONFORMANCE_TEST(Pipe, DuplexCarriesValuesBothWays,
                 "communication.pipe.send_recv") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe());
  auto& [mine, theirs] = ends;
  EXPECT_TRUE(mine.readable());
  EXPECT_TRUE(mine.writable());
  procspec::Process p(PipeSumServer, std::tuple{theirs});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  ASSERT_OK(mine.send(std::vector<int>{1, 2, 3, 400}));
  ASSERT_OK_AND_ASSIGN(auto reply,
                       (mine.recv<std::pair<std::string, std::int64_t>>()));
  EXPECT_EQ(reply.first, "sum");
  EXPECT_EQ(reply.second, 406);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Sends `count` strings "m<i>" of growing length through a write-only end;
// exit 10 on a failure, 12 if the end is not write-only.
void PipeSendMany(Connection writer, int count) {
  if (writer.readable() || !writer.writable()) procspec::Exit(12);
  for (int i = 0; i < count; ++i) {
    if (!writer
             .send(std::string("m") + std::to_string(i) +
                   std::string(i % 97, 'x'))
             .ok())
      procspec::Exit(10);
  }
}
PROCSPEC_TARGET(PipeSendMany);

// A burst of messages arrives whole and in order (the reader's read-ahead
// holds several at once), then end of file: EOFError once the writer has gone.
CONFORMANCE_TEST(Pipe, OneWayCarriesABurstInOrderThenEOF,
                 "communication.pipe.send_recv", "communication.pipe.one_way",
                 "communication.pipe.eof") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  EXPECT_TRUE(reader.readable());
  EXPECT_FALSE(reader.writable());
  EXPECT_FALSE(writer.readable());
  EXPECT_TRUE(writer.writable());
  constexpr int kCount = 2000;
  procspec::Process p(PipeSendMany, std::tuple{writer, kCount});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer.close();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string message, reader.recv<std::string>());
    ASSERT_EQ(message,
              std::string("m") + std::to_string(i) + std::string(i % 97, 'x'));
  }
  EXPECT_PYTHON_ERROR(reader.recv<std::string>(), "EOFError", "");
  // End of file is "something to read" for poll, as in CPython.
  ASSERT_OK_AND_ASSIGN(bool ready, reader.poll());
  EXPECT_TRUE(ready);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Tries the wrong direction on both ends in the child: exit 0 if both fail
// with CPython's errors, else 10 + which check failed.
void PipeWrongDirection(Connection reader, Connection writer) {
  absl::Status sent = reader.send(1);
  if (procspec::PythonExceptionType(sent) != "OSError" ||
      sent.message() != "connection is read-only")
    procspec::Exit(10);
  absl::Status received = writer.recv<int>().status();
  if (procspec::PythonExceptionType(received) != "OSError" ||
      received.message() != "connection is write-only")
    procspec::Exit(11);
  // The ends still work in their own direction.
  if (!writer.send(7).ok()) procspec::Exit(12);
}
PROCSPEC_TARGET(PipeWrongDirection);

CONFORMANCE_TEST(Pipe, OneWayEndsRefuseTheOtherDirection,
                 "communication.pipe.one_way") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  EXPECT_PYTHON_ERROR(reader.send(1), "OSError", "connection is read-only");
  EXPECT_PYTHON_ERROR(reader.send_bytes("x"), "OSError",
                      "connection is read-only");
  EXPECT_PYTHON_ERROR(writer.recv<int>(), "OSError",
                      "connection is write-only");
  EXPECT_PYTHON_ERROR(writer.recv_bytes(), "OSError",
                      "connection is write-only");
  EXPECT_PYTHON_ERROR(writer.poll(), "OSError", "connection is write-only");
  ASSERT_OK_AND_ASSIGN(auto second, procspec::Pipe(false));
  auto& [reader2, writer2] = second;
  procspec::Process p(PipeWrongDirection, std::tuple{reader2, writer2});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer2.close();
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0) << "10: send on a reader; 11: recv on a writer; 12: send";
  EXPECT_EQ(reader2.recv<int>().value_or(-1), 7);
}

// Exits at once: its end closes with it.
void PipeDropEnd(Connection conn) { (void)conn; }
PROCSPEC_TARGET(PipeDropEnd);

// The peer has gone: recv is EOFError, send is BrokenPipeError (not the end
// of the process: SIGPIPE is ignored, as CPython ignores it).
CONFORMANCE_TEST(Pipe, PeerGoneIsEOFAndBrokenPipe, "communication.pipe.eof") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe());
  auto& [mine, theirs] = ends;
  procspec::Process p(PipeDropEnd, std::tuple{theirs});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
  EXPECT_PYTHON_ERROR(mine.recv<int>(), "EOFError", "");
  EXPECT_PYTHON_ERROR(mine.recv_bytes(), "EOFError", "");
  EXPECT_PYTHON_ERROR(mine.send(1), "BrokenPipeError",
                      "[Errno 32] Broken pipe");
  EXPECT_FALSE(mine.closed());
}

// Closes its end, then checks that every operation reports it: exit 0, else
// 10 + the failed check.
void PipeUseClosed(Connection conn) {
  conn.close();
  conn.close();  // A second close does nothing.
  if (!conn.closed()) procspec::Exit(10);
  auto is_closed = [](const absl::Status& status) {
    return procspec::PythonExceptionType(status) == "OSError" &&
           status.message() == "handle is closed";
  };
  if (!is_closed(conn.send(1))) procspec::Exit(11);
  if (!is_closed(conn.recv<int>().status())) procspec::Exit(12);
  if (!is_closed(conn.poll().status())) procspec::Exit(13);
  if (!is_closed(conn.fileno().status())) procspec::Exit(14);
  if (!is_closed(conn.send_bytes("x"))) procspec::Exit(15);
  if (!is_closed(conn.recv_bytes().status())) procspec::Exit(16);
}
PROCSPEC_TARGET(PipeUseClosed);

CONFORMANCE_TEST(Pipe, ClosedConnectionReportsHandleIsClosed,
                 "communication.pipe.close") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe());
  auto& [mine, theirs] = ends;
  ASSERT_OK(mine.fileno());
  procspec::Process p(PipeUseClosed, std::tuple{theirs});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0) << "10: closed; 11: send; 12: recv; 13: poll; "
                        "14: fileno; 15: send_bytes; 16: recv_bytes";
  // The child's close() closed its end: this end sees end of file.
  EXPECT_PYTHON_ERROR(mine.recv<int>(), "EOFError", "");
  Connection copy = mine;
  mine.close();
  EXPECT_TRUE(copy.closed()) << "copies share one end";
  EXPECT_PYTHON_ERROR(copy.send(1), "OSError", "handle is closed");
  EXPECT_TRUE(Connection().closed());
}

// Sends slices of "0123456789" with send_bytes: exit 10 + step on a failure.
void PipeSendSlices(Connection conn) {
  const std::string digits = "0123456789";
  if (!conn.send_bytes(digits).ok()) procspec::Exit(10);
  if (!conn.send_bytes(digits, 3).ok()) procspec::Exit(11);
  if (!conn.send_bytes(digits, 2, 5).ok()) procspec::Exit(12);
  if (!conn.send_bytes(digits, 10, 0).ok()) procspec::Exit(13);
  if (!conn.send_bytes(std::string(300000, 'z')).ok()) procspec::Exit(14);
  if (!conn.send_bytes("too long for 3").ok()) procspec::Exit(15);
}
PROCSPEC_TARGET(PipeSendSlices);

CONFORMANCE_TEST(Pipe, SendBytesAndRecvBytesWithOffsetSizeAndMaxlength,
                 "communication.pipe.bytes") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe());
  auto& [mine, theirs] = ends;
  EXPECT_PYTHON_ERROR(mine.send_bytes("abc", -1), "ValueError",
                      "offset is negative");
  EXPECT_PYTHON_ERROR(mine.send_bytes("abc", 4), "ValueError",
                      "buffer length < offset");
  EXPECT_PYTHON_ERROR(mine.send_bytes("abc", 1, -1), "ValueError",
                      "size is negative");
  EXPECT_PYTHON_ERROR(mine.send_bytes("abc", 1, 3), "ValueError",
                      "buffer length < offset + size");
  EXPECT_PYTHON_ERROR(mine.recv_bytes(-1), "ValueError", "negative maxlength");
  procspec::Process p(PipeSendSlices, std::tuple{theirs});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  EXPECT_EQ(mine.recv_bytes().value_or("?"), "0123456789");
  EXPECT_EQ(mine.recv_bytes(7).value_or("?"), "3456789");  // Exactly maxlength.
  EXPECT_EQ(mine.recv_bytes().value_or("?"), "23456");
  EXPECT_EQ(mine.recv_bytes().value_or("?"), "");
  EXPECT_EQ(mine.recv_bytes().value_or("?"), std::string(300000, 'z'));
  // Longer than maxlength: OSError, and this duplex end stops receiving but
  // stays open (CPython's _bad_message_length; see too_long_message_test.cc).
  EXPECT_PYTHON_ERROR(mine.recv_bytes(3), "OSError", "bad message length");
  EXPECT_FALSE(mine.closed());
  EXPECT_FALSE(mine.readable());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Waits for an int, replies with it + 1: exit 10 on a failure.
void PipeEchoPlusOne(Connection conn) {
  absl::StatusOr<int> n = conn.recv<int>();
  if (!n.ok() || !conn.send(*n + 1).ok()) procspec::Exit(10);
}
PROCSPEC_TARGET(PipeEchoPlusOne);

// poll(timeout) waits at most the timeout for a message and returns false
// when none came; poll(None) waits until one comes; poll() does not block.
CONFORMANCE_TEST(Pipe, PollWaitsForAMessageAtMostTheTimeout,
                 "communication.pipe.poll") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe());
  auto& [mine, theirs] = ends;
  procspec::Process p(PipeEchoPlusOne, std::tuple{theirs});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  // The child sends nothing before it hears from us.
  ASSERT_OK_AND_ASSIGN(bool ready, mine.poll());
  EXPECT_FALSE(ready);
  ASSERT_OK_AND_ASSIGN(ready, mine.poll(-1.0));
  EXPECT_FALSE(ready);
  const absl::Duration timeout = absl::Milliseconds(100);
  const absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(ready, mine.poll(absl::ToDoubleSeconds(timeout)));
  EXPECT_FALSE(ready);
  EXPECT_GE(absl::Now() - before, timeout);
  ASSERT_OK(mine.send(41));
  ASSERT_OK_AND_ASSIGN(ready, mine.poll(std::nullopt));
  EXPECT_TRUE(ready);
  ASSERT_OK_AND_ASSIGN(ready, mine.poll());  // Still there until received.
  EXPECT_TRUE(ready);
  EXPECT_EQ(mine.recv<int>().value_or(-1), 42);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Sends a string, raw bytes, then an int: exit 10 on a failure.
void PipeSendMixed(Connection conn) {
  if (!conn.send(std::string("text")).ok() ||
      !conn.send_bytes("raw bytes").ok() || !conn.send(5).ok())
    procspec::Exit(10);
}
PROCSPEC_TARGET(PipeSendMixed);

// A recv<T> of a message that is not a T is a clear error (the message is
// consumed), never a misread value; the next message is received normally.
CONFORMANCE_TEST(Pipe, RecvOfAnotherTypeIsAnUnpicklingError,
                 "communication.pipe.type_checked") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  procspec::Process p(PipeSendMixed, std::tuple{writer});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer.close();
  absl::Status wrong = reader.recv<int>().status();
  EXPECT_EQ(procspec::PythonExceptionType(wrong), "UnpicklingError") << wrong;
  wrong = reader.recv<std::string>().status();
  EXPECT_EQ(procspec::PythonExceptionType(wrong), "UnpicklingError") << wrong;
  EXPECT_EQ(reader.recv<int>().value_or(-1), 5);
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Sends one message of `size` bytes, which the pipe cannot hold: blocks in
// the write until the parent reads or kills it. Exit 10 if the send fails.
void PipeSendHuge(Connection writer, std::int64_t size) {
  if (!writer.send_bytes(std::string(static_cast<std::size_t>(size), 'h')).ok())
    procspec::Exit(10);
}
PROCSPEC_TARGET(PipeSendHuge);

// A writer killed in the middle of a message: the reader gets OSError "got end
// of file during message", never the half message as a whole one; then
// EOFError.
CONFORMANCE_TEST(Pipe, WriterKilledMidMessageIsAnErrorNotAHalfMessage,
                 "communication.pipe.truncated") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  procspec::Process p(PipeSendHuge,
                      std::tuple{writer, std::int64_t{8 * 1024 * 1024}});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer.close();
  // Readable: the child has begun the message; it is blocked in the write
  // (the pipe holds far less than 8 MiB) until it is killed.
  ASSERT_OK_AND_ASSIGN(bool ready, reader.poll(std::nullopt));
  ASSERT_TRUE(ready);
  ASSERT_OK(p.kill());
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  // -SIGKILL; on Windows kill() is TerminateProcess, which CPython reports
  // as -SIGTERM.
  EXPECT_EQ(code, -procspec::platform::SignalNumber(
                      procspec::platform::Signal::kKill));
  EXPECT_PYTHON_ERROR(reader.recv_bytes(), "OSError",
                      "got end of file during message");
  EXPECT_PYTHON_ERROR(reader.recv_bytes(), "EOFError", "");
}

// Sends "0123456789" and "3456789" with send_bytes: exit 10 on a failure.
void PipeSendTwo(Connection conn) {
  if (!conn.send_bytes("0123456789").ok() || !conn.send_bytes("3456789").ok())
    procspec::Exit(10);
}
PROCSPEC_TARGET(PipeSendTwo);

// Frames are CPython's: a 4-byte big-endian length, then the body.
CONFORMANCE_TEST(Pipe, FramesAreCPythonsLengthPrefix,
                 "communication.pipe.framing") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  procspec::Process p(PipeSendTwo, std::tuple{writer});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer.close();
  // Read the raw stream: the first message, "0123456789", as CPython frames
  // it (struct.pack("!i", 10) + body).
  ASSERT_OK_AND_ASSIGN(procspec::platform::NativeHandle fd, reader.fileno());
  ASSERT_OK_AND_ASSIGN(std::string raw,
                       procspec::platform::ReadExactly(fd, 14));
  EXPECT_EQ(raw, std::string("\0\0\0\x0a", 4) + "0123456789");
  std::string encoded;
  procspec::frame::AppendFrame(encoded, "0123456789");
  EXPECT_EQ(encoded, raw);
  // The rest of the stream still decodes.
  EXPECT_EQ(reader.recv_bytes().value_or("?"), "3456789");
  ASSERT_OK_AND_ASSIGN(int code, JoinAndGetExitcode(p));
  EXPECT_EQ(code, 0);
}

// Bytes on a pipe are not trusted: a value message forged by hand (written raw
// to the pipe, framed as send() frames it) whose std::string claims 2^62
// bytes is an UnpicklingError naming the bad length, never an attempt to
// allocate them (cereal's plain archive resizes the string first); the
// receiver survives and the next message is received normally.
CONFORMANCE_TEST(Pipe, ForgedLengthIsAnUnpicklingErrorNotAnAllocation,
                 "communication.pipe.type_checked") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(false));
  auto& [reader, writer] = ends;
  std::string body;
  procspec::connection_internal::AppendValuePrefix(
      body, procspec::connection_internal::TagOf<std::string>());
  body += std::string("\0\0\0\0\0\0\0\x40", 8);  // 2^62, little-endian
  body += "abc";
  std::string frame;
  procspec::frame::AppendFrame(frame, body);
  ASSERT_OK_AND_ASSIGN(procspec::platform::NativeHandle fd, writer.fileno());
  ASSERT_OK(procspec::platform::WriteAll(fd, frame));
  ASSERT_OK(writer.send(std::string("next")));
  const absl::Status forged = reader.recv<std::string>().status();
  EXPECT_EQ(procspec::PythonExceptionType(forged), "UnpicklingError") << forged;
  EXPECT_TRUE(absl::StrContains(forged.message(), "a length of")) << forged;
  EXPECT_EQ(reader.recv<std::string>().value_or("?"), "next");
}

}  // namespace
}  // namespace conformance::communication
