// Damaged files are detected, never read as valid data: a flipped bit in a
// table file, a missing table file, a damaged WAL record; and a truncated log
// is caught by an auditor's earlier digest (`verify --digest`).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ledger/bytes.h"
#include "ledger/event_codec.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "process_util.h"
#include "projections/projection_set.h"
#include "replay/audit.h"

namespace ledger {
namespace {

namespace fs = std::filesystem;

std::string Adjustment(int i) {
  return R"({"type":"adjustment_posted","event_id":"adj-)" + std::to_string(i) +
         R"(","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","amount":"-1.00","reason":"a reason long enough to fill table blocks with text"})";
}

class CorruptionTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Ledger>> Open() {
    LedgerOptions options;
    options.store.path = dir_.Sub("db");
    return Ledger::Open(std::move(options));
  }

  // Appends `batches` batches of 100 events; returns the head.
  Head Fill(int batches, bool flush) {
    Result<std::unique_ptr<Ledger>> ledger = Open();
    EXPECT_TRUE(ledger.ok());
    int next = 0;
    for (int batch = 0; batch < batches; ++batch) {
      std::vector<std::string> lines;
      if (next == 0) lines.push_back(R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})");
      while (lines.size() < 100) lines.push_back(Adjustment(++next));
      std::vector<std::string_view> views(lines.begin(), lines.end());
      std::vector<AppendResult> results;
      EXPECT_TRUE((*ledger)->AppendBatch(views, &results).ok());
    }
    if (flush) {
      EXPECT_TRUE((*ledger)->store().db()->Flush(rocksdb::FlushOptions()).ok());
    }
    return (*ledger)->head();
  }

  // The largest file of the database whose name ends with `suffix`.
  std::string Largest(const std::string& suffix) {
    std::string largest;
    uintmax_t size = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_.Sub("db"))) {
      const std::string name = entry.path().string();
      if (name.ends_with(suffix) && entry.file_size() > size) {
        size = entry.file_size();
        largest = name;
      }
    }
    EXPECT_FALSE(largest.empty()) << "no " << suffix << " file";
    return largest;
  }

  static void FlipByte(const std::string& path, uintmax_t offset) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(offset));
    char byte = 0;
    file.get(byte);
    file.seekp(static_cast<std::streamoff>(offset));
    file.put(static_cast<char>(byte ^ 0x10));
  }

  testing::TempDir dir_;
};

TEST_F(CorruptionTest, AFlippedBitInATableFileIsCorruptionNotData) {
  Fill(20, /*flush=*/true);
  const std::string table = Largest(".sst");
  FlipByte(table, fs::file_size(table) / 3);
  Result<std::unique_ptr<Ledger>> ledger = Open();
  if (!ledger.ok()) {  // caught at open by the paranoid checks
    EXPECT_EQ(ledger.status().code(), Status::Code::kCorruption) << ledger.status().ToString();
    return;
  }
  replay::AuditOptions options;
  options.projections = false;  // this ledger was made without them
  Result<replay::AuditReport> report = replay::Audit((*ledger)->store(), options);
  // Either the read fails with a checksum error, or the event's own hash
  // names it: never a clean report.
  if (report.ok()) {
    EXPECT_FALSE(report->ok());
  } else {
    EXPECT_NE(report.status().message().find("orruption"), std::string::npos)
        << report.status().ToString();
  }
}

