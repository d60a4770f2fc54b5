// Durability and atomicity of the append path against the real RocksDB, in
// fresh temporary folders: what a batch stores, what a rejected event must
// not leave behind in any column family, gapless sequence numbers, the hash
// chain, reopening after a clean close and after a crash, a batch whose
// commit fails, and a long generated workload.

#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/workload.h"
#include "ledger/constants.h"
#include "ledger/event_codec.h"
#include "ledger/event_sink.h"
#include "ledger/keys.h"
#include "ledger/ledger.h"
#include "ledger/rule_error.h"
#include "projections/projection_set.h"
#include "replay/audit.h"
#include "tests/process_util.h"
#include "tests/store_test_util.h"

namespace ledger {
namespace {

using store_test::Append;
using store_test::CfContents;
using store_test::DbContents;
using store_test::DbDiff;
using store_test::Describe;
using store_test::Diff;
using store_test::OpenLedger;
using store_test::Snapshot;
using testing::ProcessResult;
using testing::RunProcess;
using testing::SplitLines;
using testing::TempDir;

// An expected outcome: appended/duplicate with a seq, or rejected with a code.
struct Expect {
  AppendResult::Outcome outcome;
  uint64_t seq = 0;
  ErrorCode code = ErrorCode::kInvalidJson;
};
Expect Appended(uint64_t seq) { return {AppendResult::Outcome::kAppended, seq}; }
Expect Duplicate(uint64_t seq) { return {AppendResult::Outcome::kDuplicate, seq}; }
Expect Rejected(ErrorCode code) { return {AppendResult::Outcome::kRejected, 0, code}; }

// A table of lines and their expected outcomes, one row per event
// (TigerBeetle's state machine tests).
struct Row {
  std::string line;
  Expect expect;
};

std::vector<std::string> LinesOf(const std::vector<Row>& rows) {
  std::vector<std::string> lines;
  for (const Row& row : rows) lines.push_back(row.line);
  return lines;
}

void ExpectOutcomes(const std::vector<Row>& rows, const std::vector<AppendResult>& results) {
  ASSERT_EQ(results.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Expect& e = rows[i].expect;
    const AppendResult& r = results[i];
    SCOPED_TRACE("row " + std::to_string(i) + ": " + rows[i].line);
    EXPECT_EQ(r.outcome, e.outcome) << "got " << Describe(r);
    if (e.outcome == AppendResult::Outcome::kRejected) {
      EXPECT_EQ(ErrorCodeName(r.error.code), ErrorCodeName(e.code)) << "got " << Describe(r);
    } else {
      EXPECT_EQ(r.seq, e.seq) << "got " << Describe(r);
    }
  }
}

std::vector<AppendResult> AppendRows(Ledger& ledger, const std::vector<Row>& rows) {
  std::vector<AppendResult> results = Append(ledger, LinesOf(rows));
  ExpectOutcomes(rows, results);
  return results;
}

// Event lines. Times are in the default billing zone, +08:00.
std::string PriceLine(const std::string& event_id, const std::string& sku,
                      const std::string& occurred_at, const std::string& unit_price) {
  return R"({"type":"price_set","event_id":")" + event_id + R"(","occurred_at":")" + occurred_at +
         R"(","sku":")" + sku + R"(","currency":"USD","unit_price":")" + unit_price + R"("})";
}
std::string OpenLine(const std::string& event_id, const std::string& account) {
  return R"({"type":"account_opened","event_id":")" + event_id + R"(","account":")" + account +
         R"(","occurred_at":"2026-04-01T00:00:00+08:00","currency":"USD"})";
}
std::string CertLine(const std::string& event_id, const std::string& account,
                     const std::string& resource_id) {
  return R"({"type":"resource_created","event_id":")" + event_id + R"(","account":")" + account +
         R"(","occurred_at":"2026-04-02T09:00:00+08:00","resource_id":")" + resource_id +
         R"(","resource_type":"private_cert","billing_mode":"pay_per_use"})";
}
std::string TickLine(const std::string& event_id, const std::string& account,
                     const std::string& resource_id, const std::string& from,
                     const std::string& to) {
  return R"({"type":"usage_recorded","event_id":")" + event_id + R"(","account":")" + account +
         R"(","occurred_at":")" + to + R"(","resource_id":")" + resource_id + R"(","from":")" +
         from + R"(","to":")" + to + R"("})";
}
std::string AdjustmentLine(const std::string& event_id, const std::string& account,
                           const std::string& amount = "-2.00") {
  return R"({"type":"adjustment_posted","event_id":")" + event_id + R"(","account":")" + account +
         R"(","occurred_at":"2026-04-03T09:00:00+08:00","amount":")" + amount +
         R"(","reason":"outage credit"})";
}

// Account "acme" with private certificate "pc-1" and one tick, 09:00-10:00
// on 2026-04-02: seqs 1 to 4.
std::vector<Row> SetupRows() {
  return {
      {PriceLine("price-cert", "private_cert/hour", "2026-04-01T00:00:00+08:00", "0.12"),
       Appended(1)},
      {OpenLine("open-acme", "acme"), Appended(2)},
      {CertLine("create-pc-1", "acme", "pc-1"), Appended(3)},
      {TickLine("tick-1", "acme", "pc-1", "2026-04-02T09:00:00+08:00", "2026-04-02T10:00:00+08:00"),
       Appended(4)},
  };
}

std::vector<std::string> KeysOf(const DbDiff& diff, const std::string& cf) {
  std::vector<std::string> keys;
  const auto found = diff.find(cf);
  if (found == diff.end()) return keys;
  for (const auto& [key, value] : found->second) keys.push_back(key);
  return keys;
}

// The stored events, in log order.
std::vector<Envelope> StoredEvents(const EventStore& store) {
  std::vector<Envelope> events;
  const Status status = store.ScanEvents(1, UINT64_MAX, [&](const Envelope& e) {
    events.push_back(e);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return events;
}

// Checks seqs 1..N without gaps and the hash chain from the zero hash to the
// head.
void ExpectGaplessChain(const Ledger& ledger, const EventStore& store, uint64_t count) {
  const std::vector<Envelope> events = StoredEvents(store);
  ASSERT_EQ(events.size(), count);
  Sha256 prev{};
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].seq, i + 1) << "the log has a gap";
    ASSERT_EQ(HexOf(events[i].prev_hash), HexOf(prev)) << "seq " << events[i].seq;
    prev = events[i].hash;
  }
  const Head head = ledger.head();
  EXPECT_EQ(head.seq, count);
  EXPECT_EQ(HexOf(head.hash), HexOf(prev)) << "the head must be the last event's hash";
}

void ExpectSameHead(const Head& a, const Head& b) {
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(HexOf(a.hash), HexOf(b.hash));
  EXPECT_EQ(a.recorded_at_us, b.recorded_at_us);
  EXPECT_EQ(a.invoices_finalized, b.invoices_finalized);
}

bool HasEventId(EventStore& store, const std::string& event_id) {
  Result<std::optional<IdempotencyEntry>> entry = store.FindEventId(event_id);
  EXPECT_TRUE(entry.ok()) << entry.status().ToString();
  return entry.ok() && entry->has_value();
}

// ---------------------------------------------------------------------------
// Reopening.

// A sink (the projections' seat) that fails once, on one event: by throwing
// (an exception from the ledger's own work, not from a caller's callback)
// or with an I/O error. Counts what the ledger asked of it.
class FailingSink : public EventSink {
 public:
  enum class Failure { kThrow, kIoError };
  struct Calls {
    int applied = 0;
    int committed = 0;
    int aborted = 0;
  };
  FailingSink(std::string event_id, Failure failure, Calls* calls)
      : event_id_(std::move(event_id)), failure_(failure), calls_(calls) {}
  Status Apply(const Envelope& envelope) override {
    ++calls_->applied;
    if (envelope.event_id != event_id_ || failed_) return Status::Ok();
    failed_ = true;
    if (failure_ == Failure::kThrow) throw std::runtime_error("sink failed");
    return Status::IoError("sink failed");
  }
  Status Seal(uint64_t, rocksdb::WriteBatch*) override { return Status::Ok(); }
  void Committed() override { ++calls_->committed; }
  void Aborted() override { ++calls_->aborted; }

 private:
  std::string event_id_;
  Failure failure_;
  bool failed_ = false;
  Calls* calls_;
};

// A ledger at `path` with its setup events, reopened with `options` (its
// path set here).
std::unique_ptr<Ledger> ReopenAfterSetup(const std::string& path, LedgerOptions options) {
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(path);
    if (ledger == nullptr) return nullptr;
    AppendRows(*ledger, SetupRows());
  }
  options.store.path = path;
  Result<std::unique_ptr<Ledger>> opened = Ledger::Open(std::move(options));
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// A ledger with its setup events, reopened with a sink that fails on
// `event_id`.
std::unique_ptr<Ledger> OpenWithFailingSink(const std::string& path, const std::string& event_id,
                                            FailingSink::Failure failure,
                                            FailingSink::Calls* calls) {
  LedgerOptions options;
  options.make_sink = [=](EventStore&) -> Result<std::unique_ptr<EventSink>> {
    return std::unique_ptr<EventSink>(new FailingSink(event_id, failure, calls));
  };
  return ReopenAfterSetup(path, std::move(options));
}

void ExpectAppendsRefused(Ledger& ledger, std::string_view line) {
  std::vector<AppendResult> results;
  const Status refused = ledger.AppendBatch({&line, 1}, &results);
  EXPECT_EQ(refused.code(), Status::Code::kIoError);
  EXPECT_NE(refused.message().find("refused until the ledger is reopened"), std::string::npos)
      << refused.ToString();
}

// Streams `batches` into `ledger`; the seqs of the results delivered.
// `stream_status` gets what AppendStream returned, if it returned.
std::vector<uint64_t> StreamLines(Ledger& ledger,
                                  const std::vector<std::vector<std::string>>& batches,
                                  Status* stream_status) {
  size_t given = 0;
  std::vector<uint64_t> delivered;
  *stream_status = ledger.AppendStream(
      [&](std::vector<std::string_view>* batch) {
        if (given == batches.size()) return false;
        batch->assign(batches[given].begin(), batches[given].end());
        ++given;
        return true;
      },
      [&](std::span<const AppendResult> results) {
        for (const AppendResult& r : results) delivered.push_back(r.seq);
      });
  return delivered;
}

