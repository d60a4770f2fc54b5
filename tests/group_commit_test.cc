// Concurrent appenders share commits: every event is stored once, sequence
// numbers stay gapless, each caller gets its own results, and the log still
// verifies.

#include <gtest/gtest.h>

#include <set>
#include <span>
#include <stdexcept>
#include <thread>

#include "projection_test_util.h"
#include "replay/audit.h"

namespace ledger {
namespace {

std::string Adjustment(int writer, int i) {
  return R"({"type":"adjustment_posted","event_id":"w)" + std::to_string(writer) + "-" +
         std::to_string(i) +
         R"(","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","amount":"-)" +
         std::to_string(i + 1) + R"(.00","reason":"credit"})";
}

// Appends event `i` of `writer` on its own; its result.
AppendResult AppendOne(Ledger& ledger, int writer, int i) {
  const std::string line = Adjustment(writer, i);
  const std::string_view view = line;
  std::vector<AppendResult> results;
  const Status status = ledger.AppendBatch({&view, 1}, &results);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? AppendResult{} : results[0];
}

// Reopened as maintenance opens it, the ledger verifies: chain, indexes,
// projections.
void ExpectReopenedLedgerVerifies(projection_test::TestBook& book) {
  book.Reopen(/*with_projections=*/false);
  Result<replay::AuditReport> report = replay::Audit(book.ledger().store(), {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

// The batches of a stream of adjustments by writer `writer`, `batch_events`
// each.
class AdjustmentBatches {
 public:
  AdjustmentBatches(int writer, int batch_events) : writer_(writer), batch_events_(batch_events) {}
  // Fills the next batch; the number of batches handed out so far.
  int Next(std::vector<std::string_view>* batch) {
    lines_.clear();
    for (int i = 0; i < batch_events_; ++i) {
      lines_.push_back(Adjustment(writer_, given_ * batch_events_ + i));
    }
    batch->assign(lines_.begin(), lines_.end());
    return ++given_;
  }

 private:
  int writer_;
  int batch_events_;
  int given_ = 0;
  std::vector<std::string> lines_;
};

TEST(GroupCommitTest, EightWritersOfSingleEventsAllLandOnceInOrder) {
  projection_test::TestBook book;
  book.Append({R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})"});
  constexpr int kWriters = 8;
  constexpr int kEventsPerWriter = 150;
  std::vector<std::vector<uint64_t>> seqs(kWriters);
  std::vector<std::thread> threads;
  for (int writer = 0; writer < kWriters; ++writer) {
    threads.emplace_back([&, writer] {
      for (int i = 0; i < kEventsPerWriter; ++i) {
        const AppendResult result = AppendOne(book.ledger(), writer, i);
        ASSERT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
        ASSERT_EQ(result.event_id, "w" + std::to_string(writer) + "-" + std::to_string(i));
        seqs[writer].push_back(result.seq);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<uint64_t> all;
  for (const std::vector<uint64_t>& writer_seqs : seqs) {
    // One writer's events are stored in the order it sent them.
    EXPECT_TRUE(std::is_sorted(writer_seqs.begin(), writer_seqs.end()));
    all.insert(writer_seqs.begin(), writer_seqs.end());
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters * kEventsPerWriter));
  EXPECT_EQ(*all.begin(), 2u);
  EXPECT_EQ(*all.rbegin(), 1u + kWriters * kEventsPerWriter);  // gapless after the account
  EXPECT_EQ(book.ledger().head().seq, 1u + kWriters * kEventsPerWriter);

  // Re-sending every event concurrently answers duplicate with its seq.
  threads.clear();
  for (int writer = 0; writer < kWriters; ++writer) {
    threads.emplace_back([&, writer] {
      for (int i = 0; i < kEventsPerWriter; i += 10) {
        const std::string line = Adjustment(writer, i);
        const std::string_view view = line;
        std::vector<AppendResult> results;
        ASSERT_TRUE(book.ledger().AppendBatch({&view, 1}, &results).ok());
        EXPECT_EQ(results[0].outcome, AppendResult::Outcome::kDuplicate);
        EXPECT_EQ(results[0].seq, seqs[writer][i]);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  // The invoice holds every adjustment exactly once.
  Result<std::optional<projections::Invoice>> invoice =
      projections::ReadInvoice(book.readers(), "acme", Period{2026, 3});
  ASSERT_TRUE(invoice.ok() && invoice->has_value());
  EXPECT_EQ((*invoice)->lines.size(), static_cast<size_t>(kWriters * kEventsPerWriter));
  // Each writer posted -(1 + 2 + ... + 150) = -11325.
  EXPECT_EQ((*invoice)->total_e8, Int128{-11325} * kWriters * 100'000'000);

  ExpectReopenedLedgerVerifies(book);
}

// A bulk AppendStream among single-event callers: it leads alone while it
// runs, the callers queue behind it or commit before it, and every event of
// both lands once with gapless seqs.
TEST(GroupCommitTest, AStreamAmongSingleEventWritersStoresEveryEventOnce) {
  projection_test::TestBook book;
  book.Append({R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})"});
  constexpr int kWriters = 4;
  constexpr int kEventsPerWriter = 100;
  constexpr int kStreamBatches = 20;
  constexpr int kStreamBatchEvents = 50;
  constexpr int kStreamWriter = kWriters;  // its events are "w4-i"
  std::vector<std::vector<uint64_t>> seqs(kWriters + 1);
  std::vector<std::thread> threads;
  for (int writer = 0; writer < kWriters; ++writer) {
    threads.emplace_back([&, writer] {
      for (int i = 0; i < kEventsPerWriter; ++i) {
        const AppendResult result = AppendOne(book.ledger(), writer, i);
        ASSERT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
        seqs[writer].push_back(result.seq);
      }
    });
  }
  threads.emplace_back([&] {
    AdjustmentBatches batches(kStreamWriter, kStreamBatchEvents);
    const Status status = book.ledger().AppendStream(
        [&](std::vector<std::string_view>* batch) { return batches.Next(batch) <= kStreamBatches; },
        [&](std::span<const AppendResult> results) {
          for (const AppendResult& result : results) {
            EXPECT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
            seqs[kStreamWriter].push_back(result.seq);
          }
        });
    EXPECT_TRUE(status.ok()) << status.ToString();
  });
  for (std::thread& thread : threads) thread.join();

  constexpr int kEvents = kWriters * kEventsPerWriter + kStreamBatches * kStreamBatchEvents;
  std::set<uint64_t> all;
  for (const std::vector<uint64_t>& writer_seqs : seqs) {
    EXPECT_TRUE(std::is_sorted(writer_seqs.begin(), writer_seqs.end()));
    all.insert(writer_seqs.begin(), writer_seqs.end());
  }
  ASSERT_EQ(seqs[kStreamWriter].size(), static_cast<size_t>(kStreamBatches * kStreamBatchEvents));
  ASSERT_EQ(all.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(*all.begin(), 2u);
  EXPECT_EQ(*all.rbegin(), 1u + kEvents);
  EXPECT_EQ(book.ledger().head().seq, 1u + kEvents);
  ExpectReopenedLedgerVerifies(book);
}

// After a callback of a stream threw, the ledger is consistent and free:
// another append lands right after what the stream stored, and a reopened
// ledger verifies.
void ExpectUsableAfterStream(projection_test::TestBook& book, uint64_t stored_seq) {
  EXPECT_EQ(book.ledger().head().seq, stored_seq);
  const AppendResult next = AppendOne(book.ledger(), 9, 0);
  EXPECT_EQ(next.outcome, AppendResult::Outcome::kAppended) << next.error.message;
  EXPECT_EQ(next.seq, stored_seq + 1);
  ExpectReopenedLedgerVerifies(book);
  EXPECT_EQ(book.ledger().head().seq, stored_seq + 1);
}

// A stream one of whose callbacks throws a std::runtime_error: AppendStream
// rethrows it.
void ExpectStreamRethrows(Ledger& ledger, const Ledger::BatchSource& source,
                          const Ledger::BatchCommitted& committed) {
  EXPECT_THROW(
      {
        const Status status = ledger.AppendStream(source, committed);
        ADD_FAILURE() << "AppendStream returned " << status.ToString();
      },
      std::runtime_error);
}

// Streams of 50-event batches of adjustments to one open account.
class StreamCallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    book.Append({R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})"});
  }

  projection_test::TestBook book;
  AdjustmentBatches batches{/*writer=*/0, /*batch_events=*/50};
};

TEST_F(StreamCallbackTest, AThrowingResultCallbackStopsTheStreamAfterItsStoredBatch) {
  int deliveries = 0;
  ExpectStreamRethrows(
      book.ledger(),
      [&](std::vector<std::string_view>* batch) { return batches.Next(batch) <= 5; },
      [&](std::span<const AppendResult> results) {
        EXPECT_EQ(results.size(), 50u);
        if (++deliveries == 2) throw std::runtime_error("the caller's sink failed");
      });
  EXPECT_EQ(deliveries, 2);
  // The account, then the two batches delivered; the third, judged while
  // the second was written, is not stored.
  ExpectUsableAfterStream(book, 1 + 2 * 50);
}

TEST_F(StreamCallbackTest, AThrowingSourceStopsTheStreamAfterTheBatchesItGave) {
  size_t delivered = 0;
  ExpectStreamRethrows(
      book.ledger(),
      [&](std::vector<std::string_view>* batch) {
        if (batches.Next(batch) == 3) throw std::runtime_error("the input broke");
        return true;
      },
      [&](std::span<const AppendResult> results) { delivered += results.size(); });
  EXPECT_EQ(delivered, 100u);
  ExpectUsableAfterStream(book, 1 + 2 * 50);
}

}  // namespace
}  // namespace ledger
