// EventSink: something that folds every appended event into state of its own
// (the projections), inside the append's own WriteBatch, so a query right
// after `append` sees the event and a crash can never leave that state ahead
// of or behind the log. The event store knows nothing of what a sink keeps.
//
// Called by the single writer only (one thread at a time), in sequence order:
// a batch's events are applied just before the batch is written, on the
// thread that writes it (a stream's second thread), while the rules judge
// the next batch on the first. So a sink may read the store's committed
// state but never the ledger's pending one.

#pragma once

#include <rocksdb/write_batch.h>

#include "ledger/event.h"
#include "ledger/status.h"

namespace ledger {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Folds one accepted event into the sink's state. Its writes wait in the
  // sink until Seal puts them into the batch.
  virtual Status Apply(const Envelope& envelope) = 0;
  // Puts the batch's writes into `batch`, with what marks the batch's end (a
  // checkpoint), just before it commits.
  virtual Status Seal(uint64_t last_seq, rocksdb::WriteBatch* batch) = 0;
  // The sealed batch was written: its state is committed state.
  virtual void Committed() = 0;
  // The batch was dropped, sealed or not: forget what it changed.
  virtual void Aborted() = 0;
};

}  // namespace ledger
