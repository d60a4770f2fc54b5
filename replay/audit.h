// Audit: proves that every figure follows from the log and that the log was
// not altered. Checks, in order:
//
//   hash_chain      every stored event decodes, its hash covers its bytes, it
//                   sits under its own sequence number, sequence numbers run
//                   1..head without a gap, and each prev_hash is the previous
//                   event's hash; the meta head names the last event.
//   account_index   the per-account index files every event exactly once,
//                   under the event's own account, in well-formed entries.
//   idempotency     the idempotency index holds exactly each event's id,
//                   sequence number and content digest.
//   projections     every stored projection equals a fresh replay of the log
//                   (a digest per family; the first differing key if not);
//                   every stored snapshot equals its account's keys in
//                   that replay right after the event at its seq, and every
//                   snapshot counter its account's event count (the first
//                   bad one; see SnapshotAuditor in audit.cc).
//   digest          (when asked) the log's first SEQ events are the ones an
//                   auditor's earlier digest SEQ:HASH was taken over.
//
// Memory stays flat in the length of the log (the snapshots' positions are
// held, a few per 4,096 events of an account). Failures name the first bad
// sequence number or key and what is wrong. The store must not be appended
// to meanwhile (the `ledger` program holds the database lock).

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/event_store.h"
#include "replay/rebuild.h"

namespace ledger::replay {

struct AuditFailure {
  std::string check;
  uint64_t seq = 0;     // the first bad sequence number, 0 when the failure is a key
  std::string key;      // the first bad key (printable form), when it is one
  std::string problem;
};

struct AuditCheck {
  std::string name;
  bool ok = true;
  bool ran = true;  // false: skipped, because an earlier check failed (rules_state: or the
                    // ratings check stopped its rebuild at an event)
};

struct AuditReport {
  uint64_t events = 0;  // chained from seq 1: up to the first broken link, if one is
  uint64_t head_seq = 0;
  Sha256 head_hash{};
  std::vector<AuditCheck> checks;
  std::vector<AuditFailure> failures;
  std::vector<FamilyDigest> projection_digests;  // of the stored projections

  bool ok() const { return failures.empty(); }
};

struct LedgerDigest {
  uint64_t seq = 0;
  Sha256 hash{};
};
// "SEQ:HASH" as `ledger digest` prints it.
std::optional<LedgerDigest> ParseLedgerDigest(std::string_view text);

struct AuditOptions {
  std::optional<LedgerDigest> digest;
  bool projections = true;
  // Called now and then with the events checked and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

Result<AuditReport> Audit(EventStore& store, const AuditOptions& options);

}  // namespace ledger::replay
