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

// Each result is `outcome` with seqs first_seq, first_seq + 1, ...
void ExpectSeqs(std::span<const AppendResult> results, AppendResult::Outcome outcome,
                uint64_t first_seq) {
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome, outcome) << i << ": " << results[i].error.message;
    EXPECT_EQ(results[i].seq, first_seq + i) << i;
  }
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
  // The lines of batch `index` (from 0).
  std::vector<std::string> Batch(int index) const {
    std::vector<std::string> lines;
    for (int i = 0; i < batch_events_; ++i) {
      lines.push_back(Adjustment(writer_, index * batch_events_ + i));
    }
    return lines;
  }
  // Fills the next batch; the number of batches handed out so far.
  int Next(std::vector<std::string_view>* batch) {
    lines_ = Batch(given_);
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

// A stream's callback that throws stops it; the ledger keeps exactly the
// batches delivered, forgets the one judged after them (its ids included),
// frees the writer role and stays consistent.
class StreamCallbackTest : public ::testing::Test {
 protected:
  static constexpr int kBatchEvents = 50;

  void SetUp() override {
    book.Append({R"({"type":"account_opened","event_id":"open","account":"acme","occurred_at":"2026-01-01T00:00:00+08:00","currency":"USD"})"});
  }

  // After the stream stored `batches_stored` batches: a re-send of the
  // last one is a duplicate at its seqs, the batch after it lands right
  // after, and a reopened ledger verifies.
  void ExpectStoredExactly(int batches_stored, uint64_t seq_after_stream) {
    EXPECT_EQ(book.ledger().head().seq, seq_after_stream);
    const uint64_t last_first_seq = 2 + static_cast<uint64_t>(batches_stored - 1) * kBatchEvents;
    ExpectSeqs(book.Append(batches.Batch(batches_stored - 1)),
               AppendResult::Outcome::kDuplicate, last_first_seq);
    ExpectSeqs(book.Append(batches.Batch(batches_stored)), AppendResult::Outcome::kAppended,
               seq_after_stream + 1);
    ExpectReopenedLedgerVerifies(book);
    EXPECT_EQ(book.ledger().head().seq, seq_after_stream + kBatchEvents);
  }

  projection_test::TestBook book;
  AdjustmentBatches batches{/*writer=*/0, kBatchEvents};
};

TEST_F(StreamCallbackTest, AThrowingResultCallbackStopsTheStreamAfterItsStoredBatch) {
  int deliveries = 0;
  uint64_t next_seq = 2;
  std::thread waiting;  // a caller queued behind the stream
  AppendResult waiting_result;
  ExpectStreamRethrows(
      book.ledger(),
      [&](std::vector<std::string_view>* batch) {
        if (!waiting.joinable()) {
          waiting = std::thread([&] { waiting_result = AppendOne(book.ledger(), 9, 0); });
        }
        return batches.Next(batch) <= 5;
      },
      [&](std::span<const AppendResult> results) {
        ExpectSeqs(results, AppendResult::Outcome::kAppended, next_seq);
        next_seq += results.size();
        if (++deliveries == 2) throw std::runtime_error("the caller's sink failed");
      });
  waiting.join();
  EXPECT_EQ(deliveries, 2);
  // The third batch, judged while the second was written, is not stored;
  // the queued caller went next.
  EXPECT_EQ(waiting_result.outcome, AppendResult::Outcome::kAppended);
  EXPECT_EQ(waiting_result.seq, 1u + 2 * kBatchEvents + 1);
  ExpectStoredExactly(/*batches_stored=*/2, 1 + 2 * kBatchEvents + 1);
}

TEST_F(StreamCallbackTest, AThrowOnTheJudgingThreadStopsTheStreamToo) {
  // The second batch re-sends the first: nothing to write, so its results
  // are delivered on the calling thread.
  const std::vector<std::string> first = batches.Batch(0);
  int calls = 0;
  ExpectStreamRethrows(
      book.ledger(),
      [&](std::vector<std::string_view>* batch) {
        batch->assign(first.begin(), first.end());
        return ++calls <= 3;
      },
      [&](std::span<const AppendResult> results) {
        if (results[0].outcome == AppendResult::Outcome::kDuplicate) {
          throw std::runtime_error("the caller's sink failed");
        }
      });
  EXPECT_EQ(calls, 2);
  ExpectStoredExactly(/*batches_stored=*/1, 1 + kBatchEvents);
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
  EXPECT_EQ(delivered, 2u * kBatchEvents);
  ExpectStoredExactly(/*batches_stored=*/2, 1 + 2 * kBatchEvents);
}

TEST_F(StreamCallbackTest, ATypedStreamRethrowsAsWell) {
  std::vector<IncomingEvent> events(kBatchEvents);
  for (int i = 0; i < kBatchEvents; ++i) {
    events[i].event_id = "w0-" + std::to_string(i);
    events[i].account = "acme";
    events[i].occurred_at_s = 1'772'294'400;  // 2026-03-01T00:00:00+08:00
    events[i].payload = AdjustmentPosted{-(i + 1) * int64_t{100'000'000}, "credit"};
  }
  bool given = false;
  EXPECT_THROW(
      {
        const Status status = book.ledger().AppendEventStream(
            [&](std::vector<IncomingEvent>* batch) {
              if (given) return false;
              *batch = events;
              given = true;
              return true;
            },
            [&](std::span<const AppendResult> results) {
              ExpectSeqs(results, AppendResult::Outcome::kAppended, 2);
              throw std::runtime_error("the caller's sink failed");
            });
        ADD_FAILURE() << "AppendEventStream returned " << status.ToString();
      },
      std::runtime_error);
  EXPECT_EQ(book.ledger().head().seq, 1u + kBatchEvents);
  std::vector<AppendResult> resent;
  ASSERT_TRUE(book.ledger().AppendEvents(events, &resent).ok());
  ExpectSeqs(resent, AppendResult::Outcome::kDuplicate, 2);
  ExpectReopenedLedgerVerifies(book);
}

}  // namespace
}  // namespace ledger