// RocksDB counts statistics per thread (its perf context) at every key
// comparison, through thread-local storage reached by a call each time; the
// ledger never reads them, and a stream stops them on its threads
// (StopRocksPerfCounters). Re-sent events are looked up in the memtables,
// which compares keys on the judging thread, the caller's: none is counted,
// and the caller's level is back once the stream returns.
TEST(EventStoreTest, AStreamCountsNoRocksDbStatisticsOnItsJudgingThread) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  std::vector<std::string> lines;
  for (const Row& row : SetupRows()) lines.push_back(row.line);
  Status status;
  EXPECT_EQ(StreamLines(*ledger, {lines}, &status).size(), lines.size());
  ASSERT_TRUE(status.ok()) << status.ToString();
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);  // RocksDB's default
  rocksdb::get_perf_context()->Reset();
  EXPECT_EQ(StreamLines(*ledger, {lines}, &status), (std::vector<uint64_t>{1, 2, 3, 4}));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(rocksdb::get_perf_context()->user_key_comparison_count, 0u);
  EXPECT_EQ(rocksdb::GetPerfLevel(), rocksdb::PerfLevel::kEnableCount);
}

// Streams `batches`, which must end in a std::runtime_error saying `what`.
void ExpectStreamThrows(Ledger& ledger, const std::vector<std::vector<std::string>>& batches,
                        const char* what) {
  try {
    Status status;
    StreamLines(ledger, batches, &status);
    ADD_FAILURE() << "AppendStream returned " << status.ToString();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), what);
  }
}

// Three batches of adjustments for acme: adj-1, adj-2 | adj-3, adj-4 | adj-5.
std::vector<std::vector<std::string>> ThreeAdjustmentBatches() {
  return {{AdjustmentLine("adj-1", "acme"), AdjustmentLine("adj-2", "acme")},
          {AdjustmentLine("adj-3", "acme"), AdjustmentLine("adj-4", "acme")},
          {AdjustmentLine("adj-5", "acme")}};
}

TEST(EventStoreTest, ReopenKeepsHeadIdempotencyAndState) {
  TempDir dir;
  const std::vector<Row> setup = SetupRows();
  const std::vector<Row> more = {
      {AdjustmentLine("adj-1", "acme"), Appended(5)},
      {AdjustmentLine("adj-2", "nobody"), Rejected(ErrorCode::kUnknownAccount)},
      {TickLine("tick-2", "acme", "pc-1", "2026-04-02T10:00:00+08:00", "2026-04-02T10:30:00+08:00"),
       Appended(6)},
  };
  Head head_before;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    AppendRows(*ledger, setup);
    AppendRows(*ledger, more);
    head_before = ledger->head();
    EXPECT_EQ(head_before.seq, 6u);
  }  // closed

  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path(), /*pinned_clock=*/false);
  ASSERT_NE(ledger, nullptr);
  ExpectSameHead(ledger->head(), head_before);
  ExpectGaplessChain(*ledger, ledger->store(), 6);

  // Identical re-sends are duplicates with their first seqs, whatever batch
  // they come in and in whatever order.
  std::vector<Row> resend;
  for (const Row& row : more) {
    if (row.expect.outcome == AppendResult::Outcome::kAppended) {
      resend.push_back({row.line, Duplicate(row.expect.seq)});
    }
  }
  for (auto it = setup.rbegin(); it != setup.rend(); ++it) {
    resend.push_back({it->line, Duplicate(it->expect.seq)});
  }
  AppendRows(*ledger, resend);

  // A changed line under a stored id is a conflict; the rules' state
  // survived too (the tick overlaps a stored one).
  AppendRows(
      *ledger,
      {
          {AdjustmentLine("adj-1", "acme", "-2.01"), Rejected(ErrorCode::kEventIdConflict)},
          {TickLine("tick-1", "acme", "pc-1", "2026-04-02T09:00:00+08:00",
                    "2026-04-02T09:59:59+08:00"),
           Rejected(ErrorCode::kEventIdConflict)},
          {TickLine("tick-3", "acme", "pc-1", "2026-04-02T10:15:00+08:00",
                    "2026-04-02T10:45:00+08:00"),
           Rejected(ErrorCode::kUsageOverlap)},
          {CertLine("create-pc-1-again", "acme", "pc-1"), Rejected(ErrorCode::kResourceExists)},
          {AdjustmentLine("adj-3", "acme"), Appended(7)},
      });
  const std::vector<Envelope> events = StoredEvents(ledger->store());
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(HexOf(events[6].prev_hash), HexOf(head_before.hash))
      << "the first event after reopening chains on the stored head";
  EXPECT_GE(events[6].recorded_at_us, head_before.recorded_at_us);
}

// A batch is judged in chunks, each chunk's event ids read from the
// database in one MultiGet before its lines are judged. Every re-send is
// still answered from wherever its first copy is: stored before, earlier in
// the same chunk, or in an earlier chunk of the batch; with rejected lines
// (no id to prefetch) in between, and conflicting re-sends of each kind.
TEST(EventStoreTest, ABatchOfManyChunksAnswersEveryReSend) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  const std::vector<Row> setup = SetupRows();  // seqs 1-4
  AppendRows(*ledger, setup);

  std::vector<Row> rows;
  std::vector<uint64_t> seq_of;  // of adj-i
  const auto id = [](size_t i) { return "adj-" + std::to_string(i); };
  for (size_t i = 0; i < 700; ++i) {
    seq_of.push_back(4 + i + 1);
    rows.push_back({AdjustmentLine(id(i), "acme"), Appended(seq_of[i])});
    if (i % 97 == 0) rows.push_back({"not json", Rejected(ErrorCode::kInvalidJson)});
    if (i % 89 == 0) {
      rows.push_back({R"({"type":"adjustment_posted"})", Rejected(ErrorCode::kMissingField)});
    }
    if (i % 50 == 0) rows.push_back({AdjustmentLine(id(i), "acme"), Duplicate(seq_of[i])});
    if (i % 61 == 0 && i >= 300) {
      rows.push_back({AdjustmentLine(id(i - 300), "acme"), Duplicate(seq_of[i - 300])});
      rows.push_back(
          {AdjustmentLine(id(i - 299), "acme", "-9.00"), Rejected(ErrorCode::kEventIdConflict)});
    }
    if (i % 173 == 0) {
      const size_t k = (i / 173) % setup.size();
      rows.push_back({setup[k].line, Duplicate(setup[k].expect.seq)});
      rows.push_back({AdjustmentLine("open-acme", "acme"), Rejected(ErrorCode::kEventIdConflict)});
    }
  }
  ASSERT_GT(rows.size(), 2 * 256u) << "at least three chunks";
  AppendRows(*ledger, rows);
  EXPECT_EQ(ledger->head().seq, 704u);
}

// A line of thousands of fields grows its chunk slot far past an ordinary
// event's; the slot is freed after its chunk (Ledger::FreeIfGrown) and the
// next chunks, which reuse it, judge as before.
TEST(EventStoreTest, AHugeLineBetweenChunksLeavesTheirVerdictsAlone) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  AppendRows(*ledger, SetupRows());  // seqs 1-4
  std::string huge = R"({"type":"adjustment_posted","event_id":"adj-huge","account":"acme",)"
                     R"("occurred_at":"2026-04-03T09:00:00+08:00","amount":"-1.00","reason":"x")";
  for (int i = 0; huge.size() < 60'000; ++i)
    huge += ",\"f" + std::to_string(i) + "\":\"some text\"";
  huge += "}";
  std::vector<Row> rows;
  uint64_t seq = 4;
  for (int batch_line = 0; batch_line < 600; ++batch_line) {
    if (batch_line == 0 || batch_line == 300) {
      rows.push_back({huge, Rejected(ErrorCode::kInvalidField)});
      continue;
    }
    rows.push_back({AdjustmentLine("adj-" + std::to_string(batch_line), "acme"), Appended(++seq)});
  }
  rows.push_back({AdjustmentLine("adj-1", "acme"), Duplicate(5)});
  AppendRows(*ledger, rows);
  AppendRows(*ledger, {{huge, Rejected(ErrorCode::kInvalidField)},
                       {AdjustmentLine("adj-2", "acme"), Duplicate(6)},
                       {AdjustmentLine("adj-600", "acme"), Appended(seq + 1)}});
}

// An EventStore on its own (no rules, no projections) at `path`.
std::unique_ptr<EventStore> OpenBareStore(const std::string& path) {
  StoreOptions options;
  options.path = path;
  Result<std::unique_ptr<EventStore>> opened = EventStore::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// Read-only commands open the ledger too, and RocksDB starts a WAL at each
// open: their empty files stay bounded, and the head is unchanged.
TEST(EventStoreTest, OpensThatWriteNothingLeaveABoundedNumberOfEmptyWals) {
  TempDir dir;
  Head head;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    AppendRows(*ledger, SetupRows());
    head = ledger->head();
  }
  const auto wals = [&] {
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      count += entry.path().extension() == ".log";
    }
    return count;
  };
  size_t most = 0;
  for (int open = 0; open < 30; ++open) {
    std::unique_ptr<EventStore> store = OpenBareStore(dir.path());
    ASSERT_NE(store, nullptr);
    ExpectSameHead(store->head(), head);
    most = std::max(most, wals());
  }
  EXPECT_LE(most, 10u);
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path(), /*pinned_clock=*/false);
  ASSERT_NE(ledger, nullptr);
  ExpectSameHead(ledger->head(), head);
  ExpectGaplessChain(*ledger, ledger->store(), head.seq);
}

