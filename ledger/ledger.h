// Ledger: the append path. Takes events as JSON lines or typed
// (IncomingEvent), judges each against the billing rules, rates the accepted
// ones and stores them in one RocksDB WriteBatch per call, synced before any
// result says `appended`.
//
// Thread-safe. Concurrent AppendBatch (and AppendEvents) calls are committed
// in groups: the first waiting caller becomes the leader, takes the calls
// queued behind it (up to kAppendBatchEventsMax events and
// kAppendBatchBytesMax bytes of lines), judges them all in
// order and writes them as one WriteBatch with one WAL sync, then wakes the
// others with their results (LevelDB's writer queue). Many writers share one
// sync, and one leader at a time assigns gapless sequence numbers. A bulk
// AppendStream (or AppendEventStream) queues like a call and, at the front,
// leads alone until its source ends (the calls behind it wait), judging on
// its caller's thread and writing on a second one. store() is for the thread
// that owns the Ledger when no append is running (queries, audits).

#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/billing_time.h"
#include "ledger/event_decoder.h"
#include "ledger/event_sink.h"
#include "ledger/event_store.h"
#include "ledger/json_input.h"
#include "ledger/rule_error.h"
#include "ledger/rules.h"
#include "ledger/status.h"

namespace ledger {

namespace internal {
class StateStore;
class WriteStage;
struct SealedWrite;
}  // namespace internal

struct AppendResult {
  enum class Outcome { kAppended, kDuplicate, kRejected };
  Outcome outcome = Outcome::kRejected;
  std::optional<std::string> event_id;           // nullopt when the event has no valid id
  uint64_t seq = 0;                              // appended and duplicate
  RuleError error{ErrorCode::kInvalidJson, ""};  // rejected
};

struct LedgerOptions {
  StoreOptions store;
  // The wall clock for recorded times, in Unix microseconds; tests pin it.
  std::function<int64_t()> clock_us;
  // Builds the sink (the projections) over the opened store, if any. Its
  // column families must be listed in store.extra_column_families.
  std::function<Result<std::unique_ptr<EventSink>>(EventStore&)> make_sink;
};

class Ledger {
 public:
  static Result<std::unique_ptr<Ledger>> Open(LedgerOptions options);
  ~Ledger();

  // Appends `lines` (JSON objects, no line breaks; at most
  // kAppendBatchEventsMax of them and kAppendBatchBytesMax bytes in all) as
  // one batch: one WriteBatch, one synced write. Fills one result per line, in order. A
  // non-ok Status means the batch was not stored (nothing of it is visible)
  // and `results` must be ignored. The Ledger stays consistent; whether it
  // can append again depends on the failure (see EventStore::Commit): after a
  // failed WAL write it may refuse appends until it is reopened.
  Status AppendBatch(std::span<const std::string_view> lines, std::vector<AppendResult>* results);

  // Where AppendStream gets its batches: fills `lines` (as AppendBatch takes
  // them; they must stay valid until the next call) and
  // returns true, or returns false at the end.
  using BatchSource = std::function<bool(std::vector<std::string_view>* lines)>;
  // Gets a batch's results once the batch is durable: in order, one at a
  // time, on the calling thread or on the writing one.
  using BatchCommitted = std::function<void(std::span<const AppendResult> results)>;

  // Appends every batch of `source`, each as AppendBatch would, but judges a
  // batch while the one before is written: the parsing, rules and hashing
  // run on the calling thread while a second thread folds the batch into
  // the projections (the sink) and does the RocksDB write (memtable
  // inserts, WAL sync), so a bulk append uses two cores. Holds the writer
  // role for the whole stream (other appenders wait). A non-ok Status means
  // the batch whose results were not delivered, and every batch after it,
  // were not stored. If `source` or `committed` throws, the stream stops and
  // AppendStream rethrows the exception once the ledger is consistent and
  // free for other appenders: every batch whose results went to `committed`
  // is stored (the one whose delivery threw too), and nothing after it
  // (`source` may have handed over one batch more, judged while the last was
  // written: it is dropped). The exception wins over a failure Status, which
  // is logged. An exception from the ledger's own work, on either thread
  // (the sink's included), is rethrown too, once the batches before it are
  // settled, and the ledger then refuses appends until it is reopened.
  Status AppendStream(const BatchSource& source, const BatchCommitted& committed);

  // The library API without JSON: appends typed events as one batch, as
  // AppendBatch appends lines. Each event is judged as the JSON line that
  // stands for it (event_fields.h): the same checks, error codes and order,
  // and the same idempotency identity, so a typed re-send of an event sent
  // as that line is a duplicate.
  Status AppendEvents(std::span<const IncomingEvent> events, std::vector<AppendResult>* results);

  // Where AppendEventStream gets its batches: fills `events` (handed over
  // empty; at most kAppendBatchEventsMax) and returns true, or returns false
  // at the end. The ledger judges them before it asks for the next batch.
  using EventBatchSource = std::function<bool(std::vector<IncomingEvent>* events)>;
  // AppendStream for typed events.
  Status AppendEventStream(const EventBatchSource& source, const BatchCommitted& committed);

  BillingZone zone() const { return BillingZone(store_->billing_offset_s()); }
  Head head() const;
  EventStore& store() { return *store_; }

 private:
  // One batch of input: JSON lines or typed events.
  struct BatchInput {
    std::span<const std::string_view> lines;
    std::span<const IncomingEvent> events;
    size_t size() const { return lines.size() + events.size(); }
    // The lines' bytes (typed events are bounded by their count alone).
    size_t line_bytes() const {
      size_t bytes = 0;
      for (std::string_view line : lines) bytes += line.size();
      return bytes;
    }
  };
  using InputSource = std::function<bool(BatchInput* input)>;

