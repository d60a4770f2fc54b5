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

// Starts `ledger --db DIR replay`, kills it after `delay`, and says whether it
// died of the signal (rather than finishing first).
bool StartAndKillReplay(const std::string& db, std::chrono::milliseconds delay) {
  const pid_t child = fork();
  if (child == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    execl(LEDGER_BINARY, LEDGER_BINARY, "--db", db.c_str(), "replay", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(delay);
  kill(child, SIGKILL);
  int status = 0;
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

  // Kill replays until one dies while its new generation is half built.
  bool killed_midway = false;
  for (int attempt = 0; attempt < 30 && !killed_midway; ++attempt) {
    if (!StartAndKillReplay(db, std::chrono::milliseconds(40 + 25 * attempt))) continue;
    // Midway: the families of generation 1 exist, generation 0 still serves.
    std::vector<std::string> families;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db, &families).ok());
    const bool half_built =
        std::find(families.begin(), families.end(), "proj_invoices#1") != families.end();
    const bool old_serves =
        std::find(families.begin(), families.end(), "proj_invoices") != families.end();
    killed_midway = half_built && old_serves;
    if (!old_serves) break;  // the kill came after the switch: too late to try again
    // Otherwise it died before it began building: wait longer next time.
  }
  ASSERT_TRUE(killed_midway) << "no replay was killed between its start and its switch";

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
