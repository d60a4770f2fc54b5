// Per-account projection snapshots (projections/snapshot_projection.h):
// historical answers from a snapshot and a tail equal full replays from seq
// 1, byte for byte, at every kind of seq; snapshot positions do not depend on
// batching and a rebuild reproduces them; the counter and the snapshot
// survive failed commits and power losses together; a ledger without
// snapshots catches up; verify names an altered snapshot or counter.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "bench/workload.h"
#include "fault_injected_ledger.h"
#include "ledger/bytes.h"
#include "process_util.h"
#include "projection_test_util.h"
#include "projections/internal/records.h"
#include "projections/snapshot_projection.h"
#include "replay/audit.h"
#include "replay/rebuild.h"

namespace ledger {
namespace {

using projection_test::Dump;
using projection_test::TestBook;

constexpr uint64_t kInterval = 50;  // account events between snapshots

// A fixed interval: the growth with snapshot size is switched off, so that
// every account gets many snapshots.
projections::ProjectionOptions SmallSnapshots() {
  projections::ProjectionOptions options;
  options.snapshots.interval_events = kInterval;
  options.snapshots.bytes_per_event = UINT64_MAX;
  return options;
}

const std::vector<std::string> kAccounts = {"acct-00000", "acct-00001", "acct-00002"};

// Three accounts over several months, with finalized months, renewals,
// deletions, SSL purchases and refunds; the last usage tick of a month is
// moved after that month's finalization, so it lands late (late_from).
std::vector<std::string> Stream() {
  bench::WorkloadOptions options;
  options.events = 4000;
  options.accounts = 3;
  options.certs_per_account = 2;
  options.tick_s = 6 * 3600;
  std::vector<std::string> lines;
  bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("\"invoice_finalized\"") == std::string::npos) continue;
    const size_t account_at = lines[i].find("\"account\":\"");
    const std::string account = lines[i].substr(account_at, 24);
    for (size_t j = i; j-- > 0 && i - j < 20;) {
      if (lines[j].find("\"usage_recorded\"") != std::string::npos &&
          lines[j].find(account) != std::string::npos) {
        std::rotate(lines.begin() + static_cast<long>(j), lines.begin() + static_cast<long>(j) + 1,
                    lines.begin() + static_cast<long>(i) + 1);
        break;
      }
    }
  }
  return lines;
}

// Appends `lines` in seeded-random batch sizes of 1 to 300; every event must
// be stored.
void AppendAll(TestBook& book, const std::vector<std::string>& lines, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t begin = 0; begin < lines.size();) {
    const size_t size = 1 + rng() % 300;
    const std::vector<std::string> batch(
        lines.begin() + static_cast<long>(begin),
        lines.begin() + static_cast<long>(std::min(lines.size(), begin + size)));
    for (const AppendResult& result : book.Append(batch)) {
      ASSERT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
    }
    begin += size;
  }
}

rocksdb::ColumnFamilyHandle* SnapshotsFamily(const EventStore& store) {
  Result<uint64_t> generation = projections::CurrentGeneration(store);
  EXPECT_TRUE(generation.ok());
  return store.column_family(projections::FamilyName(projections::kSnapshotsFamily, *generation));
}

// Writes `value` at `key` of the current proj_snapshots family, as a hand
// tampering with the ledger would.
rocksdb::Status PutInSnapshots(const EventStore& store, std::string_view key,
                               std::string_view value) {
  return store.db()->Put(rocksdb::WriteOptions(), SnapshotsFamily(store), key, value);
}

// The whole proj_snapshots family, checkpoint aside.
std::map<std::string, std::string> DumpSnapshots(const EventStore& store) {
  return Dump(projections::RocksKvReader(store.db(), SnapshotsFamily(store)));
}