// The closed WAL files stay near StoreOptions::wal_bytes_max however long
// an append runs: the meta family, a few bytes per batch, never fills its
// memtable, and kept every WAL since the open (a tester's 290 MB after
// 436,000 events of a slow append), which each read beside the writer
// replays at its open. (The WAL being written grows until a memtable
// fills, as without the bound.) The bound holds with one flush at a time
// (max_background_flushes, set in EventStore::Open): with two, a closed
// WAL could outlive its flushes and no later write asked for another, so
// CI found 44 MB here even after the extra appends.
TEST(EventStoreTest, TheClosedWalFilesStayBoundedWhileAnAppendRuns) {
  TempDir dir;
  LedgerOptions options = projections::WithProjections(LedgerOptions{}, {});
  options.store.path = dir.path();
  options.store.wal_bytes_max = 1 << 20;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(std::move(options));
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  bench::WorkloadOptions workload;
  // Appended one at a time at the end while the closed WALs are over the
  // check: each write past the WAL limit asks for the next flush round.
  constexpr size_t kExtraEvents = 5;
  workload.events = 300'000 + kExtraEvents;  // 130 MB of WAL in all: the log's memtable fills
  workload.accounts = 20;
  std::vector<std::string> lines;
  bench::GenerateWorkload(workload, [&](const std::string& line) { lines.push_back(line); });
  // The WAL files' bytes but the newest's (the one being written). RocksDB
  // deletes an obsolete WAL whenever a flush ends: one gone between the
  // listing and its size is not counted.
  const auto closed_wal_bytes = [&] {
    std::map<std::string, uintmax_t> wals;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().extension() != ".log") continue;
      std::error_code gone;
      const uintmax_t size = std::filesystem::file_size(entry.path(), gone);
      if (!gone) wals[entry.path().filename()] = size;
    }
    uintmax_t bytes = 0;
    for (const auto& [name, size] : wals) bytes += size;
    return wals.empty() ? 0 : bytes - wals.rbegin()->second;
  };
  constexpr size_t kBatch = 10'000;
  for (size_t begin = 0; begin < 300'000; begin += kBatch) {
    const std::vector<std::string_view> batch(
        lines.begin() + static_cast<ptrdiff_t>(begin),
        lines.begin() + static_cast<ptrdiff_t>(begin + kBatch));
    std::vector<AppendResult> results;
    ASSERT_TRUE((*ledger)->AppendBatch(batch, &results).ok());
  }
  EXPECT_EQ((*ledger)->head().seq, 300'000u);
  // A write past the bound starts the flushes that free the oldest WALs;
  // they are deleted once those end. Without the bound the closed WALs
  // held 88 MB here, and grew with every memtable that filled.
  rocksdb::DB* db = (*ledger)->store().db();
  const auto settle = [&] {
    uint64_t busy = 1;
    for (int wait = 0; wait < 1000 && busy != 0; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      uint64_t running = 0;
      uint64_t pending = 0;
      ASSERT_TRUE(db->GetAggregatedIntProperty("rocksdb.num-running-flushes", &running));
      ASSERT_TRUE(db->GetAggregatedIntProperty("rocksdb.mem-table-flush-pending", &pending));
      busy = running + pending;
    }
  };
  for (size_t extra = 0; extra < kExtraEvents && closed_wal_bytes() > (uintmax_t{16} << 20);
       ++extra) {
    settle();
    const std::vector<std::string_view> one = {lines[300'000 + extra]};
    std::vector<AppendResult> results;
    ASSERT_TRUE((*ledger)->AppendBatch(one, &results).ok());
    settle();
  }
  EXPECT_LE(closed_wal_bytes(), uintmax_t{16} << 20);
}

// Stages event `seq` (a price_set) under `event_id` for `account`, with the
// SHA-256 of `content` as its content digest.
void StageBareEvent(EventStore& store, uint64_t seq, std::string event_id, std::string account,
                    std::string_view content) {
  Envelope envelope;
  envelope.seq = seq;
  envelope.event_id = std::move(event_id);
  envelope.account = std::move(account);
  envelope.content_digest = HashBytes(content);
  envelope.payload = PriceSet{};
  ASSERT_TRUE(store.StageEvent(&envelope).ok());
}

// A prefetch answers for the database as it was when read. While a batch is
// sealed and not yet written, its ids are answered from the sealed batch,
// whatever the prefetch says. Once it is written, they are in the database
// and no longer in the sealed batch: a prefetch read before then must not
// answer for them.
TEST(EventStoreTest, APrefetchNeverAnswersForTheSealedBatch) {
  TempDir dir;
  std::unique_ptr<EventStore> opened = OpenBareStore(dir.Sub("store"));
  ASSERT_NE(opened, nullptr);
  EventStore& store = *opened;
  const auto expect_seq = [&](std::string_view id, std::optional<uint64_t> seq) {
    SCOPED_TRACE(id);
    Result<std::optional<IdempotencyEntry>> entry = store.FindNextEventId(id);
    ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    ASSERT_EQ(entry->has_value(), seq.has_value());
    if (seq) {
      EXPECT_EQ((*entry)->seq, *seq);
    }
  };
  const std::vector<std::string_view> first = {"first"};
  const std::vector<std::string_view> both = {"first", "second"};

  ASSERT_TRUE(store.PrefetchEventIds(first).ok());  // not stored yet
  const std::string_view content = "the first event's JSON";
  StageBareEvent(store, 1, "first", "", content);
  EventStore::SealedBatch sealed = store.Seal();
  expect_seq("first", 1);  // from the sealed batch, not the prefetch

  ASSERT_TRUE(store.PrefetchEventIds(both).ok());  // sealed, not written
  ASSERT_TRUE(store.Write(&sealed).ok());
  store.Written(sealed.head);
  expect_seq("first", 1);  // from the database, not the dropped prefetch
  Result<std::optional<IdempotencyEntry>> entry = store.FindEventId("first");
  ASSERT_TRUE(entry.ok() && entry->has_value());
  EXPECT_EQ(HexOf((*entry)->content_digest), HexOf(HashBytes(content)));

  // A fresh prefetch answers from the database, in order or not.
  ASSERT_TRUE(store.PrefetchEventIds(both).ok());
  expect_seq("second", std::nullopt);  // out of order: a Get
  expect_seq("first", 1);
  ASSERT_TRUE(store.PrefetchEventIds(both).ok());
  expect_seq("first", 1);
  expect_seq("second", std::nullopt);
}

// A write batch's entries as (family id, key, value), sorted: two batches
// that write the same are equal whatever order they put them in (the
// account index entries come in hash-table order). Unlike a snapshot of
// the database, it also shows a key put twice.
std::vector<std::tuple<uint32_t, std::string, std::string>> BatchEntries(
    const rocksdb::WriteBatch& batch) {
  struct Collect : rocksdb::WriteBatch::Handler {
    std::vector<std::tuple<uint32_t, std::string, std::string>> entries;
    rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
      entries.emplace_back(cf, key.ToString(), value.ToString());
      return rocksdb::Status::OK();
    }
  } collect;
  EXPECT_TRUE(batch.Iterate(&collect).ok());
  std::sort(collect.entries.begin(), collect.entries.end());
  return collect.entries;
}

// The pipelined append stages a batch's index entries while the batch ahead
// of it is still being written (StageIndexEntries), and Seal then only
// hands it over: each sealed batch writes what Seal alone makes it write.
// A batch dropped after that stage leaves none of its entries for the next.
TEST(EventStoreTest, IndexEntriesStagedBeforeSealAreTheSealsOwn) {
  TempDir dir;
  // Each event's content is its id.
  const auto stage = [](EventStore& store, uint64_t seq, const std::string& id,
                        const std::string& account) {
    StageBareEvent(store, seq, id, account, id);
  };
  const auto write = [](EventStore& store, EventStore::SealedBatch* sealed) {
    ASSERT_TRUE(store.Write(sealed).ok());
    store.Written(sealed->head);
  };
  std::unique_ptr<EventStore> early = OpenBareStore(dir.Sub("early"));
  std::unique_ptr<EventStore> plain = OpenBareStore(dir.Sub("plain"));
  ASSERT_NE(early, nullptr);
  ASSERT_NE(plain, nullptr);

  // Batch 1, then batch 2 staged on top of it before it is written: the
  // early store stages batch 2's index entries in that window.
  EventStore::SealedBatch sealed[2][2];
  for (EventStore* store : {early.get(), plain.get()}) {
    const bool is_early = store == early.get();
    stage(*store, 1, "evt-b", "acct-2");
    stage(*store, 2, "evt-a", "acct-1");
    if (is_early) store->StageIndexEntries();
    sealed[is_early][0] = store->Seal();
    stage(*store, 3, "evt-c", "acct-1");
    if (is_early) store->StageIndexEntries();
    write(*store, &sealed[is_early][0]);
    sealed[is_early][1] = store->Seal();
    write(*store, &sealed[is_early][1]);
  }
  for (size_t batch = 0; batch < 2; ++batch) {
    SCOPED_TRACE(batch);
    EXPECT_EQ(BatchEntries(sealed[1][batch].batch), BatchEntries(sealed[0][batch].batch));
  }
  // Two log entries, two account index entries, two idempotency entries
  // and the head; then one of each but the head.
  EXPECT_EQ(BatchEntries(sealed[1][0].batch).size(), 7u);
  EXPECT_EQ(BatchEntries(sealed[1][1].batch).size(), 4u);

  stage(*early, 4, "evt-dropped", "acct-3");
  early->StageIndexEntries();
  early->Abort();
  stage(*early, 4, "evt-d", "acct-1");
  EventStore::SealedBatch after_abort = early->Seal();
  EXPECT_EQ(BatchEntries(after_abort.batch).size(), 4u);
  write(*early, &after_abort);
  Result<std::optional<IdempotencyEntry>> dropped = early->FindEventId("evt-dropped");
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_FALSE(dropped->has_value());
  Result<std::optional<IdempotencyEntry>> kept = early->FindEventId("evt-d");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->seq, 4u);
}

