// EventSink: something that folds every appended event into state of its own
// (the projections), inside the append's own WriteBatch, so a query right
// after `append` sees the event and a crash can never leave that state ahead
// of or behind the log. The event store knows nothing of what a sink keeps.
//
// Called by the single writer only, in sequence order.

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
  // Writes what marks the batch's end (a checkpoint) just before it commits.
  virtual Status Seal(uint64_t last_seq, rocksdb::WriteBatch* batch) = 0;
  // The batch was written: pending state becomes committed state.
  virtual void Committed() = 0;
  // The batch was dropped: forget everything it changed.
  virtual void Aborted() = 0;
};

}  // namespace ledger