// The seqs of the account's snapshots, in order.
std::vector<uint64_t> SnapshotSeqs(const EventStore& store, const std::string& account) {
  const std::string prefix = projections::internal::SnapshotPrefix(account);
  std::vector<uint64_t> seqs;
  const Status scanned = projections::RocksKvReader(store.db(), SnapshotsFamily(store))
                             .Scan(prefix, projections::internal::PrefixEnd(prefix),
                                   [&](std::string_view key, std::string_view) {
                                     seqs.push_back(ReadU64BE(key.substr(prefix.size())));
                                     return true;
                                   });
  EXPECT_TRUE(scanned.ok());
  return seqs;
}

using FamilyDumps = std::vector<std::map<std::string, std::string>>;

FamilyDumps Historical(const EventStore& store, const std::string& account, uint64_t seq,
                       bool use_snapshots, uint64_t* snapshot_seq = nullptr) {
  Result<std::unique_ptr<projections::HistoricalProjections>> built =
      projections::HistoricalProjections::Build(store, account, seq,
                                                {.use_snapshots = use_snapshots});
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  if (!built.ok()) return {};
  if (snapshot_seq != nullptr) *snapshot_seq = (*built)->snapshot_seq();
  const projections::ProjectionReaders readers = (*built)->readers();
  return {Dump(*readers.usage), Dump(*readers.invoices), Dump(*readers.subscriptions)};
}

// The seqs to compare at for `account`: each snapshot, one before and one
// after it, before the first, seq 1 and the head, and `random_count` seeded
// random ones.
std::vector<uint64_t> SeqsToCheck(const std::vector<uint64_t>& snapshots, uint64_t head,
                                  uint64_t seed, int random_count) {
  std::vector<uint64_t> seqs = {1, head, head - 1};
  if (!snapshots.empty()) seqs.push_back(snapshots.front() / 2);
  for (const uint64_t seq : snapshots) {
    seqs.insert(seqs.end(), {seq - 1, seq, std::min(head, seq + 1)});
  }
  std::mt19937_64 rng(seed);
  for (int i = 0; i < random_count; ++i) seqs.push_back(1 + rng() % head);
  return seqs;
}

replay::AuditReport AuditWithoutProjectionSet(TestBook& book) {
  book.Reopen(/*with_projections=*/false);
  Result<replay::AuditReport> report = replay::Audit(book.ledger().store(), {});
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? *report : replay::AuditReport{};
}

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() : book_(SmallSnapshots()) {}
  void SetUp() override { AppendAll(book_, Stream(), /*seed=*/7); }

  const EventStore& store() { return book_.ledger().store(); }

  TestBook book_;
};

TEST_F(SnapshotTest, AnswersFromSnapshotsEqualFullReplays) {
  const uint64_t head = book_.ledger().head().seq;
  bool late_lines = false;
  for (const std::string& account : kAccounts) {
    const std::vector<uint64_t> snapshots = SnapshotSeqs(store(), account);
    ASSERT_GE(snapshots.size(), 15u) << account;
    for (const uint64_t seq : SeqsToCheck(snapshots, head, /*seed=*/11, /*random_count=*/40)) {
      uint64_t snapshot_seq = 0;
      const FamilyDumps from_snapshot = Historical(store(), account, seq, true, &snapshot_seq);
      EXPECT_EQ(from_snapshot, Historical(store(), account, seq, false))
          << account << " as of seq " << seq << " from the snapshot at " << snapshot_seq;
      // The newest snapshot at or before the seq was the one used.
      const auto newer = std::upper_bound(snapshots.begin(), snapshots.end(), seq);
      EXPECT_EQ(snapshot_seq, newer == snapshots.begin() ? 0 : *std::prev(newer)) << seq;
      if (from_snapshot.size() != 3) continue;
      for (const auto& [key, value] : from_snapshot[1]) {
        late_lines |= key[0] == projections::internal::kTagUsageLine &&
                      ReadU32BE(std::string_view(key).substr(key.size() - 4)) != 0;
      }
    }
  }
  EXPECT_TRUE(late_lines) << "the stream should produce late usage lines";
}