// Reuse keeps a given-back buffer for the batch after next (its capacity
// shows it), and ReleaseBatchBuffers lets it go.
TEST(EventStoreTest, ReuseKeepsTheBufferUntilReleased) {
  TempDir dir;
  std::unique_ptr<EventStore> opened = OpenBareStore(dir.Sub("store"));
  ASSERT_NE(opened, nullptr);
  EventStore& store = *opened;
  constexpr size_t kBufferBytes = 1 << 20;
  const auto seal_one = [&](const std::string& id) {
    StageBareEvent(store, store.pending_head().seq + 1, id, "acct-1", id);
    EventStore::SealedBatch sealed = store.Seal();
    EXPECT_TRUE(store.Write(&sealed).ok());
    store.Written(sealed.head);
    return sealed;
  };
  seal_one("evt-1");
  store.Reuse(rocksdb::WriteBatch(kBufferBytes));
  seal_one("evt-2");
  EXPECT_GE(seal_one("evt-3").batch.Data().capacity(), kBufferBytes);

  store.Reuse(rocksdb::WriteBatch(kBufferBytes));
  store.ReleaseBatchBuffers();
  EXPECT_LT(seal_one("evt-4").batch.Data().capacity(), kBufferBytes);
  EXPECT_LT(seal_one("evt-5").batch.Data().capacity(), kBufferBytes);
}

// A written batch given back (Reuse) is filled again two seals later: the
// batch sealed then holds its own entries only, none of the one before.
TEST(EventStoreTest, AReusedBatchHoldsOnlyItsOwnEntries) {
  TempDir dir;
  std::unique_ptr<EventStore> opened = OpenBareStore(dir.Sub("store"));
  ASSERT_NE(opened, nullptr);
  EventStore& store = *opened;
  const auto seal_and_write = [&](const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      StageBareEvent(store, store.pending_head().seq + 1, id, "acct-1", id);
    }
    EventStore::SealedBatch sealed = store.Seal();
    EXPECT_TRUE(store.Write(&sealed).ok());
    store.Written(sealed.head);
    const size_t entries = BatchEntries(sealed.batch).size();
    store.Reuse(std::move(sealed.batch));
    return entries;
  };
  // Per batch: a log and an idempotency entry per event, one account index
  // entry, the head.
  EXPECT_EQ(seal_and_write({"evt-1", "evt-2", "evt-3"}), 8u);
  EXPECT_EQ(seal_and_write({"evt-4"}), 4u);
  EXPECT_EQ(seal_and_write({"evt-5"}), 4u);  // in the first batch's buffer
  EXPECT_EQ(seal_and_write({"evt-6", "evt-7"}), 6u);
  for (const char* id : {"evt-1", "evt-5", "evt-7"}) {
    Result<std::optional<IdempotencyEntry>> entry = store.FindEventId(id);
    ASSERT_TRUE(entry.ok() && entry->has_value()) << id;
  }
  EXPECT_EQ(store.head().seq, 7u);
}

// An idempotency entry of the wrong size is damage: the append that reads it
// fails with Corruption (through the chunk's MultiGet) and stores nothing.
TEST(EventStoreTest, ADamagedIdempotencyEntryFailsTheAppend) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  AppendRows(*ledger, SetupRows());
  EventStore& store = ledger->store();
  rocksdb::WriteOptions synced;
  synced.sync = true;
  ASSERT_TRUE(store.db()
                  ->Put(synced, store.column_family("idempotency"), "adj-damaged",
                        std::string(internal::kIdempotencyValueBytes - 1, '\0'))
                  .ok());
  const std::string fine = AdjustmentLine("adj-fine", "acme");
  const std::string damaged = AdjustmentLine("adj-damaged", "acme");
  const std::vector<std::string_view> lines = {fine, damaged};
  std::vector<AppendResult> results;
  const Status status = ledger->AppendBatch(lines, &results);
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
  EXPECT_NE(status.message().find("adj-damaged"), std::string::npos) << status.ToString();
  EXPECT_EQ(ledger->head().seq, 4u);
  EXPECT_FALSE(HasEventId(store, "adj-fine"));
}

// The child half of CrashKeepsEveryAppendedEvent: appends, prints the seqs
// it was told were stored, and dies without closing anything. Runs only when
// the parent test starts it (it is disabled otherwise).
constexpr const char* kCrashDirEnv = "LEDGER_TEST_CRASH_DIR";

// Every account's events (the empty account: price events), from the log.
std::map<std::string, std::vector<uint64_t>> SeqsByAccount(const EventStore& store) {
  std::map<std::string, std::vector<uint64_t>> by_account;
  const Status scanned = store.ScanEvents(1, UINT64_MAX, [&](const Envelope& e) {
    by_account[e.account].push_back(e.seq);
    return true;
  });
  EXPECT_TRUE(scanned.ok()) << scanned.ToString();
  return by_account;
}

// A version-1 ledger: every account index entry rewritten as one key per
// event, and the format version set to 1.
void RewriteAsVersionOne(EventStore& store) {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.account_index_cf()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const std::string_view prefix = key.substr(0, key.size() - 8);
    const internal::IndexedSeqs seqs(ReadU64BE(key.substr(prefix.size())),
                                     it->value().ToStringView());
    ASSERT_TRUE(batch.Delete(store.account_index_cf(), key).ok());
    for (size_t i = 0; i < seqs.size(); ++i) {
      std::string one(prefix);
      AppendU64BE(seqs[i], &one);
      ASSERT_TRUE(batch.Put(store.account_index_cf(), one, "").ok());
    }
  }
  ASSERT_TRUE(it->status().ok());
  std::string version;
  AppendU32BE(1, &version);
  ASSERT_TRUE(batch.Put(store.meta_cf(), internal::kMetaFormatVersion, version).ok());
  ASSERT_TRUE(store.WriteSynced(&batch).ok());
}

uint32_t StoredFormatVersion(const EventStore& store) {
  std::string value;
  bool found = false;
  EXPECT_TRUE(store.Get(store.meta_cf(), internal::kMetaFormatVersion, &value, &found).ok());
  EXPECT_EQ(value.size(), 4u);
  return found && value.size() == 4 ? ReadU32BE(value) : 0;
}

// Each account's scan visits exactly its events, in order, and verify holds.
void ExpectIndexServesEveryAccount(EventStore& store) {
  const std::map<std::string, std::vector<uint64_t>> by_account = SeqsByAccount(store);
  for (const auto& [account, seqs] : by_account) {
    std::vector<uint64_t> visited;
    ASSERT_TRUE(store
                    .ScanAccountEvents(account, 1, UINT64_MAX,
                                       [&](const Envelope& e) {
                                         visited.push_back(e.seq);
                                         return true;
                                       })
                    .ok());
    EXPECT_EQ(visited, seqs) << "account '" << account << "'";
  }
  replay::AuditOptions options;
  options.projections = false;
  Result<replay::AuditReport> report = replay::Audit(store, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->failures.front().problem;
}

// Format version 2 files an account's events of a batch under one index
// entry; version 3 adds the rules version to event bodies. A version-1
// ledger (an entry per event) is read as it is, and marked 3 by its first
// append, in the same batch as its first new entries: opening or reading it
// leaves it to older binaries. A newer version is refused.
TEST(EventStoreTest, AVersionOneLedgerIsReadAsItIsAndMarkedByItsFirstAppend) {
  TempDir dir;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    AppendRows(*ledger, SetupRows());
    AppendRows(*ledger, {{AdjustmentLine("adj-1", "acme"), Appended(5)},
                         {AdjustmentLine("adj-2", "acme"), Appended(6)}});
    RewriteAsVersionOne(ledger->store());
  }
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    ExpectIndexServesEveryAccount(ledger->store());
    EXPECT_EQ(StoredFormatVersion(ledger->store()), 1u);
    AppendRows(*ledger, {{AdjustmentLine("adj-3", "acme"), Appended(7)},
                         {AdjustmentLine("adj-4", "acme"), Appended(8)}});
    EXPECT_EQ(StoredFormatVersion(ledger->store()), 4u);
    ExpectIndexServesEveryAccount(ledger->store());
  }
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    std::string value;
    AppendU32BE(5, &value);
    ASSERT_TRUE(ledger->store()
                    .db()
                    ->Put(rocksdb::WriteOptions(), ledger->store().meta_cf(),
                          internal::kMetaFormatVersion, value)
                    .ok());
  }
  LedgerOptions options;
  options.store.path = dir.path();
  Result<std::unique_ptr<Ledger>> refused = Ledger::Open(std::move(options));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "unsupported ledger format version 5");
  // Nor is a newer binary's ledger called damaged for lacking a family this
  // binary expects.
  ASSERT_NO_FATAL_FAILURE(store_test::DropColumnFamilyAt(dir.path(), "state"));
  LedgerOptions again;
  again.store.path = dir.path();
  refused = Ledger::Open(std::move(again));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "unsupported ledger format version 5");
}

// The pipelined append stages a batch's index entries before the batch
// ahead of it is written, so on a version-1 ledger both of a stream's first
// two batches put the version mark (the same value twice): the ledger ends
// marked 3 with every account's index whole.
TEST(EventStoreTest, AVersionOneLedgerStreamedIntoIsMarked) {
  TempDir dir;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    AppendRows(*ledger, SetupRows());
    RewriteAsVersionOne(ledger->store());
  }
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(StoredFormatVersion(ledger->store()), 1u);
  Status status;
  const std::vector<uint64_t> delivered = StreamLines(*ledger, ThreeAdjustmentBatches(), &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(delivered, (std::vector<uint64_t>{5, 6, 7, 8, 9}));
  EXPECT_EQ(StoredFormatVersion(ledger->store()), 4u);
  ExpectIndexServesEveryAccount(ledger->store());
}

std::vector<std::string> CrashLines() {
  std::vector<std::string> lines = {OpenLine("open-acme", "acme")};
  for (int i = 0; i < 300; ++i) lines.push_back(AdjustmentLine("adj-" + std::to_string(i), "acme"));
  return lines;
}

