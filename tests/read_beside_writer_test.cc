// Queries while another process has the ledger open: `ledger append` holds
// RocksDB's lock for as long as it runs, and the query commands then read
// the ledger as a RocksDB secondary instance (StoreOptions::secondary), as
// of their open. Here the writer is a Ledger in this process and the
// queries are the real `ledger` binary.

#include <errno.h>  // program_invocation_name
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "ledger/event_codec.h"
#include "ledger/event_store.h"
#include "ledger/ledger.h"
#include "projections/projection_set.h"
#include "tests/ledger_test_util.h"
#include "tests/process_util.h"

namespace ledger {
namespace {

using test_util::AccountOpened;
using test_util::CertCreated;
using test_util::PriceSet;
using test_util::Tick;
using testing::EnvironmentWith;
using testing::ProcessResult;
using testing::RunProcess;
using testing::TempDir;

constexpr int kExitCannotRun = 2;

std::set<std::string> FileNames(const std::string& folder) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// Starts `ledger ARGS...` with its output dropped and its errors in
// `err_path`; its pid, or -1 when it cannot start.
pid_t SpawnLedger(const std::vector<std::string>& args, const std::string& err_path = "/dev/null") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv = {LEDGER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// A generated stream of `count` events of 20 accounts at `path`.
void WriteWorkload(const std::string& path, uint64_t count) {
  std::ofstream out(path);
  bench::WorkloadOptions workload;
  workload.events = count;
  workload.accounts = 20;
  bench::GenerateWorkload(workload, [&](const std::string& line) { out << line << '\n'; });
}

// A ledger in `scratch` holding a generated stream of `count` events,
// appended by `ledger append`; its path.
std::string AppendedLedger(const TempDir& scratch, uint64_t count) {
  const std::string db = scratch.Sub("ledger");
  const std::string events = scratch.Sub("events.jsonl");
  WriteWorkload(events, count);
  EXPECT_EQ(RunProcess({LEDGER_BINARY, "--db", db, "append", events}, scratch).exit_code, 0);
  return db;
}

class ReadBesideWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = scratch_.Sub("ledger");
    child_tmp_ = scratch_.Sub("child-tmp");
    std::filesystem::create_directories(child_tmp_);
    LedgerOptions options;
    options.store.path = db_;
    Result<std::unique_ptr<Ledger>> opened =
        Ledger::Open(projections::WithProjections(std::move(options)));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    writer_ = std::move(*opened);
  }

  void Append(const std::vector<std::string>& lines) {
    std::vector<std::string_view> views(lines.begin(), lines.end());
    std::vector<AppendResult> results;
    ASSERT_TRUE(writer_->AppendBatch(views, &results).ok());
    for (const AppendResult& result : results) {
      ASSERT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
    }
  }

  // `ledger --db <the writer's ledger> ARGS...`, its temporary files in
  // child_tmp_.
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {LEDGER_BINARY, "--db", db_});
    const std::vector<std::string> env = EnvironmentWith({"TMPDIR=" + child_tmp_});
    return RunProcess(args, scratch_, std::nullopt, &env);
  }

  ProcessResult Invoice() {
    return Run({"invoice", "--account", "acct-1", "--period", "2026-03", "--format", "json"});
  }

  TempDir scratch_;
  std::string db_;
  std::string child_tmp_;
  std::unique_ptr<Ledger> writer_;
};