TEST_F(SnapshotTest, SnapshotsSitAtTheIntervalWhateverTheBatching) {
  // Appended one event per batch, the snapshots are the same bytes at the
  // same keys as those of the random batches.
  TestBook one_by_one(SmallSnapshots());
  const std::vector<std::string> lines = Stream();
  for (const std::string& line : lines) one_by_one.Append({line});
  EXPECT_EQ(DumpSnapshots(one_by_one.ledger().store()), DumpSnapshots(store()));
  // Each account's snapshots follow its kInterval-th, 2·kInterval-th, ... event.
  for (const std::string& account : kAccounts) {
    std::vector<uint64_t> expected;
    uint64_t events = 0;
    ASSERT_TRUE(store()
                    .ScanAccountEvents(account, 1, UINT64_MAX,
                                       [&](const Envelope& e) {
                                         if (++events % kInterval == 0) expected.push_back(e.seq);
                                         return true;
                                       })
                    .ok());
    EXPECT_EQ(SnapshotSeqs(store(), account), expected) << account;
  }
}

TEST_F(SnapshotTest, AReplayRebuildsTheSameSnapshots) {
  const auto before = DumpSnapshots(store());
  book_.Reopen(/*with_projections=*/false);
  replay::RebuildOptions options;
  options.batch_events_max = 37;  // batches that cut across the appends' batches
  options.snapshot_options = SmallSnapshots().snapshots;
  Result<replay::RebuildResult> rebuilt = replay::Rebuild(book_.ledger().store(), options);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(*projections::CurrentGeneration(store()), 1u);
  EXPECT_EQ(DumpSnapshots(store()), before);
  ASSERT_EQ(rebuilt->digests.size(), 4u);
  EXPECT_EQ(rebuilt->digests[3].family, "proj_snapshots");
  EXPECT_TRUE(AuditWithoutProjectionSet(book_).ok());
}

TEST_F(SnapshotTest, AnUntouchedLedgerVerifies) {
  const replay::AuditReport report = AuditWithoutProjectionSet(book_);
  EXPECT_TRUE(report.ok()) << (report.failures.empty() ? "" : report.failures[0].problem);
}

// Rewrites the value of the `index`-th entry of a snapshot (its first byte).
std::string AlterEntry(std::string_view snapshot, size_t index) {
  std::string altered(1, static_cast<char>(projections::kSnapshotFormatV1));
  size_t at = 0;
  EXPECT_TRUE(projections::ForEachSnapshotEntry(
                  snapshot, 3,
                  [&](uint8_t family, std::string_view key, std::string_view value) {
                    std::string copy(value);
                    if (at++ == index) copy[0] ^= 0x01;
                    projections::AppendSnapshotEntry(family, key, copy, &altered);
                    return true;
                  })
                  .ok());
  return altered;
}

TEST_F(SnapshotTest, VerifyNamesAnAlteredSnapshotByAccountAndSeq) {
  const std::string account = kAccounts[1];
  const std::vector<uint64_t> snapshots = SnapshotSeqs(store(), account);
  const uint64_t seq = snapshots[snapshots.size() / 2];
  const std::string key = projections::internal::SnapshotKey(account, seq);
  std::string value;
  bool found = false;
  ASSERT_TRUE(store().Get(SnapshotsFamily(store()), key, &value, &found).ok() && found);
  ASSERT_TRUE(PutInSnapshots(store(), key, AlterEntry(value, 7)).ok());

  const replay::AuditReport report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  const replay::AuditFailure& failure = report.failures[0];
  EXPECT_EQ(failure.check, "projections");
  EXPECT_EQ(failure.seq, seq);
  EXPECT_EQ(failure.key.rfind("proj_snapshots s", 0), 0u) << failure.key;
  EXPECT_NE(
      failure.problem.find("snapshot of account '" + account + "' at seq " + std::to_string(seq)),
      std::string::npos)
      << failure.problem;
  EXPECT_NE(failure.problem.find("another value"), std::string::npos) << failure.problem;
}