TEST(EventStoreCrashChild, DISABLED_AppendThenDie) {
  const char* dir = std::getenv(kCrashDirEnv);
  if (dir == nullptr) GTEST_SKIP() << "run by EventStoreTest.CrashKeepsEveryAppendedEvent";
  std::unique_ptr<Ledger> ledger = OpenLedger(dir);
  ASSERT_NE(ledger, nullptr);
  const std::vector<std::string> lines = CrashLines();
  // Three batches, so the crash follows several synced commits.
  for (size_t begin = 0; begin < lines.size(); begin += 128) {
    const std::vector<std::string> batch(
        lines.begin() + static_cast<long>(begin),
        lines.begin() + static_cast<long>(std::min(begin + 128, lines.size())));
    for (const AppendResult& r : Append(*ledger, batch)) {
      std::printf("%s %llu\n", r.outcome == AppendResult::Outcome::kAppended ? "appended" : "other",
                  static_cast<unsigned long long>(r.seq));
    }
  }
  std::printf("head %s\n", HexOf(ledger->head().hash).c_str());
  std::fflush(stdout);
  std::raise(SIGKILL);  // no destructor, no close: a crash
}

TEST(EventStoreTest, CrashKeepsEveryAppendedEvent) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  // A sharded run must not shard the child away from its one test.
  const std::vector<std::string> env = testing::EnvironmentWith(
      {std::string(kCrashDirEnv) + "=" + db},
      {"GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS", "GTEST_SHARD_STATUS_FILE", "GTEST_OUTPUT"});
  const ProcessResult child =
      RunProcess({"/proc/self/exe", "--gtest_also_run_disabled_tests",
                  "--gtest_filter=EventStoreCrashChild.DISABLED_AppendThenDie"},
                 dir, std::nullopt, &env);
  ASSERT_EQ(child.signal, SIGKILL) << "the child must die by SIGKILL\n" << child.out << child.err;

  // What the child was told.
  std::vector<uint64_t> appended;
  std::string head_hash;
  for (const std::string& line : SplitLines(child.out)) {
    if (line.rfind("appended ", 0) == 0) appended.push_back(std::stoull(line.substr(9)));
    if (line.rfind("other ", 0) == 0) ADD_FAILURE() << "the child's event was not appended";
    if (line.rfind("head ", 0) == 0) head_hash = line.substr(5);
  }
  const size_t count = CrashLines().size();
  ASSERT_EQ(appended.size(), count) << child.out << child.err;
  ASSERT_FALSE(head_hash.empty()) << child.out;

  // Everything it was told is there after the crash.
  std::unique_ptr<Ledger> ledger = OpenLedger(db);
  ASSERT_NE(ledger, nullptr);
  EXPECT_EQ(ledger->head().seq, count);
  EXPECT_EQ(HexOf(ledger->head().hash), head_hash);
  ExpectGaplessChain(*ledger, ledger->store(), count);
  std::vector<Row> resend;
  for (size_t i = 0; i < count; ++i) resend.push_back({CrashLines()[i], Duplicate(i + 1)});
  AppendRows(*ledger, resend);
  AppendRows(*ledger, {{AdjustmentLine("after-crash", "acme"), Appended(count + 1)}});
}

// ---------------------------------------------------------------------------
// Atomicity.

// A batch mixing rejected events (failing at every stage: parsing, the id,
// decoding, each kind of rule, against committed and against pending state),
// duplicates and one appended event changes the database exactly as that
// appended event alone does on an identical twin ledger.
class AtomicityTest : public ::testing::TestWithParam<bool> {
 protected:
  bool with_projections() const { return GetParam(); }
};

TEST_P(AtomicityTest, RejectedEventsLeaveNoTraceInAnyColumnFamily) {
  TempDir dir_mixed;
  TempDir dir_alone;
  std::unique_ptr<Ledger> mixed = OpenLedger(dir_mixed.path(), true, with_projections());
  std::unique_ptr<Ledger> alone = OpenLedger(dir_alone.path(), true, with_projections());
  ASSERT_NE(mixed, nullptr);
  ASSERT_NE(alone, nullptr);
  AppendRows(*mixed, SetupRows());
  AppendRows(*alone, SetupRows());
  ASSERT_EQ(Snapshot(mixed->store()), Snapshot(alone->store())) << "twins must start identical";

  const Row accepted = {
      TickLine("tick-2", "acme", "pc-1", "2026-04-02T10:00:00+08:00", "2026-04-02T11:00:00+08:00"),
      Appended(5)};
  const std::vector<Row> batch = {
      {R"({"type":"usage_recorded","event_id":"bad-json",)", Rejected(ErrorCode::kInvalidJson)},
      {R"({"type":"adjustment_posted","account":"acme"})", Rejected(ErrorCode::kMissingField)},
      {SetupRows()[3].line, Duplicate(4)},
      {TickLine("tick-1", "acme", "pc-1", "2026-04-02T09:00:00+08:00", "2026-04-02T09:30:00+08:00"),
       Rejected(ErrorCode::kEventIdConflict)},
      {R"({"type":"no_such_type","event_id":"rej-type","account":"acme","occurred_at":"2026-04-03T09:00:00+08:00"})",
       Rejected(ErrorCode::kUnknownType)},
      {R"({"type":"adjustment_posted","event_id":"rej-missing","account":"acme","occurred_at":"2026-04-03T09:00:00+08:00","amount":"-2.00"})",
       Rejected(ErrorCode::kMissingField)},
      {AdjustmentLine("rej-account", "acmee"), Rejected(ErrorCode::kUnknownAccount)},
      {TickLine("rej-overlap-stored", "acme", "pc-1", "2026-04-02T09:30:00+08:00",
                "2026-04-02T09:45:00+08:00"),
       Rejected(ErrorCode::kUsageOverlap)},
      accepted,
      {accepted.line, Duplicate(5)},  // identical to the pending event
      {TickLine("tick-2", "acme", "pc-1", "2026-04-02T10:00:00+08:00", "2026-04-02T10:59:59+08:00"),
       Rejected(ErrorCode::kEventIdConflict)},  // the pending event's id, other content
      {TickLine("rej-overlap-pending", "acme", "pc-1", "2026-04-02T10:30:00+08:00",
                "2026-04-02T11:30:00+08:00"),
       Rejected(ErrorCode::kUsageOverlap)},
      {PriceLine("rej-backdated", "private_cert/hour", "2026-04-02T10:00:00+08:00", "0.10"),
       Rejected(ErrorCode::kPriceBackdated)},
      {CertLine("rej-exists", "acme", "pc-1"), Rejected(ErrorCode::kResourceExists)},
      {R"({"type":"billing_mode_change_requested","event_id":"rej-mode","account":"acme","occurred_at":"2026-04-03T09:10:00+08:00","resource_id":"pc-1","billing_mode":"yearly_monthly"})",
       Rejected(ErrorCode::kBillingModeImmutable)},
      {R"({"type":"ssl_certificate_purchased","event_id":"rej-ssl-price","account":"acme","occurred_at":"2026-04-03T10:00:00+08:00","order_id":"PO-1","ca":"TrustAsia","cert_type":"DV","domain_type":"single","domains":1,"years":1})",
       Rejected(ErrorCode::kNoPrice)},
      {R"({"type":"resource_created","event_id":"rej-ca-price","account":"acme","occurred_at":"2026-04-03T10:00:00+08:00","resource_id":"ca-1","resource_type":"private_ca","ca_type":"root","billing_mode":"yearly_monthly","period_unit":"month","periods":1})",
       Rejected(ErrorCode::kNoPrice)},
      {R"({"type":"invoice_finalized","event_id":"rej-early","account":"acme","occurred_at":"2026-04-30T23:00:00+08:00","period":"2026-04"})",
       Rejected(ErrorCode::kPeriodNotEnded)},
      {R"({"type":"ssl_certificate_refunded","event_id":"rej-order","account":"acme","occurred_at":"2026-04-03T10:00:00+08:00","order_id":"PO-404"})",
       Rejected(ErrorCode::kUnknownOrder)},
      {R"({"type":"subscription_renewed","event_id":"rej-renew","account":"acme","occurred_at":"2026-04-03T10:00:00+08:00","resource_id":"pc-1","period_unit":"month","periods":1})",
       Rejected(ErrorCode::kBillingModeMismatch)},
  };

  const DbContents before = Snapshot(mixed->store());
  if (with_projections()) {
    EXPECT_GT(before.size(), 6u) << "the projections' column families must be in the snapshot";
  }
  AppendRows(*mixed, batch);
  const DbDiff mixed_diff = Diff(before, Snapshot(mixed->store()));
  AppendRows(*alone, {accepted});
  const DbDiff alone_diff = Diff(before, Snapshot(alone->store()));

  EXPECT_EQ(mixed_diff, alone_diff) << "with the rejected events:\n"
                                    << Describe(mixed_diff) << "the appended event alone:\n"
                                    << Describe(alone_diff);
  // What the appended event itself writes, named key by key.
  EXPECT_EQ(KeysOf(mixed_diff, rocksdb::kDefaultColumnFamilyName),
            std::vector<std::string>({std::string(internal::kMetaHead)}))
      << Describe(mixed_diff);
  EXPECT_EQ(KeysOf(mixed_diff, "log"), std::vector<std::string>({internal::LogKey(5)}));
  EXPECT_EQ(KeysOf(mixed_diff, "account_index"),
            std::vector<std::string>({internal::AccountIndexKey("acme", 5)}));
  EXPECT_EQ(KeysOf(mixed_diff, "idempotency"), std::vector<std::string>({"tick-2"}));
  for (const Row& row : batch) {
    if (row.expect.outcome != AppendResult::Outcome::kRejected) continue;
    const std::string_view line = row.line;
    const size_t at = line.find(R"("event_id":")");
    if (at == std::string_view::npos) continue;
    const size_t begin = at + 12;
    const std::string event_id(line.substr(begin, line.find('"', begin) - begin));
    if (event_id == "tick-1" || event_id == "tick-2") continue;  // stored as seqs 4 and 5
    EXPECT_FALSE(HasEventId(mixed->store(), event_id)) << event_id;
    EXPECT_FALSE(before.at("idempotency").contains(event_id));
  }
  ExpectSameHead(mixed->head(), alone->head());
  ExpectGaplessChain(*mixed, mixed->store(), 5);
}

