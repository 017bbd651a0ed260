// recv_bytes(maxlength) given a longer message (CPython's
// Connection._bad_message_length): a duplex end stays open for sending and
// stops receiving; a read-only end is closed. Under every start method: the
// message comes from a child.
#include <optional>
#include <string>
#include <tuple>

#include "conformance/harness/clause.h"
#include "conformance/suite/common/child_testing.h"
#include "conformance/suite/common/module_testing.h"
#include "conformance/suite/common/process_testing.h"
#include "gtest/gtest.h"
#include "process/connection.h"
#include "process/errors.h"
#include "process/process.h"
#include "process/spawn.h"
#include "process/system_exit.h"

namespace conformance::communication {
namespace {

using ::conformance::module_testing::Reaper;
using ::conformance::testing::JoinSoon;
using ::procspec::Connection;

// Sends a 10-byte message, then echoes one message back: exit 10 if nothing
// came, 11 if the echo failed.
void SendLongThenEcho(Connection conn) {
  (void)conn.send_bytes("0123456789");
  absl::StatusOr<std::string> got = conn.recv_bytes();
  if (!got.ok()) procspec::Exit(10);
  if (!conn.send_bytes("echo:" + *got).ok()) procspec::Exit(11);
}
PROCSPEC_TARGET(SendLongThenEcho);

void SendLong(Connection conn) { (void)conn.send_bytes("0123456789"); }
PROCSPEC_TARGET(SendLong);

// The duplex end refuses the message and stays open: it can still send (the
// peer receives it), and receiving fails as on a write-only end.
CONFORMANCE_TEST(TooLongMessage, DuplexEndStaysOpenForSending,
                 "communication.pipe.too_long_duplex",
                 "communication.pipe.bytes") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe());
  auto& [mine, theirs] = ends;
  procspec::Process p(SendLongThenEcho, std::tuple{theirs});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  theirs.close();
  EXPECT_PYTHON_ERROR(mine.recv_bytes(4), "OSError", "bad message length");
  EXPECT_FALSE(mine.closed());
  EXPECT_FALSE(mine.readable());
  EXPECT_TRUE(mine.writable());
  EXPECT_OK(mine.send_bytes("hi"));
  EXPECT_PYTHON_ERROR(mine.recv_bytes(), "OSError", "connection is write-only");
  EXPECT_PYTHON_ERROR(mine.poll(), "OSError", "connection is write-only");
  ASSERT_OK_AND_ASSIGN(int code, JoinSoon(p));
  EXPECT_EQ(code, 0) << "the child did not receive the reply (10) or could not "
                        "echo it (11)";
  mine.close();
  EXPECT_TRUE(mine.closed());
}

// A read-only end is closed, as before.
CONFORMANCE_TEST(TooLongMessage, ReadOnlyEndIsClosed,
                 "communication.pipe.too_long_duplex",
                 "communication.pipe.bytes") {
  ASSERT_OK_AND_ASSIGN(auto ends, procspec::Pipe(/*duplex=*/false));
  auto& [reader, writer] = ends;
  procspec::Process p(SendLong, std::tuple{writer});
  Reaper reaper(p);
  ASSERT_OK(p.start());
  writer.close();
  EXPECT_PYTHON_ERROR(reader.recv_bytes(4), "OSError", "bad message length");
  EXPECT_TRUE(reader.closed());
  EXPECT_PYTHON_ERROR(reader.recv_bytes(), "OSError", "handle is closed");
  ASSERT_OK_AND_ASSIGN(int code, JoinSoon(p));
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace conformance::communication