TEST_F(SnapshotTest, VerifyNamesADroppedSnapshotEntryAndAMalformedSnapshot) {
  const std::string account = kAccounts[2];
  const uint64_t seq = SnapshotSeqs(store(), account).back();
  const std::string key = projections::internal::SnapshotKey(account, seq);
  std::string value;
  bool found = false;
  ASSERT_TRUE(store().Get(SnapshotsFamily(store()), key, &value, &found).ok() && found);
  // Without its last entry: the replay has a key the snapshot lacks.
  std::string shorter(1, static_cast<char>(projections::kSnapshotFormatV1));
  size_t entries = 0;
  ASSERT_TRUE(
      projections::ForEachSnapshotEntry(value, 3, [&](uint8_t, std::string_view, std::string_view) {
        ++entries;
        return true;
      }).ok());
  size_t at = 0;
  ASSERT_TRUE(projections::ForEachSnapshotEntry(
                  value, 3,
                  [&](uint8_t family, std::string_view k, std::string_view v) {
                    if (++at < entries) projections::AppendSnapshotEntry(family, k, v, &shorter);
                    return true;
                  })
                  .ok());
  ASSERT_TRUE(PutInSnapshots(store(), key, shorter).ok());
  replay::AuditReport report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].seq, seq);
  EXPECT_NE(report.failures[0].problem.find("keys in the replay"), std::string::npos)
      << report.failures[0].problem;

  ASSERT_TRUE(PutInSnapshots(store(), key, value.substr(0, value.size() - 3)).ok());
  report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].seq, seq);
  EXPECT_NE(report.failures[0].problem.find("malformed"), std::string::npos)
      << report.failures[0].problem;
}

// A snapshot value of `dumps` (Historical's families), as the writer encodes it.
std::string SnapshotValue(const FamilyDumps& dumps) {
  std::string value(1, static_cast<char>(projections::kSnapshotFormatV1));
  for (size_t family = 0; family < dumps.size(); ++family) {
    for (const auto& [key, entry] : dumps[family]) {
      projections::AppendSnapshotEntry(static_cast<uint8_t>(family), key, entry, &value);
    }
  }
  return value;
}

TEST_F(SnapshotTest, VerifyProvesASnapshotAtAnotherAccountsEventAndNamesOneAfterTheHead) {
  // Verify compares each snapshot with the state of its account right
  // after the event at its seq, whoever's event that is.
  const std::string account = kAccounts[0];
  const std::vector<uint64_t> own = SnapshotSeqs(store(), account);
  ASSERT_GE(own.size(), 2u);
  uint64_t seq = own[0];  // the first event of another account after its first snapshot
  Envelope envelope;
  do {
    ASSERT_TRUE(store().ReadEvent(++seq, &envelope).ok());
  } while (envelope.account == account);
  const std::string key = projections::internal::SnapshotKey(account, seq);
  ASSERT_TRUE(
      PutInSnapshots(store(), key, SnapshotValue(Historical(store(), account, seq, false))).ok());
  EXPECT_TRUE(AuditWithoutProjectionSet(book_).ok());

  // The state one event of the account later is not the state at `seq`.
  uint64_t next_own = 0;
  ASSERT_TRUE(store()
                  .ScanAccountEvents(account, seq + 1, UINT64_MAX,
                                     [&](const Envelope& e) {
                                       next_own = e.seq;
                                       return false;
                                     })
                  .ok());
  ASSERT_NE(next_own, 0u);
  ASSERT_TRUE(
      PutInSnapshots(store(), key, SnapshotValue(Historical(store(), account, next_own, false)))
          .ok());
  replay::AuditReport report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].seq, seq);
  EXPECT_NE(report.failures[0].problem.find("differs from a replay"), std::string::npos)
      << report.failures[0].problem;
  ASSERT_TRUE(
      PutInSnapshots(store(), key, SnapshotValue(Historical(store(), account, seq, false))).ok());

  // At seq 0, before any event, a snapshot can only be of the empty state.
  const std::string at_zero = projections::internal::SnapshotKey(account, 0);
  ASSERT_TRUE(
      PutInSnapshots(store(), at_zero, SnapshotValue(Historical(store(), account, own[0], false)))
          .ok());
  report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].seq, 0u);
  EXPECT_NE(report.failures[0].problem.find("is not in the replay"), std::string::npos)
      << report.failures[0].problem;
  ASSERT_TRUE(PutInSnapshots(store(), at_zero, SnapshotValue(FamilyDumps(3))).ok());
  EXPECT_TRUE(AuditWithoutProjectionSet(book_).ok());

  const uint64_t beyond = book_.ledger().head().seq + 5;
  ASSERT_TRUE(
      PutInSnapshots(store(), projections::internal::SnapshotKey(account, beyond), "x").ok());
  report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].seq, beyond);
  EXPECT_NE(report.failures[0].problem.find("after the log's head"), std::string::npos)
      << report.failures[0].problem;
}

