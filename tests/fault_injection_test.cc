// Fault injection (LevelDB's fault_injection_test): failed writes, failed
// syncs and failed reads surface as errors; nothing is acknowledged that is
// not durable; after a simulated power loss every acknowledged event is
// there; after the fault clears and the ledger reopens, it goes on.

#include <gtest/gtest.h>

#include <functional>
#include <span>

#include "fault_injected_ledger.h"
#include "ledger/ledger.h"
#include "process_util.h"
#include "projections/projection_set.h"
#include "projections/queries.h"
#include "replay/audit.h"

namespace ledger {
namespace {

std::string Adjustment(int i) {
  return R"({"type":"adjustment_posted","event_id":"adj-)" + std::to_string(i) +
         R"(","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","amount":"-1.00","reason":"credit"})";
}

class FaultInjectionTest : public testing::FaultInjectedLedgerTest {
 protected:
  // Appends events [from, to) as one batch: event 0 opens the account, event
  // i > 0 is adjustment adj-i, stored (when all goes well) as seq i + 1.
  Status Append(int from, int to, std::vector<AppendResult>* results = nullptr) {
    std::vector<std::string> lines;
    if (from == 0) lines.push_back(R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})");
    for (int i = std::max(from, 1); i < to; ++i) lines.push_back(Adjustment(i));
    std::vector<std::string_view> views(lines.begin(), lines.end());
    std::vector<AppendResult> own;
    return ledger_->AppendBatch(views, results != nullptr ? results : &own);
  }
};


TEST_F(FaultInjectionTest, AFailedWriteIsAnErrorAndStoresNothing) {
  Open();
  ASSERT_TRUE(Append(0, 10).ok());
  fs_->fail_writes = true;
  std::vector<AppendResult> results;
  const Status failed = Append(10, 20, &results);
  EXPECT_EQ(failed.code(), Status::Code::kIoError) << failed.ToString();
  fs_->fail_writes = false;
  ledger_.reset();
  Open();
  EXPECT_EQ(ledger_->head().seq, 10u);
  // The same batch again: stored once, right after the others.
  ASSERT_TRUE(Append(10, 20, &results).ok());
  EXPECT_EQ(results.front().outcome, AppendResult::Outcome::kAppended);
  EXPECT_EQ(results.front().seq, 11u);
  EXPECT_EQ(ledger_->head().seq, 20u);
  ExpectVerifies();
}

TEST_F(FaultInjectionTest, AFailedSyncIsNeverAcknowledgedAndALossLeavesNoTrace) {
  Open();
  ASSERT_TRUE(Append(0, 10).ok());
  fs_->fail_syncs = true;
  const Status failed = Append(10, 20);
  EXPECT_EQ(failed.code(), Status::Code::kIoError) << failed.ToString();
  fs_->fail_syncs = false;
  PowerLoss();
  Open();
  EXPECT_EQ(ledger_->head().seq, 10u);
  std::vector<AppendResult> results;
  ASSERT_TRUE(Append(10, 20, &results).ok());
  for (const AppendResult& result : results) {
    EXPECT_EQ(result.outcome, AppendResult::Outcome::kAppended);
  }
  EXPECT_EQ(ledger_->head().seq, 20u);
  ExpectVerifies();
}

// The pipelined append: batch 2's sync fails while batch 3 is being judged
// on top of it. Batches 0 and 1 are acknowledged and kept; nothing of 2 or 3
// is acknowledged or survives; re-sending everything lands each event once.
TEST_F(FaultInjectionTest, AStreamStopsAtTheBatchWhoseSyncFails) {
  Open();
  constexpr int kBatches = 5;
  constexpr int kEventsPerBatch = 10;
  std::vector<std::vector<std::string>> batches;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<std::string>& lines = batches.emplace_back();
    if (b == 0) lines.push_back(R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})");
    for (int i = std::max(b * kEventsPerBatch, 1); i < (b + 1) * kEventsPerBatch; ++i) {
      lines.push_back(Adjustment(i));
    }
  }
  const auto stream = [&](const std::function<void(size_t batch)>& on_committed,
                          std::vector<AppendResult>* results) {
    size_t given = 0;
    size_t committed = 0;
    return ledger_->AppendStream(
        [&](std::vector<std::string_view>* lines) {
          if (given == batches.size()) return false;
          lines->assign(batches[given].begin(), batches[given].end());
          ++given;
          return true;
        },
        [&](std::span<const AppendResult> batch_results) {
          results->insert(results->end(), batch_results.begin(), batch_results.end());
          on_committed(committed++);
        });
  };

  std::vector<AppendResult> results;
  // Batch 2 is sealed only after batch 1's results are delivered: the fault
  // is in place before batch 2's write starts.
  const Status failed =
      stream([&](size_t batch) { fs_->fail_syncs = fs_->fail_syncs || batch == 1; }, &results);
  EXPECT_EQ(failed.code(), Status::Code::kIoError) << failed.ToString();
  ASSERT_EQ(results.size(), 2u * kEventsPerBatch);
  EXPECT_EQ(results.back().seq, 2u * kEventsPerBatch);
  fs_->fail_syncs = false;
  PowerLoss();
  Open();
  EXPECT_EQ(ledger_->head().seq, 2u * kEventsPerBatch);

  results.clear();
  ASSERT_TRUE(stream([](size_t) {}, &results).ok());
  ASSERT_EQ(results.size(), static_cast<size_t>(kBatches * kEventsPerBatch));
  for (size_t i = 0; i < results.size(); ++i) {
    const bool stored_before = i < 2 * kEventsPerBatch;
    EXPECT_EQ(results[i].outcome, stored_before ? AppendResult::Outcome::kDuplicate
                                                : AppendResult::Outcome::kAppended)
        << "event " << i;
    EXPECT_EQ(results[i].seq, i + 1);
  }
  ExpectVerifies();
}