TEST_F(ReadBesideWriterTest, QueriesAnswerAsOfTheWritersLastBatch) {
  Append({PriceSet("p-1", "private_cert/hour", "USD", "0.0245", "2026-02-01T00:00:00"),
          AccountOpened("a-1", "acct-1", "USD", "2026-03-01T00:00:00"),
          CertCreated("c-1", "acct-1", "pc-1", "2026-03-01T00:00:00"),
          Tick("t-1", "acct-1", "pc-1", "2026-03-01T00:00:00", "2026-03-01T01:00:00")});
  const std::set<std::string> files_before = FileNames(db_);

  ProcessResult invoice = Invoice();
  ASSERT_EQ(invoice.exit_code, 0) << invoice.err;
  EXPECT_NE(invoice.out.find("\"total_precise\":\"0.02450000\""), std::string::npos) << invoice.out;

  // The writer goes on; the next query sees its new batch.
  Append({Tick("t-2", "acct-1", "pc-1", "2026-03-01T01:00:00", "2026-03-01T03:00:00")});
  invoice = Invoice();
  ASSERT_EQ(invoice.exit_code, 0) << invoice.err;
  EXPECT_NE(invoice.out.find("\"total_precise\":\"0.07350000\""), std::string::npos) << invoice.out;

  const ProcessResult events = Run({"events", "--from-seq", "5"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_NE(events.out.find("\"event_id\":\"t-2\""), std::string::npos) << events.out;
  EXPECT_EQ(events.out.find("\"event_id\":\"t-1\""), std::string::npos) << events.out;

  // The digest proves the log as the writer's last batch left it.
  const ProcessResult digest = Run({"digest", "--format", "json"});
  ASSERT_EQ(digest.exit_code, 0) << digest.err;
  EXPECT_NE(digest.out.find("\"seq\":5"), std::string::npos) << digest.out;
  EXPECT_NE(digest.out.find(HexOf(writer_->head().hash)), std::string::npos) << digest.out;

  const ProcessResult usage =
      Run({"usage", "--account", "acct-1", "--from", "2026-03-01T00:00:00+08:00", "--to",
           "2026-03-01T03:00:00+08:00", "--format", "json"});
  ASSERT_EQ(usage.exit_code, 0) << usage.err;
  EXPECT_NE(usage.out.find("\"seconds\":3600"), std::string::npos) << usage.out;

  // The readers wrote nothing in the ledger's folder (not even a WAL) and
  // left nothing in their temporary folder.
  EXPECT_EQ(FileNames(db_), files_before);
  EXPECT_TRUE(FileNames(child_tmp_).empty());
}

// A query killed while it read beside the writer leaves its folder; the
// next such read removes it: only a folder of this user's that no reader
// holds locked, and that is old enough to have been locked.
TEST_F(ReadBesideWriterTest, AReadRemovesTheFoldersOfKilledReads) {
  Append({AccountOpened("a-1", "acct-1", "USD", "2026-03-01T00:00:00")});
  const std::filesystem::path tmp(child_tmp_);
  const std::string pid = std::to_string(getpid());
  const std::string killed = "ledger-secondary." + pid + ".aB3dE5";
  // Held by a reader, as one in another pid namespace would hold it.
  const std::string locked = "ledger-secondary." + pid + ".fG7hI9";
  const std::string young = "ledger-secondary." + pid + ".rS8tU0";  // maybe not locked yet
  const std::string unnamed = "ledger-secondary.jK1lM2";  // an older version's: not locked
  const std::string not_a_folder = "ledger-secondary." + pid + ".nO4pQ6";
  const std::string link = "ledger-secondary." + pid + ".vW2xY4";
  const std::string others = "ledger-secondary." + pid + ".zA6bC8";
  std::set<std::string> kept = {locked, young, unnamed, not_a_folder, link, "link-target"};
  for (const std::string& folder : {killed, locked, young, unnamed, std::string("link-target")}) {
    std::filesystem::create_directories(tmp / folder);
    std::ofstream(tmp / folder / "LOG") << "an info log\n";
  }
  std::ofstream(tmp / not_a_folder) << "a file\n";
  std::filesystem::create_directory_symlink(tmp / "link-target", tmp / link);
  if (geteuid() == 0) {  // another user's folder, when this test may make one
    std::filesystem::create_directories(tmp / others);
    if (chown((tmp / others).c_str(), 65534, 65534) == 0) {
      kept.insert(others);
    } else {  // uid 65534 not mapped (a user namespace): not this case
      std::filesystem::remove(tmp / others);
    }
  }
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const std::string& name : kept) {
    if (name != link) std::filesystem::last_write_time(tmp / name, now - std::chrono::hours(1));
  }
  std::filesystem::last_write_time(tmp / killed, now - std::chrono::hours(1));
  // Young however slow the machine: dated in the future.
  std::filesystem::last_write_time(tmp / young, now + std::chrono::hours(1));
  const int lock = open((tmp / locked).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);

  const ProcessResult invoice = Invoice();
  close(lock);
  ASSERT_EQ(invoice.exit_code, 0) << invoice.err;
  EXPECT_EQ(FileNames(child_tmp_), kept);
  EXPECT_TRUE(std::filesystem::exists(tmp / "link-target" / "LOG"));
}

// The commands that write (and verify, which needs the ledger to itself)
// say why they cannot have it, without trying: RocksDB's failed open would
// still have rotated the writer's info log.
TEST_F(ReadBesideWriterTest, CommandsThatWriteSayTheLedgerIsInUse) {
  Append({AccountOpened("a-1", "acct-1", "USD", "2026-03-01T00:00:00")});
  const std::set<std::string> files_before = FileNames(db_);
  for (const char* command : {"verify", "replay", "init", "append"}) {
    SCOPED_TRACE(command);
    const ProcessResult run = Run({command});
    EXPECT_EQ(run.exit_code, kExitCannotRun);
    // The holder's pid and command line: this test program's.
    EXPECT_NE(run.err.find("is open in process " + std::to_string(getpid()) + ", `" +
                           program_invocation_name),
              std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("` (an append, replay, verify or a query holds it while it runs)"),
              std::string::npos)
        << run.err;
  }
  EXPECT_EQ(FileNames(db_), files_before);
  // Once the writer closes it, they run.
  writer_.reset();
  const ProcessResult verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// `append --wait-seconds N` waits for the holder to end instead of
// refusing at once, and refuses, naming it, once N seconds have passed.
TEST_F(ReadBesideWriterTest, AnAppendWaitsForTheHolderWhenAskedTo) {
  Append({AccountOpened("a-1", "acct-1", "USD", "2026-03-01T00:00:00")});
  const std::string events = scratch_.Sub("events.jsonl");
  std::ofstream(events) << AccountOpened("a-2", "acct-2", "EUR", "2026-03-02T00:00:00") << "\n";

  const ProcessResult gave_up = Run({"append", "--wait-seconds", "1", events});
  EXPECT_EQ(gave_up.exit_code, kExitCannotRun);
  EXPECT_NE(gave_up.err.find("is open in process " + std::to_string(getpid())), std::string::npos)
      << gave_up.err;

  ProcessResult waited;
  std::thread append([&] { waited = Run({"append", "--wait-seconds", "60", events}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // it is waiting
  writer_.reset();
  append.join();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(waited.out, "{\"line\":1,\"event_id\":\"a-2\",\"status\":\"appended\",\"seq\":2}\n");
}

// Reads while a real `ledger append` runs: each sees a whole prefix of the
// log (its digest's seq never goes back, and the invoice's projections are
// at its head), including across the flushes the append makes, and at its
// end, where it flushes every family and deletes its WALs.
TEST(ReadBesideAppendTest, EveryReadSeesAWholePrefixOfTheLog) {
  TempDir scratch;
  const std::string db = scratch.Sub("ledger");
  const std::string events = scratch.Sub("events.jsonl");
  WriteWorkload(events, 200'000);
  const std::vector<std::string> env = EnvironmentWith({"TMPDIR=" + scratch.path()});
  ASSERT_EQ(RunProcess({LEDGER_BINARY, "--db", db, "init"}, scratch, std::nullopt, &env).exit_code,
            0);

  const pid_t append = SpawnLedger({"--db", db, "append", events});
  ASSERT_GT(append, 0);

  // Reads start once the append holds the ledger: a read that opened it
  // first would hold it itself, and the append would refuse to start.
  int status = 0;
  while (!EventStore::OpenElsewhere(db) && waitpid(append, &status, WNOHANG) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  uint64_t last_seq = 0;
  int reads = 0;
  while (waitpid(append, &status, WNOHANG) == 0) {
    const ProcessResult digest = RunProcess(
        {LEDGER_BINARY, "--db", db, "digest", "--format", "json"}, scratch, std::nullopt, &env);
    ASSERT_EQ(digest.exit_code, 0) << digest.err;
    const size_t at = digest.out.find("\"seq\":");
    ASSERT_NE(at, std::string::npos) << digest.out;
    const uint64_t seq = std::stoull(digest.out.substr(at + 6));
    EXPECT_GE(seq, last_seq);
    last_seq = seq;
    const ProcessResult invoice =
        RunProcess({LEDGER_BINARY, "--db", db, "invoice", "--account", "acct-00001", "--period",
                    "2026-01", "--format", "json"},
                   scratch, std::nullopt, &env);
    // Early on, the prefix may hold no such account yet.
    if (invoice.err.find("no account acct-00001") == std::string::npos) {
      EXPECT_EQ(invoice.exit_code, 0) << invoice.err;
    }
    ++reads;
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_GT(reads, 0);
  const ProcessResult digest = RunProcess({LEDGER_BINARY, "--db", db, "digest", "--format", "json"},
                                          scratch, std::nullopt, &env);
  EXPECT_NE(digest.out.find("\"seq\":200000"), std::string::npos) << digest.out;
  for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
    EXPECT_EQ(entry.path().filename().string().rfind("ledger-secondary.", 0), std::string::npos)
        << entry.path();
  }
}

// Queries while replays switch the projections' generation (each creates
// the next generation's families and drops the old ones, as `verify` does
// with its scratch one): an open whose families changed between its listing
// and its open is tried again. A tester's queries failed with RocksDB's
// "Column family not found: proj_usage#1" in 2 of 3 replays.
TEST(ReadBesideReplayTest, QueriesAnswerWhileReplaysSwitchGenerations) {
  TempDir scratch;
  const std::string db = AppendedLedger(scratch, 100'000);
  const std::vector<std::string> invoice = {LEDGER_BINARY, "--db",       db,         "invoice",
                                            "--account",   "acct-00001", "--period", "2026-01",
                                            "--format",    "json"};
  const ProcessResult expected = RunProcess(invoice, scratch);
  ASSERT_EQ(expected.exit_code, 0) << expected.err;

  // Each replay holds the ledger while it runs (a query that opened it
  // first would hold it itself, and the replay would refuse to start).
  constexpr int kReplays = 8;
  int queries = 0;
  for (int i = 0; i < kReplays; ++i) {
    const pid_t replay = SpawnLedger({"--db", db, "replay"});
    ASSERT_GT(replay, 0);
    int status = 0;
    while (!EventStore::OpenElsewhere(db) && waitpid(replay, &status, WNOHANG) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    while (waitpid(replay, &status, WNOHANG) == 0) {
      const ProcessResult answer = RunProcess(invoice, scratch);
      EXPECT_EQ(answer.exit_code, 0) << "query " << queries << ": " << answer.err;
      EXPECT_EQ(answer.out, expected.out) << "query " << queries;
      ++queries;
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "replay " << i;
  }
  EXPECT_GE(queries, kReplays);
}

// `verify` rebuilds the rules' state in a scratch ledger of its own in
// $TMPDIR, `ledger-verify.<pid>.XXXXXX`, locked while it runs: the next
// verify removes one that a killed verify left (a tester's Ctrl-C left 40 MB
// behind for good), and keeps one in use (locked) or of an older version.
TEST(VerifyScratchTest, AVerifyRemovesTheScratchFolderOfAKilledOne) {
  TempDir scratch;
  const std::string db = AppendedLedger(scratch, 2'000);
  const std::filesystem::path tmp = scratch.Sub("tmp");
  const std::string pid = std::to_string(getpid());
  const std::string killed = "ledger-verify." + pid + ".aB3dE5";
  const std::string in_use = "ledger-verify." + pid + ".fG7hI9";
  const std::string older_version = "ledger-verify-jK1lM2";
  for (const std::string& folder : {killed, in_use, older_version}) {
    std::filesystem::create_directories(tmp / folder);
    std::ofstream(tmp / folder / "000004.log") << "a scratch ledger's file\n";
    std::filesystem::last_write_time(
        tmp / folder, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  }
  const int lock = open((tmp / in_use).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);
  const std::vector<std::string> env = EnvironmentWith({"TMPDIR=" + tmp.string()});
  const ProcessResult verify =
      RunProcess({LEDGER_BINARY, "--db", db, "verify"}, scratch, std::nullopt, &env);
  close(lock);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(FileNames(tmp.string()), (std::set<std::string>{in_use, older_version}));
}

// Appends that wait for each other (--wait-seconds) all run, however their
// checks and opens interleave: one that loses the race for RocksDB's lock
// to another's open waits as it waits for a holder it saw (it used to fail
// at once with RocksDB's lock error, in about 1 of 4 appends here), also
// while the first of them creates the ledger.
TEST(ConcurrentAppendTest, AppendsThatWaitForEachOtherAllRun) {
  TempDir scratch;
  const std::string db = scratch.Sub("ledger");
  const std::string events = scratch.Sub("events.jsonl");
  std::ofstream(events) << AccountOpened("a-1", "acct-1", "USD", "2026-03-01T00:00:00") << "\n";
  // Round 0 starts without a ledger: the appends race to create it.
  constexpr int kRounds = 5;
  constexpr int kAppends = 4;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<pid_t> appends;
    for (int i = 0; i < kAppends; ++i) {
      const std::string err = scratch.Sub("err-" + std::to_string(round) + "-" + std::to_string(i));
      const pid_t pid = SpawnLedger({"--db", db, "append", "--wait-seconds", "60", events}, err);
      ASSERT_GT(pid, 0);
      appends.push_back(pid);
    }
    for (int i = 0; i < kAppends; ++i) {
      int status = 0;
      ASSERT_EQ(waitpid(appends[static_cast<size_t>(i)], &status, 0),
                appends[static_cast<size_t>(i)]);
      std::ifstream err(scratch.Sub("err-" + std::to_string(round) + "-" + std::to_string(i)));
      const std::string text(std::istreambuf_iterator<char>(err), {});
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "round " << round << ", append " << i << ": " << text;
    }
  }
  const ProcessResult digest = RunProcess({LEDGER_BINARY, "--db", db, "digest"}, scratch);
  EXPECT_EQ(digest.out.substr(0, 2), "1:") << digest.out;  // stored once
}

}  // namespace
}  // namespace ledger
