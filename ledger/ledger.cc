#include "ledger/ledger.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <utility>

#include "ledger/constants.h"
#include "ledger/event_fields.h"
#include "ledger/internal/bounded_queue.h"
#include "ledger/internal/state_store.h"

namespace ledger {
namespace {

// A chunk's event ids go to the database in one MultiGet: large enough that
// RocksDB probes its filters for many keys at once, small enough that the
// chunk's parsed lines are still in cache when they are judged.
constexpr size_t kJudgeChunkEvents = 256;
static_assert(kJudgeChunkEvents <= kAppendBatchEventsMax);
// A chunk slot keeps the buffers a line grew it to, for the next line; one
// that a line grew past this (an ordinary event needs under 1 KiB) is freed,
// so that a hostile batch does not leave the ledger holding up to 64 KiB
// of fields per slot for the rest of its life.
constexpr size_t kSlotBytesKeptMax = 4096;

int64_t SystemClock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The Status of an append the ledger's own work stopped with an exception.
Status ThrownStatus() { return Status::IoError("an append failed with an exception"); }

// Hands a batch's results to the caller's callback; what it throws goes to
// *thrown (it stops the stream) instead of up through the ledger's work.
void Deliver(const Ledger::BatchCommitted& committed, const std::vector<AppendResult>& results,
             std::exception_ptr* thrown) {
  try {
    committed(results);
  } catch (...) {
    *thrown = std::current_exception();
  }
}

void Reject(RuleError error, std::optional<std::string> event_id, AppendResult* result) {
  result->outcome = AppendResult::Outcome::kRejected;
  result->event_id = std::move(event_id);
  result->seq = 0;
  result->error = std::move(error);
}

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::Open(LedgerOptions options) {
  std::unique_ptr<Ledger> ledger(new Ledger());
  if (!options.clock_us) options.clock_us = SystemClock_us;
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(options.store);
  if (!store.ok()) return store.status();
  ledger->store_ = std::move(*store);
  ledger->state_ = std::make_unique<internal::StateStore>(ledger->store_.get());
  LEDGER_RETURN_IF_ERROR(ledger->state_->Load());
  ledger->rules_ = std::make_unique<RuleEngine>(ledger->state_.get(), ledger->zone());
  if (options.make_sink) {
    Result<std::unique_ptr<EventSink>> sink = options.make_sink(*ledger->store_);
    if (!sink.ok()) return sink.status();
    ledger->sink_ = std::move(*sink);
  }
  ledger->options_ = std::move(options);
  ledger->committed_head_ = ledger->store_->head();
  return ledger;
}

Ledger::~Ledger() = default;

Head Ledger::head() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_head_;
}

Status Ledger::AppendBatch(std::span<const std::string_view> lines,
                           std::vector<AppendResult>* results) {
  Writer writer;
  writer.input.lines = lines;
  writer.results = results;
  return AppendAsWriter(&writer);
}

Status Ledger::AppendEvents(std::span<const IncomingEvent> events,
                            std::vector<AppendResult>* results) {
  Writer writer;
  writer.input.events = events;
  writer.results = results;
  return AppendAsWriter(&writer);
}

Status Ledger::AppendAsWriter(Writer* writer) {
  LEDGER_CHECK(writer->input.size() <= kAppendBatchEventsMax);
  LEDGER_CHECK(writer->input.line_bytes() <= kAppendBatchBytesMax);
  std::unique_lock<std::mutex> lock(mu_);
  writers_.push_back(writer);
  while (!writer->done && writer != writers_.front()) writer->cv.wait(lock);
  if (writer->done) return writer->status;

  // The leader: take the writers queued behind, up to a batch's worth.
  std::vector<Writer*> group;
  size_t events = 0;
  size_t bytes = 0;
  for (Writer* queued : writers_) {
    if (queued->stream) break;
    const size_t queued_bytes = queued->input.line_bytes();
    if (!group.empty() && (events + queued->input.size() > kAppendBatchEventsMax ||
                           bytes + queued_bytes > kAppendBatchBytesMax)) {
      break;
    }
    group.push_back(queued);
    events += queued->input.size();
    bytes += queued_bytes;
  }
  const Status failed = failed_;
  lock.unlock();
  std::exception_ptr thrown;
  const Status status = Lead(failed, &thrown, [&] { return CommitGroup(group); });
  lock.lock();
  committed_head_ = store_->head();
  for (Writer* member : group) {
    LEDGER_CHECK(writers_.front() == member);
    writers_.pop_front();
    member->status = status;
    member->done = true;
    if (member != writer) member->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  lock.unlock();
  if (thrown) std::rethrow_exception(thrown);
  return status;
}

Status Ledger::Lead(const Status& failed, std::exception_ptr* thrown,
                    const std::function<Status()>& work) {
  if (!failed.ok()) return failed;
  try {
    return work();
  } catch (...) {
    // Not a callback's (those are caught where they run): the ledger's own
    // work stopped midway.
    *thrown = std::current_exception();
    const Status status = ThrownStatus();
    MarkFailed(status);
    return status;
  }
}

Status Ledger::AppendStream(const BatchSource& source, const BatchCommitted& committed) {
  return StreamFrom(source, &BatchInput::lines, committed);
}

Status Ledger::AppendEventStream(const EventBatchSource& source, const BatchCommitted& committed) {
  return StreamFrom(source, &BatchInput::events, committed);
}

template <typename Item>
Status Ledger::StreamFrom(const std::function<bool(std::vector<Item>*)>& source,
                          std::span<const Item> BatchInput::*field,
                          const BatchCommitted& committed) {
  std::vector<Item> batch;
  return StreamInputs(
      [&](BatchInput* input) {
        batch.clear();
        if (!source(&batch)) return false;
        input->*field = batch;
        return true;
      },
      committed);
}

Status Ledger::StreamInputs(const InputSource& source, const BatchCommitted& committed) {
  Writer self;
  self.stream = true;
  std::unique_lock<std::mutex> lock(mu_);
  writers_.push_back(&self);
  while (&self != writers_.front()) self.cv.wait(lock);
  const Status failed = failed_;
  lock.unlock();
  std::exception_ptr thrown;
  const Status status =
      Lead(failed, &thrown, [&] { return StreamAsLeader(source, committed, &thrown); });
  lock.lock();
  committed_head_ = store_->head();
  writers_.pop_front();
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  lock.unlock();
  if (thrown) {
    if (!status.ok()) spdlog::error("append stream stopped by an exception: {}", status.ToString());
    std::rethrow_exception(thrown);
  }
  return status;
}

namespace internal {

// A sealed batch and its events, which the sink folds in just before the
// batch is written: on the writing thread of a stream, beside the judging
// of the next batch (the rules never read what the sink keeps).
struct SealedWrite {
  EventStore::SealedBatch sealed;
  std::span<const Envelope> envelopes;  // empty without a sink
};

// The second stage of Ledger::AppendStream: a thread that writes sealed
// batches, one at a time, and then delivers their results. The first stage
// hands a batch over with Write and waits for it with Settle before it seals
// the next, so at most one batch is in flight.
class WriteStage {
 public:
  // `write` writes a batch; `durable` runs on the stage's thread after each
  // successful write, before the batch's results go to `committed`.
  WriteStage(std::function<Status(SealedWrite*)> write, std::function<void(const Head&)> durable,
             const Ledger::BatchCommitted& committed)
      : write_(std::move(write)), durable_(std::move(durable)), committed_(committed) {
    thread_ = std::thread([this] { Run(); });
  }
  ~WriteStage() {
    to_write_.Close();
    outcomes_.Close();
    thread_.join();
  }

  // What `committed` threw for a batch Settle has returned; null if nothing.
  std::exception_ptr thrown() const { return settled_thrown_; }
  // The batch Settle waited for, once written or not: its buffer, for
  // EventStore::Reuse.
  std::optional<rocksdb::WriteBatch> TakeSettledBatch() {
    return std::exchange(settled_batch_, {});
  }
  // What `write` threw (the ledger's own work) for a batch Settle has
  // returned as failed; null if nothing.
  std::exception_ptr write_thrown() const { return settled_write_thrown_; }

  void Write(SealedWrite write, const std::vector<AppendResult>* results) {
    const Head head = write.sealed.head;
    to_write_.Push(Sealed{std::move(write), results});
    in_flight_ = head;  // only once handed over: Settle waits for it
  }
  // Waits for the batch handed over last, if one is in flight: the head it
  // ends on once it is written, or why it was not.
  Result<std::optional<Head>> Settle() {
    settled_batch_.reset();
    if (!in_flight_) return std::optional<Head>();
    const Head head = *in_flight_;
    in_flight_.reset();
    const std::optional<Status> outcome = outcomes_.Pop();
    LEDGER_CHECK(outcome.has_value());  // closed only by the destructor
    const Status& status = *outcome;
    settled_thrown_ = thrown_;  // written before the outcome was pushed
    settled_write_thrown_ = write_thrown_;
    settled_batch_.emplace(std::move(written_batch_));
    if (!status.ok()) return status;
    return std::optional<Head>(head);
  }

 private:
  struct Sealed {
    SealedWrite write;
    const std::vector<AppendResult>* results;
  };

  void Run() {
    StopRocksPerfCounters();
    while (std::optional<Sealed> item = to_write_.Pop()) {
      const Status status = WriteOne(&*item);
      written_batch_ = std::move(item->write.sealed.batch);  // before its outcome is pushed
      outcomes_.Push(status);
    }
  }

  Status WriteOne(Sealed* item) {
    Status status;
    try {
      status = write_(&item->write);
    } catch (...) {
      write_thrown_ = std::current_exception();
      return ThrownStatus();
    }
    if (!status.ok()) return status;
    durable_(item->write.sealed.head);
    // The batch is stored whatever the callback does; its exception stops
    // the stream (see thrown()).
    Deliver(committed_, *item->results, &thrown_);
    return status;
  }

  std::function<Status(SealedWrite*)> write_;
  std::function<void(const Head&)> durable_;
  const Ledger::BatchCommitted& committed_;
  BoundedQueue<Sealed> to_write_{1};
  BoundedQueue<Status> outcomes_{1};
  std::optional<Head> in_flight_;  // the first stage's alone
  // The stage's thread's, and the first stage's copies taken in Settle.
  std::exception_ptr thrown_;
  std::exception_ptr write_thrown_;
  std::exception_ptr settled_thrown_;
  std::exception_ptr settled_write_thrown_;
  rocksdb::WriteBatch written_batch_;  // the stage's thread's; then Settle's
  std::optional<rocksdb::WriteBatch> settled_batch_;
  std::thread thread_;
};

}  // namespace internal

Status Ledger::StreamAsLeader(const InputSource& source, const BatchCommitted& committed,
                              std::exception_ptr* thrown) {
  // On the caller's thread, which judges; the writing thread stops its own.
  const RocksPerfCountersStopped perf_counters_stopped;
  Status status;
  std::exception_ptr own_thrown;  // the ledger's own work threw, on either thread
  {
    internal::WriteStage writes([this](internal::SealedWrite* write) { return WriteSealed(write); },
                                [this](const Head& head) {
                                  std::lock_guard<std::mutex> lock(mu_);
                                  committed_head_ = head;
                                },
                                committed);
    // Two batches' results: one being judged, one being written.
    std::vector<AppendResult> results[2];
    size_t slot = 0;
    while (status.ok() && !writes.thrown() && !*thrown) {
      BatchInput input;
      try {
        if (!source(&input)) break;
      } catch (...) {
        *thrown = std::current_exception();
        break;
      }
      try {
        status = StreamBatch(input, &writes, &results[slot], committed, thrown);
      } catch (...) {
        own_thrown = std::current_exception();
        status = ThrownStatus();
      }
      slot ^= 1;
    }
    const Status last = SettleWrite(&writes);
    if (status.ok()) status = last;
    if (!*thrown) *thrown = writes.thrown();
    if (!own_thrown) own_thrown = writes.write_thrown();
  }
  Status result = status;
  if (!status.ok()) {
    result = AbortPending(status);
  } else if (*thrown) {
    // A callback threw: whatever it left judged but unsealed is dropped.
    result = DropPending();
  }
  ReleaseEnvelopes();
  // Rethrown once the stream is settled: Lead marks the ledger failed.
  if (own_thrown) std::rethrow_exception(own_thrown);
  return result;
}

Status Ledger::StreamBatch(const BatchInput& input, internal::WriteStage* writes,
                           std::vector<AppendResult>* results, const BatchCommitted& committed,
                           std::exception_ptr* thrown) {
  LEDGER_CHECK(input.size() <= kAppendBatchEventsMax);
  LEDGER_CHECK(input.line_bytes() <= kAppendBatchBytesMax);
  const uint64_t seq_before = store_->pending_head().seq;
  const Status judged = JudgeBatch(input, RecordedTime_us(), results);
  const bool appended = store_->pending_head().seq != seq_before;
  // The writing thread is the longer one: what can be staged before the
  // batch ahead is written is staged now, so that the writer, once done,
  // waits only for the rules' records. Those must wait: StateStore's
  // OnWritten, for the batch ahead, takes whatever was flushed for written,
  // so this batch's interval writes would be dropped, and its records
  // evicted from the cache, before they were in the database.
  if (judged.ok() && appended) store_->StageIndexEntries();
  // Sealing waits for the batch before: one sealed batch at a time, and this
  // one must not be written if that one failed.
  const Status previous = SettleWrite(writes);
  LEDGER_RETURN_IF_ERROR(judged);
  LEDGER_RETURN_IF_ERROR(previous);
  if (writes->thrown()) return Status::Ok();  // the stream stops: not sealed
  if (!appended) {
    Deliver(committed, *results, thrown);  // nothing to write: duplicates and rejections
    return Status::Ok();
  }
  writes->Write(SealPending(), results);
  return Status::Ok();
}

Status Ledger::SettleWrite(internal::WriteStage* writes) {
  Result<std::optional<Head>> written = writes->Settle();
  if (std::optional<rocksdb::WriteBatch> batch = writes->TakeSettledBatch()) {
    store_->Reuse(std::move(*batch));
  }
  if (!written.ok()) return written.status();
  if (*written) Written(**written);
  return Status::Ok();
}

int64_t Ledger::RecordedTime_us() const {
  // One recorded time per batch, never earlier than the previous batch's.
  return std::max(options_.clock_us(), store_->pending_head().recorded_at_us);
}

Status Ledger::CommitGroup(std::span<Writer* const> group) {
  const int64_t recorded_at_us = RecordedTime_us();
  const uint64_t seq_before = store_->pending_head().seq;
  Status status;
  for (Writer* writer : group) {
    if (status.ok()) status = JudgeBatch(writer->input, recorded_at_us, writer->results);
  }
  if (status.ok() && store_->pending_head().seq != seq_before) {
    internal::SealedWrite write = SealPending();
    status = WriteSealed(&write);
    if (status.ok()) Written(write.sealed.head);
    store_->Reuse(std::move(write.sealed.batch));
  }
  return status.ok() ? status : AbortPending(status);
}

Status Ledger::JudgeBatch(const BatchInput& input, int64_t recorded_at_us,
                          std::vector<AppendResult>* results) {
  results->resize(input.size());
  // simdjson reads a little past the end of its input: the lines come from
  // the caller's buffers, so the parser reads a padded copy.
  LEDGER_RETURN_IF_ERROR(JudgeInChunks(
      input.lines.size(),
      [&](size_t i, ParsedLine* parsed) { return parser_.ParseCopy(input.lines[i], parsed); },
      recorded_at_us, results->data()));
  return JudgeInChunks(
      input.events.size(),
      [&](size_t i, ParsedLine* parsed) {
        return EventFields(input.events[i], zone(), parsed, &digest_scratch_);
      },
      recorded_at_us, results->data());
}

Status Ledger::JudgeInChunks(size_t count, const ParseOne& parse, int64_t recorded_at_us,
                             AppendResult* results) {
  for (size_t begin = 0; begin < count; begin += kJudgeChunkEvents) {
    const size_t size = std::min(kJudgeChunkEvents, count - begin);
    if (chunk_.size() < size) chunk_.resize(size);
    chunk_ids_.clear();
    for (size_t i = 0; i < size; ++i) {
      ParsedSlot& slot = chunk_[i];
      slot.error = parse(begin + i, &slot.line);
      if (!slot.error) slot.error = DecodeEventId(slot.line, &slot.event_id);
      if (!slot.error) chunk_ids_.push_back(slot.event_id);
    }
    LEDGER_RETURN_IF_ERROR(store_->PrefetchEventIds(chunk_ids_));
    for (size_t i = 0; i < size; ++i) {
      ParsedSlot& slot = chunk_[i];
      if (slot.error) {
        Reject(std::move(*slot.error), std::nullopt, &results[begin + i]);
        continue;
      }
      LEDGER_RETURN_IF_ERROR(AppendParsed(slot, recorded_at_us, &results[begin + i]));
    }
    for (size_t i = 0; i < size; ++i) FreeIfGrown(&chunk_[i]);
  }
  return Status::Ok();
}

void Ledger::FreeIfGrown(ParsedSlot* slot) {
  const std::vector<JsonField>& fields = slot->line.fields;
  size_t bytes = fields.capacity() * sizeof(JsonField) + slot->event_id.capacity();
  for (const JsonField& field : fields) bytes += field.key.capacity() + field.text.capacity();
  if (bytes > kSlotBytesKeptMax) *slot = ParsedSlot{};
}

internal::SealedWrite Ledger::SealPending() {
  state_->Flush();
  // The other pool's batch was written or dropped before this seal.
  internal::SealedWrite write{store_->Seal(), std::span(envelope_pools_[pending_pool_index_].data(),
                                                        pending_envelope_count_)};
  pending_pool_index_ ^= 1;
  pending_envelope_count_ = 0;
  return write;
}

Envelope& Ledger::NextEnvelope() {
  if (!sink_) return scratch_envelope_;
  std::vector<Envelope>& pool = envelope_pools_[pending_pool_index_];
  if (pool.size() == pending_envelope_count_) pool.emplace_back();
  return pool[pending_envelope_count_];
}

void Ledger::ReleaseEnvelopes() {
  LEDGER_CHECK(pending_envelope_count_ == 0);
  for (std::vector<Envelope>& pool : envelope_pools_) std::vector<Envelope>().swap(pool);
  store_->ReleaseBatchBuffers();
}

Status Ledger::WriteSealed(internal::SealedWrite* write) {
  if (sink_) {
    for (const Envelope& envelope : write->envelopes) {
      LEDGER_RETURN_IF_ERROR(sink_->Apply(envelope));
    }
    LEDGER_RETURN_IF_ERROR(sink_->Seal(write->sealed.head.seq, &write->sealed.batch));
  }
  return store_->Write(&write->sealed);
}

void Ledger::Written(const Head& head) {
  store_->Written(head);
  state_->OnWritten();
  if (sink_) sink_->Committed();
}

Status Ledger::AbortPending(const Status& cause) {
  const Status reset = DropPending();
  spdlog::error("append batch failed, nothing of it was stored: {}", cause.ToString());
  return reset.ok() ? cause : reset;
}

Status Ledger::DropPending() {
  store_->Abort();
  pending_envelope_count_ = 0;
  if (sink_) sink_->Aborted();
  const Status reset = state_->OnAbort();
  if (!reset.ok()) MarkFailed(reset);
  return reset;
}

void Ledger::MarkFailed(const Status& cause) {
  spdlog::error("appends are refused until the ledger is reopened: {}", cause.ToString());
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_.ok()) {
    failed_ = Status::IoError("appends are refused until the ledger is reopened: " +
                              cause.message());
  }
}

Status Ledger::AppendParsed(const ParsedSlot& slot, int64_t recorded_at_us, AppendResult* result) {
  const ParsedLine& parsed = slot.line;
  incoming_.event_id = slot.event_id;
  result->event_id = incoming_.event_id;

  // Idempotency first: an identical re-send is a duplicate even where
  // appending it anew would break a rule.
  Result<std::optional<IdempotencyEntry>> known = store_->FindNextEventId(incoming_.event_id);
  if (!known.ok()) return known.status();
  if (*known) {
    if ((*known)->content_digest != parsed.content_digest) {
      Reject({ErrorCode::kEventIdConflict, "event " + incoming_.event_id + " was stored as seq " +
                                               std::to_string((*known)->seq) +
                                               " with different content"},
             result->event_id, result);
      return Status::Ok();
    }
    result->outcome = AppendResult::Outcome::kDuplicate;
    result->seq = (*known)->seq;
    return Status::Ok();
  }

  if (std::optional<RuleError> error = DecodeEvent(parsed, &incoming_)) {
    Reject(std::move(*error), result->event_id, result);
    return Status::Ok();
  }
  Envelope& envelope = NextEnvelope();
  Result<std::optional<RuleError>> verdict =
      rules_->Check(incoming_, store_->pending_head().invoices_finalized, &envelope.rating);
  if (!verdict.ok()) return verdict.status();
  if (*verdict) {
    Reject(std::move(**verdict), result->event_id, result);
    return Status::Ok();
  }

  envelope.seq = store_->pending_head().seq + 1;
  envelope.event_id = incoming_.event_id;
  envelope.account = incoming_.account;
  envelope.occurred_at_s = incoming_.occurred_at_s;
  envelope.recorded_at_us = recorded_at_us;
  envelope.content_digest = parsed.content_digest;
  envelope.payload = std::move(incoming_.payload);
  envelope.rules_version = kRulesVersion;
  LEDGER_RETURN_IF_ERROR(store_->StageEvent(&envelope));
  LEDGER_RETURN_IF_ERROR(rules_->Apply(envelope));
  if (envelope.rating.invoice_number != 0) {
    store_->set_pending_invoices_finalized(envelope.rating.invoice_number);
  }
  result->outcome = AppendResult::Outcome::kAppended;
  result->seq = envelope.seq;
  if (sink_) ++pending_envelope_count_;
  return Status::Ok();
}

}  // namespace ledger
