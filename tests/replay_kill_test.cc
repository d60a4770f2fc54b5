// A `ledger replay` killed with SIGKILL midway leaves the old projections
// serving queries, and a second replay completes (issue: replay, audit).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "bench/workload.h"
#include "process_util.h"
#include "projection_test_util.h"

namespace ledger {
namespace {

using testing::RunProcess;
using testing::TempDir;

// The column families the ledger at `db` lists now. A MANIFEST read while a
// replay rewrites it may fail; that reads as an empty list, "not yet".
std::vector<std::string> FamiliesOf(const std::string& db) {
  std::vector<std::string> families;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db, &families).ok()) return {};
  return families;
}

bool Lists(const std::vector<std::string>& families, const std::string& name) {
  return std::find(families.begin(), families.end(), name) != families.end();
}

// Starts `ledger --db DIR replay` and kills it with SIGKILL as soon as the
// MANIFEST lists `family` (its build has begun), watching every millisecond
// rather than guessing a delay: a loaded CI machine can take longer to start
// a replay than any fixed delay allows. Says whether it died of the signal,
// rather than ending before it was seen.
bool KillReplayOnceItLists(const std::string& db, const std::string& family) {
  const pid_t child = fork();
  if (child == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    execl(LEDGER_BINARY, LEDGER_BINARY, "--db", db.c_str(), "replay", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (!Lists(FamiliesOf(db), family)) {
    if (waitpid(child, &status, WNOHANG) == child) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST(ReplayKillTest, AKilledReplayLeavesTheOldProjectionsAndASecondOneCompletes) {
  TempDir scratch;
  std::string db;
  {
    projection_test::TestBook book;
    db = book.path() + "-copy";
    bench::WorkloadOptions options;
    options.events = 150'000;
    options.accounts = 20;
    std::vector<std::string> lines;
    bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
    for (const AppendResult& result : book.Append(lines)) {
      ASSERT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
    }
    book.Close();
    std::filesystem::copy(book.path(), db);
  }
  const std::vector<std::string> invoice = {LEDGER_BINARY, "--db", db, "invoice", "--account",
                                            "acct-00007", "--period", "2026-01", "--format", "json"};
  const testing::ProcessResult before = RunProcess(invoice, scratch);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_NE(before.out.find("hourly_usage"), std::string::npos);

  // Kill the replay once the last family of generation 1 exists: its new
  // generation is being built while generation 0 still serves.
  ASSERT_TRUE(KillReplayOnceItLists(db, "proj_snapshots#1"))
      << "the replay ended before its new generation was seen";
  const std::vector<std::string> families = FamiliesOf(db);
  EXPECT_TRUE(Lists(families, "proj_invoices#1"));
  ASSERT_TRUE(Lists(families, "proj_invoices")) << "the replay was killed after its switch";

  // Queries answer from the old projections, exactly as before.
  const testing::ProcessResult after_kill = RunProcess(invoice, scratch);
  EXPECT_EQ(after_kill.exit_code, 0) << after_kill.err;
  EXPECT_EQ(after_kill.out, before.out);

  // A second replay completes, and everything verifies.
  const testing::ProcessResult replay =
      RunProcess({LEDGER_BINARY, "--db", db, "replay", "--format", "json"}, scratch);
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_NE(replay.out.find("\"installed\":true"), std::string::npos) << replay.out;
  const testing::ProcessResult verify = RunProcess({LEDGER_BINARY, "--db", db, "verify"}, scratch);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(RunProcess(invoice, scratch).out, before.out);
  std::error_code ec;
  std::filesystem::remove_all(db, ec);
}

}  // namespace
}  // namespace ledger