  struct Writer {
    BatchInput input;
    std::vector<AppendResult>* results = nullptr;
    // An AppendStream: never part of another leader's group; it leads alone
    // once it is at the front.
    bool stream = false;
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  Ledger() = default;
  // Queues `writer` and returns its status once its batch was committed,
  // leading a group when it reaches the front.
  Status AppendAsWriter(Writer* writer);
  // AppendStream and AppendEventStream: batches of `Item` from `source`,
  // each handed on as the BatchInput `field`.
  template <typename Item>
  Status StreamFrom(const std::function<bool(std::vector<Item>*)>& source,
                    std::span<const Item> BatchInput::*field, const BatchCommitted& committed);
  Status StreamInputs(const InputSource& source, const BatchCommitted& committed);
  // The leader's `work`, unless the ledger refuses appends (`failed`, read
  // under mu_). An exception from it marks the ledger failed and goes to
  // *thrown, for the caller to rethrow once the writer queue moved on.
  Status Lead(const Status& failed, std::exception_ptr* thrown,
              const std::function<Status()>& work);
  // Judges the input of a group of writers and commits it as one batch.
  // Called by the leader only, without mu_ held.
  Status CommitGroup(std::span<Writer* const> group);
  // Sets *thrown to the exception a callback threw, which stopped the stream.
  Status StreamAsLeader(const InputSource& source, const BatchCommitted& committed,
                        std::exception_ptr* thrown);
  // Judges one batch of a stream and hands it to the write stage.
  // Sets *thrown to what `committed` threw, when it ran here (a batch with
  // nothing to write).
  Status StreamBatch(const BatchInput& input, internal::WriteStage* writes,
                     std::vector<AppendResult>* results, const BatchCommitted& committed,
                     std::exception_ptr* thrown);
  // Waits for the batch being written, if any, and makes it committed state.
  Status SettleWrite(internal::WriteStage* writes);
  // The leader's steps: judge lines into the pending batch; seal it (the
  // rules' state goes in); write it (the sink folds its events in and adds
  // its writes first); after the write, make it committed state; or drop
  // everything not written.
  Status JudgeBatch(const BatchInput& input, int64_t recorded_at_us,
                    std::vector<AppendResult>* results);
  internal::SealedWrite SealPending();
  Status WriteSealed(internal::SealedWrite* write);
  void Written(const Head& head);
  Status AbortPending(const Status& cause);
  // Drops the pending batch: the pending state is the committed one again.
  // If that fails, the ledger refuses appends until reopened (MarkFailed).
  Status DropPending();
  // The ledger's state in memory may no longer follow from what is stored:
  // every later append returns an error (reopening reloads it).
  void MarkFailed(const Status& cause);
  int64_t RecordedTime_us() const;
  // One line or typed event of a chunk, parsed: its fields and event id, or
  // why it is rejected before it is judged.
  struct ParsedSlot {
    ParsedLine line;
    std::string event_id;
    std::optional<RuleError> error;
  };
  // Reads input item `i` into `parsed`, or says why it cannot.
  using ParseOne = std::function<std::optional<RuleError>(size_t i, ParsedLine* parsed)>;
  // Judges `count` items into results[0, count), a chunk at a time: each
  // chunk is parsed, its event ids prefetched (EventStore::PrefetchEventIds),
  // then judged in order. Status errors abort the batch.
  Status JudgeInChunks(size_t count, const ParseOne& parse, int64_t recorded_at_us,
                       AppendResult* results);
  // Judges one parsed item; stages it when accepted.
  Status AppendParsed(const ParsedSlot& slot, int64_t recorded_at_us, AppendResult* result);
  // Frees a slot a line grew past what an ordinary line needs.
  static void FreeIfGrown(ParsedSlot* slot);
  // The envelope to judge into: the next slot of the pending batch's pool,
  // or, without a sink, one reused for every event.
  Envelope& NextEnvelope();
  // Frees the pools (the end of a stream).
  void ReleaseEnvelopes();

  // Guards writers_, committed_head_ and failed_. The leader works without
  // it, so others can queue meanwhile; everything below it is the leader's
  // alone.
  mutable std::mutex mu_;
  std::deque<Writer*> writers_;
  Head committed_head_;
  Status failed_;  // not ok once MarkFailed: what every later append returns
  LedgerOptions options_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<internal::StateStore> state_;
  std::unique_ptr<RuleEngine> rules_;
  std::unique_ptr<EventSink> sink_;  // may be null
  // The accepted events of the pending and of the sealed batch, for the
  // sink: two pools whose slots are reused batch after batch, so filling one
  // allocates nothing once the strings have grown (envelopes freed on the
  // writing thread made every string on the judging one a malloc slow path).
  std::vector<Envelope> envelope_pools_[2];
  size_t pending_pool_index_ = 0;
  size_t pending_envelope_count_ = 0;  // used slots of the pending pool
  Envelope scratch_envelope_;          // without a sink
  JsonLineParser parser_;
  // Slots reused chunk after chunk (each keeps at most a few KiB: see
  // FreeIfGrown), and views of their event ids to prefetch.
  std::vector<ParsedSlot> chunk_;
  std::vector<std::string_view> chunk_ids_;
  IncomingEvent incoming_;
  std::string digest_scratch_;
};

}  // namespace ledger