// For `ledger verify`, damaged files are a failed verification (exit 1,
// "FAILED"), not a command that could not run (exit 2): here the log's
// table file, which the open does not read but the audit's scan of the
// chain does. Both checks that read it fail, `table_files` naming the file,
// and the checks that need a whole chain are skipped.
TEST_F(CorruptionTest, VerifyFailsOnDamagedTableFiles) {
  Fill(20, /*flush=*/false);
  {
    Result<std::unique_ptr<Ledger>> ledger = Open();
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->store().FlushMemtablesOver(0).ok());  // every family
  }
  const std::string table = Largest(".sst");  // the log's: the adjustments
  for (uintmax_t offset = 64; offset < fs::file_size(table) / 2; offset += 997) {
    FlipByte(table, offset);
  }
  ASSERT_TRUE(Open().ok()) << "the open does not read the log's table";
  const testing::ProcessResult r = testing::RunProcess(
      {LEDGER_BINARY, "--db", dir_.Sub("db"), "verify", "--skip-projections"}, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ledger verify: FAILED\nevents 0, head seq 2000, head hash ", 0), 0u)
      << r.out << r.err;
  EXPECT_NE(r.out.find("  table_files    FAILED\n  hash_chain     FAILED\n  account_index  "
                       "skipped\n  idempotency    skipped\n  rules_state    skipped\n  ratings    "
                       "    skipped\n  projections    skipped\n"),
            std::string::npos)
      << r.out;
  const std::string file_name = fs::path(table).filename().string();
  EXPECT_NE(r.out.find("FAILED table_files: Corruption: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(file_name), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILED hash_chain: scan log: Corruption"), std::string::npos) << r.out;
  const testing::ProcessResult json = testing::RunProcess(
      {LEDGER_BINARY, "--db", dir_.Sub("db"), "verify", "--skip-projections", "--format", "json"},
      dir_);
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  EXPECT_EQ(json.out.rfind(R"({"ok":false,"events":0,"head_seq":2000,"head_hash":")", 0), 0u)
      << json.out;
  EXPECT_NE(json.out.find(R"({"name":"table_files","status":"failed"},)"
                          R"({"name":"hash_chain","status":"failed"},)"
                          R"({"name":"account_index","status":"skipped"})"),
            std::string::npos)
      << json.out;
}

// A damaged Bloom filter block is passed over by RocksDB's reads (they
// search the data blocks instead), so no check that reads the ledger's
// records sees it; `table_files` checks every block's checksum. A tester
// flipped bytes at random offsets: 3 of 84 were in filter blocks, and
// verify passed.
TEST_F(CorruptionTest, VerifyFindsADamagedFilterBlock) {
  Fill(20, /*flush=*/true);
  std::string table;
  uint64_t filter_offset = 0;
  {
    Result<std::unique_ptr<Ledger>> ledger = Open();
    ASSERT_TRUE(ledger.ok());
    rocksdb::TablePropertiesCollection tables;
    ASSERT_TRUE((*ledger)
                    ->store()
                    .db()
                    ->GetPropertiesOfAllTables((*ledger)->store().idempotency_cf(), &tables)
                    .ok());
    ASSERT_FALSE(tables.empty());
    const auto& [path, properties] = *tables.begin();
    ASSERT_GT(properties->filter_size, 16u);
    table = path;
    // The filter block is written right after the data blocks.
    filter_offset = properties->data_size + properties->filter_size / 2;
  }
  FlipByte(table, filter_offset);
  const testing::ProcessResult r = testing::RunProcess(
      {LEDGER_BINARY, "--db", dir_.Sub("db"), "verify", "--skip-projections"}, dir_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // Only table_files fails: every other check still runs, and holds.
  EXPECT_NE(r.out.find("  table_files    FAILED\n"
                       "  hash_chain     ok\n"
                       "  account_index  ok\n"
                       "  idempotency    ok\n"
                       "  rules_state    ok\n"
                       "  ratings        ok\n"
                       "  projections    skipped\n"),
            std::string::npos)
      << r.out << r.err;
}

// A damaged data block in one family fails the checks that read it, and
// every other check still runs and holds: the idempotency family's (its
// own check) and the rules' state family's (read by rules_state, which
// compares it with a replay: the damage is named, not taken for a missing
// key).
TEST_F(CorruptionTest, ADamagedFamilyFailsOnlyTheChecksThatReadIt) {
  struct Case {
    rocksdb::ColumnFamilyHandle* (EventStore::*family)() const;
    const char* checks;
    const char* failure;
  };
  const Case cases[] = {
      {&EventStore::idempotency_cf,
       "  table_files    FAILED\n  hash_chain     ok\n  account_index  ok\n"
       "  idempotency    FAILED\n  rules_state    ok\n  ratings        ok\n",
       "FAILED idempotency: scan: Corruption"},
      {&EventStore::state_cf,
       "  table_files    FAILED\n  hash_chain     ok\n  account_index  ok\n"
       "  idempotency    ok\n  rules_state    FAILED\n  ratings        ok\n",
       "FAILED rules_state key state: a scan failed: Corruption"},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_.Sub("db"));
    Fill(20, /*flush=*/false);
    std::string table;
    uint64_t data_size = 0;
    {
      Result<std::unique_ptr<Ledger>> ledger = Open();
      ASSERT_TRUE(ledger.ok());
      EventStore& store = (*ledger)->store();
      ASSERT_TRUE(store.FlushMemtablesOver(0).ok());  // every family
      rocksdb::TablePropertiesCollection tables;
      ASSERT_TRUE(store.db()->GetPropertiesOfAllTables((store.*c.family)(), &tables).ok());
      ASSERT_EQ(tables.size(), 1u);
      table = tables.begin()->first;
      data_size = tables.begin()->second->data_size;
    }
    FlipByte(table, data_size / 2);
    const testing::ProcessResult r = testing::RunProcess(
        {LEDGER_BINARY, "--db", dir_.Sub("db"), "verify", "--skip-projections"}, dir_);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find(c.checks), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find(c.failure), std::string::npos) << r.out << r.err;
  }
}

