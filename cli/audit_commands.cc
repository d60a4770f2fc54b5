// `ledger replay`, `ledger verify` and `ledger digest`.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/json_writer.h"
#include "ledger/event_codec.h"
#include "replay/audit.h"
#include "replay/rebuild.h"

namespace ledger::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Maintenance opens the store alone: no projection set holds the families a
// rebuild replaces.
Result<std::unique_ptr<Ledger>> OpenForMaintenance(const GlobalOptions& global) {
  LedgerOptions options;
  options.store.path = global.db;
  options.store.create_if_missing = false;
  return OpenToWrite(global, options);
}

// Progress on stderr, when it is a terminal: events done, rate, ETA.
std::function<void(uint64_t, uint64_t)> TerminalProgress(const char* what, Clock::time_point start) {
  if (isatty(STDERR_FILENO) == 0) return nullptr;
  return [what, start](uint64_t done, uint64_t total) {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : 0;
    std::fprintf(stderr, "\r%s: %llu / %llu events, %.0f events/s, ETA %.0f s   ", what,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), rate,
                 eta);
    std::fflush(stderr);
  };
}

void EndProgressLine() {
  if (isatty(STDERR_FILENO) != 0) std::fputs("\n", stderr);
}

void WriteDigests(const std::vector<replay::FamilyDigest>& digests, JsonWriter* w) {
  w->Key("projections").BeginArray();
  for (const replay::FamilyDigest& digest : digests) {
    w->BeginObject().Field("family", digest.family).Field("entries", digest.entries);
    w->Field("digest", HexOf(digest.digest)).EndObject();
  }
  w->EndArray();
}

std::string DigestsText(const std::vector<replay::FamilyDigest>& digests) {
  std::string out;
  for (const replay::FamilyDigest& digest : digests) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-20s %10llu entries  %s\n", digest.family.c_str(),
                  static_cast<unsigned long long>(digest.entries), HexOf(digest.digest).c_str());
    out += line;
  }
  return out;
}

// A verification the ledger's files themselves fail (a block checksum, a
// missing table file): a failed check, not a command that could not run.
replay::AuditReport DamagedFilesReport(const Status& status) {
  replay::AuditReport report;
  report.checks.push_back({"storage", /*ok=*/false, /*ran=*/true});
  report.failures.push_back({"storage", 0, "", status.message()});
  return report;
}

// Whether the report's checks ran over the ledger (its events and head are
// known), rather than stopping at its damaged files.
bool Audited(const replay::AuditReport& report) {
  return report.checks.empty() || report.checks.front().name != "storage";
}

// The audit of the ledger `global` names; opening it can fail like the audit.
Result<replay::AuditReport> OpenAndAudit(const GlobalOptions& global,
                                         replay::AuditOptions options) {
  // A ledger this user may not write (a read-only snapshot, a backup's
  // mount) is audited as it lies: nobody appends to it meanwhile. Only the
  // projections' check cannot run there: it rebuilds them beside the ledger.
  const bool read_only = ReadOnlyHere(global.db);
  if (read_only && options.projections) {
    return Status::InvalidArgument(
        "this user may not write in " + global.db +
        ": verify checks the projections by rebuilding them beside the ledger. Check a "
        "writable copy, or pass --skip-projections to check everything else here");
  }
  Result<std::unique_ptr<Ledger>> ledger =
      read_only ? OpenLedgerToRead(global, /*with_projections=*/false) : OpenForMaintenance(global);
  // The writer's open failed to write (a full disk) and nobody holds the
  // ledger: what needs no writing is checked as it lies.
  if (!ledger.ok() && ledger.status().code() == Status::Code::kNoSpace && !read_only &&
      !options.projections && !EventStore::OpenElsewhere(global.db)) {
    if (Result<std::unique_ptr<Ledger>> read = OpenLedgerAsSecondary(global, false); read.ok()) {
      ledger = std::move(read);
    }
  }
  if (!ledger.ok()) return ledger.status();
  options.progress = TerminalProgress("verify", Clock::now());
  Result<replay::AuditReport> report = replay::Audit((*ledger)->store(), options);
  EndProgressLine();
  return report;
}