TEST_F(SnapshotTest, VerifyNamesAWrongCounter) {
  const std::string key = projections::internal::SnapshotCounterKey(kAccounts[0]);
  ASSERT_TRUE(
      PutInSnapshots(store(), key, std::string_view(projections::internal::PairValue(3, 50))).ok());
  const replay::AuditReport report = AuditWithoutProjectionSet(book_);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].check, "projections");
  EXPECT_NE(
      report.failures[0].problem.find("counter of account '" + kAccounts[0] + "' says 3 events"),
      std::string::npos)
      << report.failures[0].problem;
}

TEST_F(SnapshotTest, ALedgerWithoutSnapshotsCatchesUpItsCounters) {
  // As a ledger from before snapshots: the family is gone.
  book_.Reopen(/*with_projections=*/false);
  ASSERT_TRUE(book_.ledger().store().DropColumnFamilies({"proj_snapshots"}).ok());
  book_.Reopen();
  EXPECT_TRUE(DumpSnapshots(store()).size() == kAccounts.size());  // counters only
  // New events take snapshots again, and answers stay exact.
  std::vector<std::string> more;
  bench::WorkloadOptions options;
  options.events = 5000;
  options.accounts = 3;
  options.certs_per_account = 2;
  options.tick_s = 6 * 3600;
  bench::GenerateWorkload(options, [&](const std::string& line) { more.push_back(line); });
  more.erase(more.begin(), more.begin() + 4000);  // Stream() reordered only these
  AppendAll(book_, more, /*seed=*/3);
  const uint64_t head = book_.ledger().head().seq;
  for (const std::string& account : kAccounts) {
    EXPECT_FALSE(SnapshotSeqs(store(), account).empty()) << account;
    for (const uint64_t seq : {head, head - 100, head - 900}) {
      EXPECT_EQ(Historical(store(), account, seq, true), Historical(store(), account, seq, false));
    }
  }
  EXPECT_TRUE(AuditWithoutProjectionSet(book_).ok());
}

// Event 0 opens the account, event i > 0 is adjustment adj-i (seq i + 1).
std::vector<std::string> Adjustments(int from, int to) {
  std::vector<std::string> lines;
  if (from == 0) {
    lines.push_back(
        R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})");
  }
  for (int i = std::max(from, 1); i < to; ++i) {
    lines.push_back(
        R"({"type":"adjustment_posted","event_id":"adj-)" + std::to_string(i) +
        R"(","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","amount":"-1.00","reason":"credit"})");
  }
  return lines;
}