// Sequence numbers stay gapless across batches whatever is rejected in
// between, and every event chains on the one before.
TEST(EventStoreTest, SeqsAreGaplessAcrossBatches) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path(), /*pinned_clock=*/false);
  ASSERT_NE(ledger, nullptr);
  std::vector<uint64_t> appended;
  uint64_t next = 1;
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<Row> rows;
    if (batch == 0) rows.push_back({OpenLine("open-acme", "acme"), Appended(next++)});
    for (int i = 0; i < 5 + batch; ++i) {
      const std::string id = "b" + std::to_string(batch) + "-" + std::to_string(i);
      if (i % 3 == 1) {
        rows.push_back({AdjustmentLine(id, "nobody"), Rejected(ErrorCode::kUnknownAccount)});
      } else if (i % 3 == 2) {
        rows.push_back({"{not json", Rejected(ErrorCode::kInvalidJson)});
      } else {
        rows.push_back({AdjustmentLine(id, "acme"), Appended(next++)});
      }
    }
    // A batch of nothing but rejections stores nothing, not even a head.
    rows.push_back({AdjustmentLine("rej-" + std::to_string(batch), "nobody"),
                    Rejected(ErrorCode::kUnknownAccount)});
    for (const AppendResult& r : AppendRows(*ledger, rows)) {
      if (r.outcome == AppendResult::Outcome::kAppended) appended.push_back(r.seq);
    }
    const Head head = ledger->head();
    AppendRows(*ledger, {{"[]", Rejected(ErrorCode::kInvalidJson)}});
    ExpectSameHead(ledger->head(), head);
  }
  std::vector<uint64_t> expected(next - 1);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  EXPECT_EQ(appended, expected);
  ExpectGaplessChain(*ledger, ledger->store(), next - 1);
}

// An empty batch is a no-op.
TEST(EventStoreTest, EmptyBatchStoresNothing) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  AppendRows(*ledger, SetupRows());
  const DbContents before = Snapshot(ledger->store());
  const Head head = ledger->head();
  EXPECT_TRUE(Append(*ledger, {}).empty());
  EXPECT_EQ(Snapshot(ledger->store()), before);
  ExpectSameHead(ledger->head(), head);
}

// The exception reaches the caller; the batch is not stored; the ledger,
// whose state in memory it may have left half changed, refuses appends with
// a Status until it is reopened, and then appends normally.
TEST(EventStoreTest, AnExceptionInsideAnAppendRefusesAppendsUntilReopened) {
  TempDir dir;
  FailingSink::Calls calls;
  std::unique_ptr<Ledger> ledger =
      OpenWithFailingSink(dir.path(), "adj-2", FailingSink::Failure::kThrow, &calls);
  ASSERT_NE(ledger, nullptr);
  const std::vector<std::string> lines = {AdjustmentLine("adj-1", "acme"),
                                          AdjustmentLine("adj-2", "acme")};
  const std::vector<std::string_view> views(lines.begin(), lines.end());
  std::vector<AppendResult> results;
  EXPECT_THROW(IgnoreError(ledger->AppendBatch(views, &results)), std::runtime_error);
  ExpectAppendsRefused(*ledger, views[0]);
  ledger.reset();

  std::unique_ptr<Ledger> reopened = OpenLedger(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->head().seq, 4u);
  AppendRows(*reopened, {{lines[0], Appended(5)}, {lines[1], Appended(6)}});
}

// In a stream the sink runs on the writing thread, just before its batch is
// written: its exception, midway through the batch, reaches the caller all
// the same, after the batches before, and nothing of its own batch is
// stored.
TEST(EventStoreTest, AnExceptionOnAStreamsWritingThreadRefusesAppendsUntilReopened) {
  TempDir dir;
  FailingSink::Calls calls;
  std::unique_ptr<Ledger> ledger =
      OpenWithFailingSink(dir.path(), "adj-4", FailingSink::Failure::kThrow, &calls);
  ASSERT_NE(ledger, nullptr);
  const std::vector<std::vector<std::string>> batches = ThreeAdjustmentBatches();
  ExpectStreamThrows(*ledger, batches, "sink failed");
  EXPECT_EQ(calls.applied, 4);  // adj-1 .. adj-4
  EXPECT_EQ(calls.committed, 1);
  EXPECT_EQ(calls.aborted, 1);
  ExpectAppendsRefused(*ledger, batches[0][0]);
  ledger.reset();

  std::unique_ptr<Ledger> reopened = OpenLedger(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->head().seq, 6u);
  AppendRows(*reopened, {{batches[1][0], Appended(7)}, {batches[0][0], Duplicate(5)}});
  ExpectGaplessChain(*reopened, reopened->store(), 7);
}

// An I/O error from the sink on the writing thread fails its batch and the
// one judged behind it, and nothing else: the batches before are stored,
// the sink is told to forget, and the ledger appends again.
TEST(EventStoreTest, ASinkErrorOnAStreamsWritingThreadDropsItsBatchOnly) {
  TempDir dir;
  FailingSink::Calls calls;
  std::unique_ptr<Ledger> ledger =
      OpenWithFailingSink(dir.path(), "adj-4", FailingSink::Failure::kIoError, &calls);
  ASSERT_NE(ledger, nullptr);
  const std::vector<std::vector<std::string>> batches = ThreeAdjustmentBatches();
  Status status;
  EXPECT_EQ(StreamLines(*ledger, batches, &status), (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(status.code(), Status::Code::kIoError);
  EXPECT_EQ(status.message(), "sink failed");
  EXPECT_EQ(calls.committed, 1);
  EXPECT_EQ(calls.aborted, 1);
  EXPECT_EQ(ledger->head().seq, 6u);

  EXPECT_EQ(StreamLines(*ledger, {batches[1], batches[2]}, &status),
            (std::vector<uint64_t>{7, 8, 9}));
  EXPECT_TRUE(status.ok()) << status.ToString();
  ExpectGaplessChain(*ledger, ledger->store(), 9);
}

// A batch that fails to commit leaves nothing in the rules' state: the
// resource and interval tables (with the entries they found last) go with
// it, so the hours its tick took are free again.
TEST(EventStoreTest, AnAbortedTickLeavesItsHoursFree) {
  TempDir dir;
  FailingSink::Calls calls;
  std::unique_ptr<Ledger> ledger =
      OpenWithFailingSink(dir.path(), "tick-lost", FailingSink::Failure::kIoError, &calls);
  ASSERT_NE(ledger, nullptr);
  AppendRows(*ledger, {{TickLine("tick-a", "acme", "pc-1", "2026-04-03T10:00:00+08:00",
                                 "2026-04-03T10:30:00+08:00"),
                        Appended(5)}});
  const std::string lost = TickLine("tick-lost", "acme", "pc-1", "2026-04-03T10:30:00+08:00",
                                    "2026-04-03T11:00:00+08:00");
  const std::string_view line = lost;
  std::vector<AppendResult> results;
  EXPECT_EQ(ledger->AppendBatch({&line, 1}, &results).code(), Status::Code::kIoError);
  EXPECT_EQ(calls.aborted, 1);
  AppendRows(*ledger, {{TickLine("tick-b", "acme", "pc-1", "2026-04-03T10:30:00+08:00",
                                 "2026-04-03T11:00:00+08:00"),
                        Appended(6)}});
  AppendRows(*ledger, {{TickLine("tick-c", "acme", "pc-1", "2026-04-03T10:45:00+08:00",
                                 "2026-04-03T11:15:00+08:00"),
                        Rejected(ErrorCode::kUsageOverlap)}});
  ExpectGaplessChain(*ledger, ledger->store(), 6);
}

// An exception from the ledger's own work on the judging thread (here its
// clock) is handled as one on the writing thread: rethrown, nothing of its
// batch stored, appends refused until the ledger is reopened.
TEST(EventStoreTest, AnExceptionOnAStreamsJudgingThreadRefusesAppendsUntilReopened) {
  TempDir dir;
  LedgerOptions options;
  int clock_calls = 0;
  options.clock_us = [&clock_calls]() -> int64_t {
    if (++clock_calls == 2) throw std::runtime_error("clock failed");
    return store_test::kClock_us;
  };
  std::unique_ptr<Ledger> ledger = ReopenAfterSetup(dir.path(), std::move(options));
  ASSERT_NE(ledger, nullptr);
  const std::vector<std::vector<std::string>> batches = ThreeAdjustmentBatches();
  ExpectStreamThrows(*ledger, batches, "clock failed");
  ExpectAppendsRefused(*ledger, batches[0][0]);
  ledger.reset();

  std::unique_ptr<Ledger> reopened = OpenLedger(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->head().seq, 6u);  // the first batch, written beside the second's judging
}

// A batch whose commit fails leaves nothing. The failure is real: the
// process may not grow any file past a limit (RLIMIT_FSIZE, enforced for
// root too), so RocksDB's write-ahead log write fails with EFBIG partway.
TEST_P(AtomicityTest, BatchThatFailsToCommitLeavesNothing) {
  TempDir dir;
  std::vector<std::string> failing;
  for (int i = 0; i < 4000; ++i) {
    failing.push_back(AdjustmentLine("big-" + std::to_string(i), "acme"));
  }
  Head head_before;
  DbContents contents_before;
  uint64_t stored = 4;  // events on disk when the failing ledger closes
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path(), true, with_projections());
    ASSERT_NE(ledger, nullptr);
    AppendRows(*ledger, SetupRows());
    head_before = ledger->head();
    contents_before = Snapshot(ledger->store());

    uintmax_t largest_bytes = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.is_regular_file()) largest_bytes = std::max(largest_bytes, entry.file_size());
    }
    rlimit saved{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit limited = saved;
    limited.rlim_cur = static_cast<rlim_t>(largest_bytes + 64 * 1024);
    ASSERT_LT(limited.rlim_cur, 1u << 20) << "the failing batch must outgrow the limit";
    // Nothing between here and the restore may write to a regular file,
    // the test's own output included.
    const sighandler_t saved_handler = std::signal(SIGXFSZ, SIG_IGN);
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
    std::vector<std::string_view> views(failing.begin(), failing.end());
    std::vector<AppendResult> results;
    const Status status = ledger->AppendBatch(views, &results);
    const int restored = setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, saved_handler);
    ASSERT_EQ(restored, 0);

    ASSERT_FALSE(status.ok()) << "the file size limit did not make the commit fail";
    EXPECT_EQ(status.code(), Status::Code::kIoError) << status.ToString();
    ExpectSameHead(ledger->head(), head_before);
    EXPECT_EQ(StoredEvents(ledger->store()).size(), 4u);
    EXPECT_FALSE(HasEventId(ledger->store(), "big-0"));
    EXPECT_EQ(Snapshot(ledger->store()), contents_before);

    // ledger.h says the Ledger stays usable after a failed batch. RocksDB
    // refuses writes after a failed log write until the database is
    // reopened, so the next batch may fail as well; either way it must store
    // all or nothing, under the next seqs.
    std::vector<std::string_view> retry_views = {failing[0], failing[1]};
    std::vector<AppendResult> retry;
    const Status retry_status = ledger->AppendBatch(retry_views, &retry);
    if (retry_status.ok()) {
      ExpectOutcomes({{failing[0], Appended(5)}, {failing[1], Appended(6)}}, retry);
      stored = 6;
    } else {
      std::printf("note: the same Ledger still fails after the limit is lifted: %s\n",
                  retry_status.ToString().c_str());
      ExpectSameHead(ledger->head(), head_before);
      EXPECT_EQ(Snapshot(ledger->store()), contents_before);
    }
  }

  // After reopening (RocksDB recovers from a log with a torn tail) the
  // failed batch is nowhere, and its events can be appended anew.
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path(), true, with_projections());
  ASSERT_NE(ledger, nullptr);
  ExpectGaplessChain(*ledger, ledger->store(), stored);
  if (stored == 4) {
    ExpectSameHead(ledger->head(), head_before);
    EXPECT_EQ(Snapshot(ledger->store()), contents_before);
    AppendRows(*ledger, {{failing[0], Appended(5)}, {failing[1], Appended(6)}});
  } else {
    AppendRows(*ledger, {{failing[0], Duplicate(5)}, {failing[1], Duplicate(6)}});
  }
  EXPECT_FALSE(HasEventId(ledger->store(), "big-2"));
  AppendRows(*ledger, {{failing[2], Appended(7)}});
  ExpectGaplessChain(*ledger, ledger->store(), 7);
}