// The report as `verify` prints it.
std::string VerifyReportText(const replay::AuditReport& report, const std::string& format) {
  std::string out;
  if (format == "json") {
    JsonWriter w(&out);
    w.BeginObject().Field("ok", report.ok());
    if (Audited(report)) {
      w.Field("events", report.events).Field("head_seq", report.head_seq);
      w.Field("head_hash", HexOf(report.head_hash));
    } else {  // unknown: not the empty ledger's zeros
      w.Key("events").Null().Key("head_seq").Null().Key("head_hash").Null();
    }
    w.Field("peak_rss_kib", PeakRssKib());
    w.Key("checks").BeginArray();
    for (const replay::AuditCheck& check : report.checks) {
      w.BeginObject().Field("name", check.name);
      w.Field("status", !check.ran ? "skipped" : check.ok ? "ok" : "failed").EndObject();
    }
    w.EndArray().Key("failures").BeginArray();
    for (const replay::AuditFailure& failure : report.failures) {
      w.BeginObject().Field("check", failure.check).Key("seq");
      if (failure.seq != 0) {
        w.Int(static_cast<int64_t>(failure.seq));
      } else {
        w.Null();
      }
      w.Key("key");
      if (failure.key.empty()) {
        w.Null();
      } else {
        w.String(failure.key);
      }
      w.Field("problem", failure.problem).EndObject();
    }
    w.EndArray();
    WriteDigests(report.projection_digests, &w);
    w.EndObject();
    out.push_back('\n');
  } else {
    out = std::string("ledger verify: ") + (report.ok() ? "OK" : "FAILED") + "\n";
    if (Audited(report)) {
      out += "events " + std::to_string(report.events) + ", head seq " +
             std::to_string(report.head_seq) + ", head hash " + HexOf(report.head_hash) + "\n";
    }
    for (const replay::AuditCheck& check : report.checks) {
      char line[128];
      std::snprintf(line, sizeof line, "  %-14s %s\n", check.name.c_str(),
                    !check.ran ? "skipped"
                    : check.ok ? "ok"
                               : "FAILED");
      out += line;
    }
    for (const replay::AuditFailure& failure : report.failures) {
      out += "FAILED " + failure.check +
             (failure.seq ? " at seq " + std::to_string(failure.seq) : "") +
             (failure.key.empty() ? "" : " key " + failure.key) + ": " + failure.problem + "\n";
    }
    if (!report.projection_digests.empty())
      out += "stored projections:\n" + DigestsText(report.projection_digests);
  }
  return out;
}

}  // namespace

int RunReplay(const GlobalOptions& global, std::optional<uint64_t> to_seq, const std::string& format) {
  Result<std::unique_ptr<Ledger>> ledger = OpenForMaintenance(global);
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  EventStore& store = (*ledger)->store();
  if (to_seq && *to_seq > store.head().seq) {
    return CannotRun("--to-seq " + std::to_string(*to_seq) + " is after the last event (" +
                     std::to_string(store.head().seq) + ")");
  }
  const Clock::time_point start = Clock::now();
  replay::RebuildOptions options;
  options.install = !to_seq.has_value() || *to_seq == store.head().seq;
  options.to_seq = to_seq.value_or(UINT64_MAX);
  options.progress = TerminalProgress("replay", start);
  Result<replay::RebuildResult> rebuilt = replay::Rebuild(store, options);
  EndProgressLine();
  if (!rebuilt.ok()) return CannotRun(rebuilt.status().ToString());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto rate = static_cast<uint64_t>(seconds > 0 ? static_cast<double>(rebuilt->events) / seconds : 0);
  spdlog::info("replayed {} events in {:.3f} s ({} events/s)", rebuilt->events, seconds, rate);
  std::string out;
  if (format == "json") {
    JsonWriter w(&out);
    w.BeginObject().Field("events", rebuilt->events).Field("last_seq", rebuilt->last_seq);
    w.Field("installed", options.install).Field("generation", rebuilt->generation);
    w.Key("seconds").Int(static_cast<int64_t>(seconds * 1000) / 1000);
    w.Field("events_per_second", rate).Field("peak_rss_kib", PeakRssKib());
    WriteDigests(rebuilt->digests, &w);
    w.EndObject();
    out.push_back('\n');
  } else {
    char line[256];
    std::snprintf(line, sizeof line,
                  "replayed %llu events (through seq %llu) in %.3f s, %llu events/s, peak RSS %llu "
                  "MiB; %s\n",
                  static_cast<unsigned long long>(rebuilt->events),
                  static_cast<unsigned long long>(rebuilt->last_seq), seconds,
                  static_cast<unsigned long long>(rate),
                  static_cast<unsigned long long>(PeakRssKib() / 1024),
                  options.install ? ("installed as projection generation " +
                                     std::to_string(rebuilt->generation)).c_str()
                                  : "not installed (projections must match the log's head)");
    out = line + DigestsText(rebuilt->digests);
  }
  WriteOut(out);
  return kExitOk;
}