// `digest` prints the head, which is kept apart from the log (the meta
// family): a head that is not the log's last event (an edited head, a log
// with events after it) is refused (exit 1) rather than handed to an
// auditor to keep.
TEST_F(CorruptionTest, DigestRefusesAHeadThatIsNotTheLogsLastEvent) {
  const Head head = Fill(2, /*flush=*/false);
  ASSERT_EQ(head.seq, 200u);
  const auto write_head = [&](uint64_t seq, const Sha256& hash) {
    Result<std::unique_ptr<Ledger>> ledger = Open();
    ASSERT_TRUE(ledger.ok());
    std::string value;
    AppendU64BE(seq, &value);
    value.append(reinterpret_cast<const char*>(hash.data()), hash.size());
    AppendU64BE(static_cast<uint64_t>(head.recorded_at_us), &value);
    AppendU64BE(head.invoices_finalized, &value);
    rocksdb::DB* db = (*ledger)->store().db();
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), db->DefaultColumnFamily(),
                        std::string(internal::kMetaHead), value)
                    .ok());
  };
  const auto digest = [&] {
    return testing::RunProcess({LEDGER_BINARY, "--db", dir_.Sub("db"), "digest"}, dir_);
  };
  Envelope before_last;
  {
    Result<std::unique_ptr<Ledger>> ledger = Open();
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->store().ReadEvent(199, &before_last).ok());
  }

  write_head(199, head.hash);  // the seq edited, the hash left
  testing::ProcessResult r = digest();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("the head (seq 199) has a hash other than its event's"), std::string::npos)
      << r.err;

  write_head(199, before_last.hash);  // a whole earlier head: the log goes on
  r = digest();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the log holds events after the head (seq 199)"), std::string::npos)
      << r.err;

  write_head(201, head.hash);
  r = digest();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the head (seq 201) names an event the log lacks"), std::string::npos)
      << r.err;

  write_head(200, head.hash);
  r = digest();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200:" + HexOf(head.hash) + "\n");
}

TEST_F(CorruptionTest, AMissingTableFileRefusesTheOpen) {
  Fill(20, /*flush=*/true);
  const std::string table = Largest(".sst");
  fs::remove(table);
  Result<std::unique_ptr<Ledger>> ledger = Open();
  ASSERT_FALSE(ledger.ok());
  EXPECT_NE(ledger.status().message().find(fs::path(table).filename().string().substr(0, 6)),
            std::string::npos)
      << ledger.status().ToString();
}

TEST_F(CorruptionTest, ADamagedWalRecordRefusesTheOpenInsteadOfDroppingEvents) {
  Fill(20, /*flush=*/false);  // every event only in the WAL
  const std::string wal = Largest(".log");
  FlipByte(wal, fs::file_size(wal) / 2);
  Result<std::unique_ptr<Ledger>> ledger = Open();
  ASSERT_FALSE(ledger.ok()) << "a damaged WAL must not open as a shorter ledger";
  EXPECT_EQ(ledger.status().code(), Status::Code::kCorruption) << ledger.status().ToString();
}

TEST_F(CorruptionTest, ATruncatedLogIsCaughtByTheAuditorsDigest) {
  const Head head = Fill(20, /*flush=*/false);
  const std::string wal = Largest(".log");
  fs::resize_file(wal, fs::file_size(wal) - 3000);  // cuts into the last batch
  Result<std::unique_ptr<Ledger>> ledger = Open();
  // A cut tail looks like a crash before those writes were acknowledged, so
  // the ledger opens; the digest an auditor kept proves events are missing.
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_LT((*ledger)->head().seq, head.seq);
  replay::AuditOptions options;
  options.projections = false;  // this ledger was made without them
  options.digest = replay::LedgerDigest{head.seq, head.hash};
  Result<replay::AuditReport> report = replay::Audit((*ledger)->store(), options);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->failures[0].check, "digest");
}

}  // namespace
}  // namespace ledger