INSTANTIATE_TEST_SUITE_P(Store, AtomicityTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "WithProjections" : "EventStoreOnly");
                         });

// ---------------------------------------------------------------------------
// A long generated workload.

struct WorkloadCase {
  const char* name;
  uint32_t accounts;
  int64_t tick_s;
};

// Names the case in test listings (instead of its bytes).
void PrintTo(const WorkloadCase& c, std::ostream* os) { *os << c.name; }

class WorkloadTest : public ::testing::TestWithParam<WorkloadCase> {};

// The generator produces only valid events: every one must be appended.
TEST_P(WorkloadTest, EveryGeneratedEventIsAppended) {
  constexpr uint64_t kEvents = 20'000;
  bench::WorkloadOptions options;
  options.events = kEvents;
  options.accounts = GetParam().accounts;
  options.tick_s = GetParam().tick_s;
  std::vector<std::string> lines;
  bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
  ASSERT_EQ(lines.size(), kEvents);

  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path(), /*pinned_clock=*/false);
  ASSERT_NE(ledger, nullptr);
  uint64_t appended = 0;
  std::optional<std::string> first_problem;
  for (size_t begin = 0; begin < lines.size(); begin += kAppendBatchEventsMax) {
    const size_t end = std::min(begin + kAppendBatchEventsMax, lines.size());
    std::vector<std::string_view> views(lines.begin() + static_cast<long>(begin),
                                        lines.begin() + static_cast<long>(end));
    std::vector<AppendResult> results;
    const Status status = ledger->AppendBatch(views, &results);
    ASSERT_TRUE(status.ok()) << status.ToString();
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].outcome == AppendResult::Outcome::kAppended &&
          results[i].seq == appended + 1) {
        ++appended;
      } else if (!first_problem) {
        first_problem = "line " + std::to_string(begin + i + 1) + ": " + Describe(results[i]) +
                        "\n  " + lines[begin + i];
      }
    }
  }
  EXPECT_EQ(appended, kEvents) << "first event not appended in order: "
                               << first_problem.value_or("(none)");
  ExpectGaplessChain(*ledger, ledger->store(), appended);
}

INSTANTIATE_TEST_SUITE_P(Generated, WorkloadTest,
                         ::testing::Values(WorkloadCase{"FiveMinuteTicks", 3, 300},
                                           WorkloadCase{"HourlyTicksAcrossMonths", 3, 3600}),
                         [](const ::testing::TestParamInfo<WorkloadCase>& info) {
                           return std::string(info.param.name);
                         });

// Families beyond the store's own are made together: the missing ones in
// one call, the existing ones returned as they are, all in the order asked;
// they outlive a reopen like any other.
TEST(EventStoreTest, CreateColumnFamiliesMakesTheMissingOnesAndKeepsTheOrder) {
  TempDir dir;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    EventStore& store = ledger->store();
    Result<rocksdb::ColumnFamilyHandle*> first = store.CreateColumnFamily("extra_b");
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    Result<std::vector<rocksdb::ColumnFamilyHandle*>> made =
        store.CreateColumnFamilies({"extra_a", "extra_b", "extra_c", "extra_a"});
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    ASSERT_EQ(made->size(), 4u);
    EXPECT_EQ((*made)[0]->GetName(), "extra_a");
    EXPECT_EQ((*made)[1], *first);  // the existing handle, not a second one
    EXPECT_EQ((*made)[2]->GetName(), "extra_c");
    EXPECT_EQ((*made)[3], (*made)[0]);  // a name given twice is made once
    ASSERT_TRUE(store.db()->Put(rocksdb::WriteOptions(), (*made)[2], "k", "v").ok());
  }
  std::vector<std::string> listed;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &listed).ok());
  for (const char* name : {"log", "idempotency", "extra_a", "extra_b", "extra_c"}) {
    EXPECT_EQ(std::count(listed.begin(), listed.end(), name), 1) << name;
  }
}

// Families are dropped together too: the named ones that exist, in one
// call; a name with no family is passed over, and the others stay, also
// after a reopen.
TEST(EventStoreTest, DropColumnFamiliesDropsTheNamedOnesThatExist) {
  TempDir dir;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
    ASSERT_NE(ledger, nullptr);
    EventStore& store = ledger->store();
    ASSERT_TRUE(store.CreateColumnFamilies({"extra_a", "extra_b", "extra_c"}).ok());
    const Status dropped = store.DropColumnFamilies({"extra_c", "never_made", "extra_a"});
    ASSERT_TRUE(dropped.ok()) << dropped.ToString();
    EXPECT_EQ(store.column_family("extra_a"), nullptr);
    EXPECT_EQ(store.column_family("extra_c"), nullptr);
    ASSERT_NE(store.column_family("extra_b"), nullptr);
    EXPECT_TRUE(store.DropColumnFamilies({"never_made"}).ok());  // nothing to drop
  }
  std::vector<std::string> listed;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &listed).ok());
  EXPECT_EQ(std::count(listed.begin(), listed.end(), "extra_b"), 1);
  for (const char* name : {"extra_a", "extra_c", "never_made"}) {
    EXPECT_EQ(std::count(listed.begin(), listed.end(), name), 0) << name;
  }
  std::unique_ptr<Ledger> reopened = OpenLedger(dir.path());
  ASSERT_NE(reopened, nullptr);
  EXPECT_NE(reopened->store().column_family("extra_b"), nullptr);
}

// `ledger append` flushes the memtables before it exits only when they hold
// more than a threshold: a large append spares the next open its WAL replay,
// a small one leaves no tiny table files.
TEST(EventStoreTest, FlushMemtablesOverFlushesOnlyAboveTheThreshold) {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  AppendRows(*ledger, SetupRows());
  const auto memtable_bytes = [&] {
    uint64_t bytes = 0;
    EXPECT_TRUE(ledger->store().db()->GetAggregatedIntProperty(
        rocksdb::DB::Properties::kCurSizeAllMemTables, &bytes));
    return bytes;
  };
  const auto flushed_files = [&] {
    std::vector<rocksdb::LiveFileMetaData> files;
    ledger->store().db()->GetLiveFilesMetaData(&files);
    return files.size();
  };
  const uint64_t before = memtable_bytes();
  ASSERT_TRUE(ledger->store().FlushMemtablesOver(before).ok());
  EXPECT_EQ(flushed_files(), 0u);  // not above the threshold: nothing written
  ASSERT_TRUE(ledger->store().FlushMemtablesOver(before - 1).ok());
  EXPECT_GT(flushed_files(), 0u);
  EXPECT_LT(memtable_bytes(), before);
  // Every family's flush is over when it returns, though scheduled together.
  for (const std::string& name : ledger->store().ColumnFamilyNames()) {
    rocksdb::ColumnFamilyHandle* family = ledger->store().column_family(name);
    uint64_t active_entries = 1;
    uint64_t immutable_memtables = 1;
    ASSERT_TRUE(ledger->store().db()->GetIntProperty(
        family, rocksdb::DB::Properties::kNumEntriesActiveMemTable, &active_entries));
    ASSERT_TRUE(ledger->store().db()->GetIntProperty(
        family, rocksdb::DB::Properties::kNumImmutableMemTable, &immutable_memtables));
    EXPECT_EQ(active_entries, 0u) << name;
    EXPECT_EQ(immutable_memtables, 0u) << name;
  }
  ExpectGaplessChain(*ledger, ledger->store(), 4);
}

// ---------------------------------------------------------------------------
// The pipelined append (Ledger::AppendStream) judges a batch while the one
// before is written: it must store exactly what one AppendBatch per batch
// stores, and answer re-sends of events still in flight as duplicates.

