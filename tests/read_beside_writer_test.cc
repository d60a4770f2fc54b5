// Queries while another process has the ledger open: `ledger append` holds
// RocksDB's lock for as long as it runs, and the query commands then read
// the ledger as a RocksDB secondary instance (StoreOptions::secondary), as
// of their open. Here the writer is a Ledger in this process and the
// queries are the real `ledger` binary.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ledger/event_codec.h"
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
    EXPECT_NE(run.err.find("is open in another process (an append holds it while it runs)"),
              std::string::npos)
        << run.err;
  }
  EXPECT_EQ(FileNames(db_), files_before);
  // Once the writer closes it, they run.
  writer_.reset();
  const ProcessResult verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace ledger