TEST_F(FaultInjectionTest, APowerLossKeepsEveryAcknowledgedEvent) {
  Open();
  for (int batch = 0; batch < 8; ++batch) ASSERT_TRUE(Append(batch * 25, batch * 25 + 25).ok());
  const Head acknowledged = ledger_->head();
  PowerLoss();
  Open();
  EXPECT_EQ(ledger_->head().seq, acknowledged.seq);
  EXPECT_EQ(ledger_->head().hash, acknowledged.hash);
  // Re-sending everything stores nothing twice.
  std::vector<AppendResult> results;
  ASSERT_TRUE(Append(0, 100, &results).ok());
  for (const AppendResult& result : results) {
    EXPECT_EQ(result.outcome, AppendResult::Outcome::kDuplicate);
  }
  ExpectVerifies();
}

// The control experiment: the same power loss without WAL syncs loses
// acknowledged events. It shows the test above can fail, and why every
// append syncs.
TEST_F(FaultInjectionTest, WithoutSyncsAPowerLossLosesAcknowledgedEvents) {
  Open(/*sync=*/false);
  for (int batch = 0; batch < 8; ++batch) ASSERT_TRUE(Append(batch * 25, batch * 25 + 25).ok());
  ASSERT_EQ(ledger_->head().seq, 200u);
  PowerLoss();
  Open();
  EXPECT_LT(ledger_->head().seq, 200u);
}

TEST_F(FaultInjectionTest, AFailedReadIsAnErrorNotData) {
  Open();
  ASSERT_TRUE(Append(0, 50).ok());
  ASSERT_TRUE(ledger_->store().db()->Flush(rocksdb::FlushOptions(), ledger_->store().log_cf()).ok());
  ledger_.reset();
  Open();
  fs_->fail_reads = true;
  Envelope envelope;
  const Status read = ledger_->store().ReadEvent(7, &envelope);
  EXPECT_EQ(read.code(), Status::Code::kIoError) << read.ToString();
  fs_->fail_reads = false;
  ASSERT_TRUE(ledger_->store().ReadEvent(7, &envelope).ok());
  EXPECT_EQ(envelope.event_id, "adj-6");  // seq 1 opened the account
}

// StoreOptions::on_written (what ledger_bench replays): each written batch
// is handed over once, a failed one never; written again into a fresh
// ledger of the same families, the batches rebuild the same chain.
TEST_F(FaultInjectionTest, TheWriteObserverIsGivenEachWrittenBatchAndNoFailedOne) {
  std::vector<std::string> written;
  on_written_ = [&](const rocksdb::WriteBatch& batch) { written.push_back(batch.Data()); };
  Open();
  ASSERT_TRUE(Append(0, 10).ok());
  ASSERT_TRUE(Append(10, 15).ok());
  ASSERT_EQ(written.size(), 2u);
  fs_->fail_writes = true;
  EXPECT_EQ(Append(15, 20).code(), Status::Code::kIoError);
  fs_->fail_writes = false;
  EXPECT_EQ(written.size(), 2u);
  const Head head = ledger_->head();
  ASSERT_EQ(head.seq, 15u);
  // The second batch holds its 5 events, their 5 event ids, and more (the
  // account index, the head, projections).
  const rocksdb::WriteBatch second(written[1]);
  EXPECT_GT(second.Count(), 10u);

  LedgerOptions options;
  options.store.path = dir_.Sub("copy");
  {
    Result<std::unique_ptr<Ledger>> copy =
        Ledger::Open(projections::WithProjections(LedgerOptions(options)));
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    rocksdb::WriteOptions synced;
    synced.sync = true;
    for (const std::string& data : written) {
      rocksdb::WriteBatch batch(data);
      ASSERT_TRUE((*copy)->store().db()->Write(synced, &batch).ok());
    }
  }
  Result<std::unique_ptr<Ledger>> copy = Ledger::Open(projections::WithProjections(options));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ((*copy)->head().seq, 15u);
  EXPECT_EQ((*copy)->head().hash, head.hash);
  Envelope envelope;
  ASSERT_TRUE((*copy)->store().ReadEvent(12, &envelope).ok());
  EXPECT_EQ(envelope.event_id, "adj-11");
  Result<replay::AuditReport> report = replay::Audit((*copy)->store(), {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->failures.empty() ? "" : report->failures[0].problem);
}

}  // namespace
}  // namespace ledger