// Generated batches of 1,000 lines; every third batch also re-sends three
// lines of the batch before (still being written when it is judged), one of
// them with other content.
std::vector<std::vector<std::string>> StreamBatches() {
  bench::WorkloadOptions options;
  options.events = 9'000;
  options.accounts = 4;
  std::vector<std::string> lines;
  bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
  std::vector<std::vector<std::string>> batches;
  for (size_t begin = 0; begin < lines.size(); begin += 1'000) {
    batches.emplace_back(lines.begin() + static_cast<long>(begin),
                         lines.begin() + static_cast<long>(std::min(begin + 1'000, lines.size())));
    if (batches.size() % 3 != 0) continue;
    const std::vector<std::string>& before = batches[batches.size() - 2];
    std::vector<std::string>& batch = batches.back();
    batch.push_back(before[10]);
    batch.push_back(before[500]);
    std::string conflicting = before[900];
    conflicting.insert(conflicting.size() - 1, R"(,"extra":1)");
    batch.push_back(conflicting);
  }
  return batches;
}

TEST(AppendStreamTest, StoresWhatOneAppendBatchPerBatchStores) {
  const std::vector<std::vector<std::string>> batches = StreamBatches();
  // Frequent snapshots: many are taken in a batch whose projection writes
  // are still held in the stores, not yet in RocksDB, and must read them
  // all the same.
  projections::ProjectionOptions frequent;
  frequent.snapshots.interval_events = 100;
  TempDir batch_dir;
  TempDir stream_dir;
  std::vector<AppendResult> batch_results;
  {
    std::unique_ptr<Ledger> ledger = OpenLedger(batch_dir.path(), true, true, frequent);
    ASSERT_NE(ledger, nullptr);
    for (const std::vector<std::string>& batch : batches) {
      const std::vector<AppendResult> results = Append(*ledger, batch);
      batch_results.insert(batch_results.end(), results.begin(), results.end());
    }
  }
  std::vector<AppendResult> stream_results;
  std::unique_ptr<Ledger> ledger = OpenLedger(stream_dir.path(), true, true, frequent);
  ASSERT_NE(ledger, nullptr);
  size_t next = 0;
  const Status status = ledger->AppendStream(
      [&](std::vector<std::string_view>* lines) {
        if (next == batches.size()) return false;
        for (const std::string& line : batches[next]) lines->push_back(line);
        ++next;
        return true;
      },
      [&](std::span<const AppendResult> results) {
        stream_results.insert(stream_results.end(), results.begin(), results.end());
      });
  ASSERT_TRUE(status.ok()) << status.ToString();

  ASSERT_EQ(stream_results.size(), batch_results.size());
  size_t duplicates = 0;
  size_t conflicts = 0;
  for (size_t i = 0; i < stream_results.size(); ++i) {
    EXPECT_EQ(Describe(stream_results[i]), Describe(batch_results[i])) << "result " << i;
    duplicates += stream_results[i].outcome == AppendResult::Outcome::kDuplicate;
    conflicts += stream_results[i].outcome == AppendResult::Outcome::kRejected &&
                 stream_results[i].error.code == ErrorCode::kEventIdConflict;
  }
  EXPECT_EQ(duplicates, 6u);  // two in each of batches 3, 6 and 9
  EXPECT_EQ(conflicts, 3u);
  EXPECT_EQ(ledger->head().seq, 9'000u);
  ExpectGaplessChain(*ledger, ledger->store(), 9'000);
  std::unique_ptr<Ledger> batch_ledger = OpenLedger(batch_dir.path(), true, true, frequent);
  ASSERT_NE(batch_ledger, nullptr);
  const DbContents stream_contents = Snapshot(ledger->store());
  const DbDiff diff = Diff(Snapshot(batch_ledger->store()), stream_contents);
  EXPECT_TRUE(diff.empty()) << Describe(diff);
  size_t snapshots = 0;
  for (const auto& [key, value] : stream_contents.at("proj_snapshots")) snapshots += key[0] == 's';
  EXPECT_GE(snapshots, 40u);  // 9,000 events of 4 accounts, one every 100 or more
}

// An account's events are filed one index entry per account and batch: a
// scan of any range of seqs, its ends inside entries or between them,
// visits exactly the account's events of the range, in order.
TEST(AccountScanTest, VisitsTheAccountsEventsOfAnyRange) {
  bench::WorkloadOptions options;
  options.events = 3'000;
  options.accounts = 3;
  std::vector<std::string> lines;
  bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
  TempDir dir;
  std::unique_ptr<Ledger> ledger = OpenLedger(dir.path());
  ASSERT_NE(ledger, nullptr);
  for (size_t begin = 0; begin < lines.size(); begin += 700) {
    const size_t end = std::min(begin + 700, lines.size());
    Append(*ledger, std::vector<std::string>(lines.begin() + static_cast<long>(begin),
                                             lines.begin() + static_cast<long>(end)));
  }
  const EventStore& store = ledger->store();
  const std::map<std::string, std::vector<uint64_t>> by_account = SeqsByAccount(store);
  ASSERT_EQ(by_account.size(), 4u);  // three accounts and the price events
  const uint64_t head = ledger->head().seq;
  // Seqs 950 and 2222 fall inside batches, so inside each account's entry.
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = {
      {1, UINT64_MAX},        {2, head},  {700, 701}, {701, 1400}, {950, 2222}, {head, head},
      {head + 1, UINT64_MAX}, {2222, 950}};
  size_t entries = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.account_index_cf()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++entries;
  EXPECT_LE(entries, 4u * 5);  // an entry per account and batch, not per event
  for (const auto& [account, seqs] : by_account) {
    for (const auto& [from, to] : ranges) {
      std::vector<uint64_t> expected;
      for (const uint64_t seq : seqs) {
        if (seq >= from && seq <= to) expected.push_back(seq);
      }
      std::vector<uint64_t> visited;
      ASSERT_TRUE(store
                      .ScanAccountEvents(account, from, to,
                                         [&](const Envelope& e) {
                                           EXPECT_EQ(e.account, account);
                                           visited.push_back(e.seq);
                                           return true;
                                         })
                      .ok());
      EXPECT_EQ(visited, expected) << "account '" << account << "' [" << from << ", " << to << "]";
    }
    // A visitor that stops after its third event gets exactly three.
    std::vector<uint64_t> stopped;
    ASSERT_TRUE(store
                    .ScanAccountEvents(account, 950, UINT64_MAX,
                                       [&](const Envelope& e) {
                                         stopped.push_back(e.seq);
                                         return stopped.size() < 3;
                                       })
                    .ok());
    const auto first = std::lower_bound(seqs.begin(), seqs.end(), 950);
    const auto last = first + std::min<std::ptrdiff_t>(3, seqs.end() - first);
    EXPECT_EQ(stopped, std::vector<uint64_t>(first, last)) << "account '" << account << "'";
  }
  bool visited_any = false;
  ASSERT_TRUE(store
                  .ScanAccountEvents("nobody", 1, UINT64_MAX,
                                     [&](const Envelope&) { return !(visited_any = true); })
                  .ok());
  EXPECT_FALSE(visited_any);
}

// ---------------------------------------------------------------------------
// Long scans decode ahead on a second thread; they must visit exactly what a
// one-thread scan visits, stop where asked and report damage at its seq.

class LongScanTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kEvents = 12'000;

  void SetUp() override {
    bench::WorkloadOptions options;
    options.events = kEvents;
    options.accounts = 5;
    std::vector<std::string> lines;
    bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
    ledger_ = OpenLedger(dir_.path());
    ASSERT_NE(ledger_, nullptr);
    for (size_t begin = 0; begin < lines.size(); begin += kAppendBatchEventsMax) {
      const size_t end = std::min(begin + kAppendBatchEventsMax, lines.size());
      Append(*ledger_, std::vector<std::string>(lines.begin() + static_cast<long>(begin),
                                                lines.begin() + static_cast<long>(end)));
    }
    ASSERT_EQ(ledger_->head().seq, kEvents);
  }

  // The seqs a scan of [from, to] visits, stopping after `stop_at`.
  std::vector<uint64_t> Visited(uint64_t from, uint64_t to, Status* status,
                                uint64_t stop_at = UINT64_MAX) {
    std::vector<uint64_t> seqs;
    *status = ledger_->store().ScanEvents(from, to, [&](const Envelope& envelope) {
      seqs.push_back(envelope.seq);
      return envelope.seq != stop_at;
    });
    return seqs;
  }

  static std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
    std::vector<uint64_t> seqs;
    for (uint64_t seq = from; seq <= to; ++seq) seqs.push_back(seq);
    return seqs;
  }

  TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LongScanTest, VisitsEveryEventInOrder) {
  Status status;
  EXPECT_EQ(Visited(1, UINT64_MAX, &status), Range(1, kEvents));
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Visited(100, 9'000, &status), Range(100, 9'000));
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(LongScanTest, StopsWhereTheVisitorSaysSo) {
  Status status;
  EXPECT_EQ(Visited(1, UINT64_MAX, &status, /*stop_at=*/5'000), Range(1, 5'000));
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(LongScanTest, AVisitorsExceptionStopsTheReaderAndLeavesTheStoreUsable) {
  std::vector<uint64_t> seqs;
  EXPECT_THROW(
      {
        const Status status = ledger_->store().ScanEvents(1, UINT64_MAX, [&](const Envelope& e) {
          if (e.seq == 5'000) throw std::runtime_error("visitor failed");
          seqs.push_back(e.seq);
          return true;
        });
        ADD_FAILURE() << "the scan returned " << status.ToString();
      },
      std::runtime_error);
  EXPECT_EQ(seqs, Range(1, 4'999));
  Status status;
  EXPECT_EQ(Visited(1, UINT64_MAX, &status), Range(1, kEvents));
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(LongScanTest, DamagedEventEndsTheScanAtItsSeq) {
  EventStore& store = ledger_->store();
  ASSERT_TRUE(
      store.db()
          ->Put(rocksdb::WriteOptions(), store.log_cf(), internal::LogKey(7'000), "not an event")
          .ok());
  Status status;
  EXPECT_EQ(Visited(1, UINT64_MAX, &status), Range(1, 6'999));
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
  EXPECT_NE(status.message().find("event 7000"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace ledger