class SnapshotFaultTest : public testing::FaultInjectedLedgerTest {
 protected:
  // Snapshots every 5 events of acme, whatever their size.
  void Open() {
    projections::ProjectionOptions options;
    options.snapshots.interval_events = 5;
    options.snapshots.bytes_per_event = UINT64_MAX;
    FaultInjectedLedgerTest::Open(/*sync=*/true, options);
  }
  Status Append(int from, int to) {
    const std::vector<std::string> lines = Adjustments(from, to);
    std::vector<std::string_view> views(lines.begin(), lines.end());
    std::vector<AppendResult> results;
    return ledger_->AppendBatch(views, &results);
  }
  // The snapshot seqs of acme and its counter's event count.
  std::pair<std::vector<uint64_t>, uint64_t> Snapshots() {
    const EventStore& store = ledger_->store();
    std::string counter;
    bool found = false;
    EXPECT_TRUE(store
                    .Get(SnapshotsFamily(store), projections::internal::SnapshotCounterKey("acme"),
                         &counter, &found)
                    .ok());
    return {SnapshotSeqs(store, "acme"), found ? ReadU64BE(counter) : 0};
  }
};

TEST_F(SnapshotFaultTest, AnAbortedBatchDropsItsSnapshotAndCountAndTheRetryRetakesThem) {
  // A failed commit leaves RocksDB refusing writes until the ledger is
  // reopened, so the sink is driven directly here, over a store of its own,
  // with the events (and their ratings) of a ledger that stored them.
  Open();
  ASSERT_TRUE(Append(0, 12).ok());  // 12 events: snapshots at seqs 5 and 10
  std::vector<Envelope> events;
  ASSERT_TRUE(ledger_->store()
                  .ScanEvents(1, 12,
                              [&](const Envelope& e) {
                                events.push_back(e);
                                return true;
                              })
                  .ok());
  StoreOptions side_options;
  side_options.path = dir_.Sub("side");
  Result<std::unique_ptr<EventStore>> side = EventStore::Open(side_options);
  ASSERT_TRUE(side.ok());
  projections::ProjectionOptions options;
  options.snapshots.interval_events = 5;
  options.snapshots.bytes_per_event = UINT64_MAX;
  Result<std::unique_ptr<projections::ProjectionSet>> set =
      projections::ProjectionSet::Open(**side, options);
  ASSERT_TRUE(set.ok());
  const auto apply = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) ASSERT_TRUE((*set)->Apply(events[i]).ok());
  };
  const auto commit = [&](uint64_t last_seq) {
    rocksdb::WriteBatch batch;
    ASSERT_TRUE((*set)->Seal(last_seq, &batch).ok());
    ASSERT_TRUE((*side)->WriteSynced(&batch).ok());
    (*set)->Committed();
  };
  apply(0, 7);
  commit(7);
  apply(7, 12);  // counted and snapshotted at seq 10, then dropped
  (*set)->Aborted();
  apply(7, 12);
  commit(12);
  EXPECT_EQ(DumpSnapshots(**side), DumpSnapshots(ledger_->store()));
  EXPECT_EQ(Snapshots(), (std::pair<std::vector<uint64_t>, uint64_t>{{5, 10}, 12}));
}

TEST_F(SnapshotFaultTest, APowerLossKeepsSnapshotAndCounterTogether) {
  Open();
  ASSERT_TRUE(Append(0, 7).ok());
  fs_->fail_syncs = true;
  EXPECT_EQ(Append(7, 12).code(), Status::Code::kIoError);
  fs_->fail_syncs = false;
  PowerLoss();
  Open();
  EXPECT_EQ(Snapshots(), (std::pair<std::vector<uint64_t>, uint64_t>{{5}, 7}));
  ASSERT_TRUE(Append(7, 16).ok());
  EXPECT_EQ(Snapshots(), (std::pair<std::vector<uint64_t>, uint64_t>{{5, 10, 15}, 16}));
  ExpectVerifies();
}

}  // namespace
}  // namespace ledger