int RunVerify(const GlobalOptions& global, const std::optional<std::string>& digest,
              bool projections, const std::string& format) {
  replay::AuditOptions options;
  if (digest) {
    options.digest = replay::ParseLedgerDigest(*digest);
    if (!options.digest) return CannotRun("--digest must be SEQ:HASH as `ledger digest` prints it");
  }
  options.projections = projections;
  Result<replay::AuditReport> report = OpenAndAudit(global, std::move(options));
  if (!report.ok() && report.status().code() == Status::Code::kCorruption) {
    report = DamagedFilesReport(report.status());
  }
  if (!report.ok()) return CannotRun(report.status().ToString());
  WriteOut(VerifyReportText(*report, format));
  return report->ok() ? kExitOk : kExitRejected;
}

namespace {

// The head is kept apart from the log (FORMAT.md, "meta"). Before an auditor
// keeps it, it must name the log's last event: the event at its seq, whose
// own hash holds and is the head's, and none after it. Two reads; `verify`
// checks the whole chain.
Status HeadMatchesLog(const EventStore& store, const Head& head) {
  std::string value;
  const std::string where = "the head (seq " + std::to_string(head.seq) + ")";
  if (head.seq > 0) {
    const Status last = store.ReadRawEvent(head.seq, &value);
    if (last.code() == Status::Code::kNotFound) {
      return Status::Corruption(where + " names an event the log lacks");
    }
    LEDGER_RETURN_IF_ERROR(last);
    Envelope envelope;
    LEDGER_RETURN_IF_ERROR(DecodeEnvelope(value, &envelope));
    if (envelope.hash != head.hash) {
      return Status::Corruption(where + " has a hash other than its event's");
    }
  }
  const Status next = store.ReadRawEvent(head.seq + 1, &value);
  if (next.ok()) return Status::Corruption("the log holds events after " + where);
  return next.code() == Status::Code::kNotFound ? Status::Ok() : next;
}

}  // namespace

int RunDigest(const GlobalOptions& global, const std::string& format) {
  Result<std::unique_ptr<Ledger>> ledger = OpenLedgerToRead(global, /*with_projections=*/false);
  if (!ledger.ok()) return CannotRun(ledger.status().ToString());
  const Head head = (*ledger)->head();
  if (const Status matches = HeadMatchesLog((*ledger)->store(), head); !matches.ok()) {
    std::fprintf(stderr, "ledger: no digest: %s; `ledger verify` tells more\n",
                 matches.ToString().c_str());
    return matches.code() == Status::Code::kCorruption ? kExitRejected : kExitCannotRun;
  }
  std::string out;
  if (format == "json") {
    JsonWriter w(&out);
    w.BeginObject().Field("seq", head.seq).Field("hash", HexOf(head.hash));
    w.Field("digest", std::to_string(head.seq) + ":" + HexOf(head.hash)).EndObject();
    out.push_back('\n');
  } else {
    out = std::to_string(head.seq) + ":" + HexOf(head.hash) + "\n";
  }
  WriteOut(out);
  return kExitOk;
}

}  // namespace ledger::cli
