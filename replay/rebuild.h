// Rebuild: every projection from the event log, the snapshots included, into
// a fresh generation of column families, then swapped in atomically
// (projection_set.h explains generations). A crash or kill at any point
// leaves the serving projections intact; the half-built generation is
// dropped at the next open.
//
// Memory stays flat in the length of the log: events are streamed, written
// in bounded batches, and the write-through caches are bounded.
//
// The store must not be appended to while a rebuild runs: the `ledger`
// program holds the database's lock for the whole command.

#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ledger/event_store.h"
#include "projections/kv.h"
#include "projections/snapshot_projection.h"

namespace ledger::replay {

struct FamilyDigest {
  std::string family;  // the base name, e.g. "proj_invoices"
  Sha256 digest{};     // SHA-256 over every (key, value) in key order
  uint64_t entries = 0;
};

// SHA-256 over u32 key size | key | u32 value size | value of every entry, in
// key order: two families are equal exactly when their digests are.
Result<FamilyDigest> DigestFamily(const projections::KvReader& reader, std::string family);

struct RebuildOptions {
  uint64_t to_seq = UINT64_MAX;  // the last event applied (capped at the head)
  bool install = true;           // swap the new generation in (needs to_seq >= head)
  size_t batch_events_max = 50'000;
  // Build the snapshots family too (audit's scratch build does not: it
  // checks the stored snapshots against its read models, see after_event).
  bool snapshots = true;
  projections::SnapshotOptions snapshot_options;
  // Called between batches with the events applied so far and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Called after each event is applied, with the read models' stores
  // (MakeProjections' order) as they stand right after it; a non-ok Status
  // stops the build. The audit compares stored snapshots there.
  std::function<Status(const Envelope& envelope,
                       const std::vector<projections::ProjectionStore*>& read_models)>
      after_event;
};

struct RebuildResult {
  uint64_t events = 0;
  uint64_t last_seq = 0;
  uint64_t generation = 0;  // of the new families
  std::vector<FamilyDigest> digests;  // the read models', then proj_snapshots' if built
};

Result<RebuildResult> Rebuild(EventStore& store, const RebuildOptions& options);

// Drops every projection family of `generation` (absent ones are fine).
Status DropGeneration(EventStore& store, uint64_t generation);

// Builds generation `generation` up to `to_seq` and leaves it in place (not
// installed); the caller compares and drops it (Audit does).
Result<RebuildResult> BuildGeneration(EventStore& store, uint64_t generation, uint64_t to_seq,
                                      const RebuildOptions& options);

}  // namespace ledger::replay
