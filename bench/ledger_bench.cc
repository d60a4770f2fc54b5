// ledger_bench: the ledger's numbers next to their limits and a peer, on one
// generated CCM event stream (bench/workload.h).
//
//   ledger_bench [--events 1000000] [--accounts 100] [--seed 1] [--quick] [--rounds 3]
//                [--dir /tmp] [--skip-postgres] [--json FILE] [--keep] [--only-as-of]
//
// Stages, each one row of the report:
//   ledger append          the real `ledger append FILE` program into a fresh ledger
//   Ledger::AppendStream   the library in-process, same JSON lines, batches as the CLI's
//   Ledger::AppendEventStream  the typed API: the same events, decoded beforehand
//   floor: ...             the raw write plus an event-id index, JSON decoding, and
//                          the stored value's Cereal encoding and SHA-256, each
//                          alone: what any idempotent, hash-chained JSON ledger
//                          storing Cereal must spend
//   the ledger's writes alone  the WriteBatches an in-process append wrote (every
//                          family), written again into a fresh ledger, synced, each
//                          batch's ids looked up first: this ledger's storage work
//   floors as a pipeline   the three floors on two threads, as `ledger append`
//                          runs its stages: the most a ledger of this design can
//                          ingest here, before any rule, rating or projection
//   raw RocksDB write      the stored values (already encoded) into a bare RocksDB,
//                          1,000 per synced WriteBatch: the limit of the store, as
//                          the benchmark issue defines it; again with batches as
//                          large as `ledger append`'s, which the floors use
//   raw RocksDB scan       that DB read back, every value through DecodeEnvelope
//   (rounds)               `ledger append` and the raw write again, one after the
//                          other, --rounds times: their rows give the median round
//   PostgreSQL COPY        the peer: the same events COPYed, 1,000 rows a commit
//   PostgreSQL invoice SQL one account's month total by SQL
//   ledger replay          `ledger replay` (replay::Rebuild) on the first ledger
//   ledger verify          `ledger verify` (replay::Audit) on it
//   (rounds)               `ledger replay` and the raw scan again, one after the
//                          other, --rounds times: their rows give the median round
//   invoice query          ReadInvoice over CommittedProjections, random accounts
//   invoice --as-of-seq    HistoricalProjections::Build + ReadInvoice, one heavy account,
//                          at seeded seqs inside its history (snapshot + tail)
//   concurrent appenders   8 threads, one event per AppendBatch
//   raw RocksDB, 8 writers their limit: 8 threads, one stored value per synced Put
//
// Numbers only: there are no thresholds. A stage whose counts do not add up
// is FAILED and the program exits 1; the smoke test relies on that.
//
// Everything the program creates lives in one fresh folder under --dir, removed
// at the end (--keep leaves it). The PostgreSQL server it starts is stopped on
// every way out it controls, including SIGINT and SIGTERM.

#include <absl/container/flat_hash_set.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if LEDGER_BENCH_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "bench/workload.h"
#include "cli/allocator.h"
#include "ledger/billing_time.h"
#include "ledger/constants.h"
#include "ledger/event.h"
#include "ledger/event_codec.h"
#include "ledger/event_decoder.h"
#include "ledger/json_input.h"
#include "ledger/ledger.h"
#include "ledger/money.h"
#include "projections/projection_set.h"
#include "projections/queries.h"

#ifndef LEDGER_BINARY
#define LEDGER_BINARY "ledger"
#endif

extern char** environ;

namespace ledger::bench {
namespace {

using Clock = std::chrono::steady_clock;

double CpuSeconds(const struct rusage& usage) {
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// This process's CPU time so far, every thread (RocksDB's too).
double ProcessCpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return CpuSeconds(usage);
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------
// The report.

struct Row {
  explicit Row(std::string name) : stage(std::move(name)) {}

  std::string stage;
  std::string status = "not run";  // "ok", "skipped", "FAILED", "not run"
  uint64_t count = 0;
  std::string unit = "events";
  double seconds = 0;
  double rate_per_s = 0;  // count / seconds, 0 when not meaningful
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
  // CPU time (user + system, every thread) per unit: what a stage costs the
  // machine, not only how long it took.
  std::optional<double> cpu_us;
  std::string notes;

  void Ok(uint64_t n, double s) {
    status = "ok";
    count = n;
    seconds = s;
    rate_per_s = s > 0 ? static_cast<double>(n) / s : 0;
  }
  void SetCpu(double cpu_s) {
    if (count > 0) cpu_us = cpu_s * 1e6 / static_cast<double>(count);
  }
  void Fail(std::string why) {
    status = "FAILED";
    notes = notes.empty() ? std::move(why) : notes + "; " + why;
  }
  void Skip(std::string why) {
    status = "skipped";
    notes = std::move(why);
  }
  bool ok() const { return status == "ok"; }
};

struct Report {
  Row cli_append{"ledger append (CLI, JSON, durable)"};
  Row api_append{"Ledger::AppendStream (in-process, JSON)"};
  Row typed_append{"Ledger::AppendEventStream (typed)"};
  Row raw_write{"raw RocksDB write (encoded, sync/1000)"};
  Row raw_write_ledger_batches{"raw RocksDB write (encoded, sync/16384)"};
  static_assert(kAppendBatchEventsMax == 16384, "the row and ratio names give the batch size");
  Row floor_ids{"floor: raw write + event-id index"};
  Row floor_parse{"floor: JSON parse + decode"};
  Row floor_encode{"floor: Cereal + SHA-256 chain"};
  Row floor_writes{"the ledger's writes alone"};
  Row floor_pipeline{"floors as a 2-thread pipeline"};
  Row raw_scan{"raw RocksDB scan + DecodeEnvelope"};
  Row pg_copy{"PostgreSQL COPY (1000-row commits)"};
  Row pg_query{"PostgreSQL invoice total (SQL)"};
  Row replay{"ledger replay (Rebuild)"};
  Row verify{"ledger verify (Audit)"};
  Row invoice{"invoice query (committed)"};
  Row as_of{"invoice --as-of-seq (historical)"};
  Row concurrent{"concurrent appenders (8 threads)"};
  Row raw_concurrent{"raw RocksDB, 8 writers (synced Put)"};
  // A pair's rates per round, events/s, in the order run: the ledger's
  // stage and its limit's (KeepMedianRound).
  struct RoundRates {
    double ledger_per_s = 0;
    double limit_per_s = 0;
  };
  std::vector<RoundRates> ingest_rounds;  // `ledger append`, the raw write
  std::vector<RoundRates> replay_rounds;  // `ledger replay`, the raw scan
  int writer_threads = 8;  // of the concurrent stages (--threads)

  Report() {
    for (Row* row : {&pg_query, &invoice, &as_of}) row->unit = "queries";
  }

  std::vector<Row*> rows() {
    return {&cli_append, &api_append,  &typed_append, &raw_write,     &raw_write_ledger_batches,
            &floor_ids,  &floor_parse, &floor_encode, &floor_writes,  &floor_pipeline,
            &raw_scan,   &pg_copy,     &pg_query,     &replay,        &verify,
            &invoice,    &as_of,       &concurrent,   &raw_concurrent};
  }
};

std::string Fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string Grouped(double value) {
  const auto n = static_cast<uint64_t>(value + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string JsonNumber(std::optional<double> value) {
  if (!value) return "null";
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", *value);
  return text;
}

// ---------------------------------------------------------------------------
// Latencies.

struct Percentiles {
  double p50_ms = 0;
  double p99_ms = 0;
};

// Nearest-rank percentiles of `samples_ns` (sorted in place).
Percentiles PercentilesOf(std::vector<int64_t>* samples_ns) {
  Percentiles p;
  if (samples_ns->empty()) return p;
  std::sort(samples_ns->begin(), samples_ns->end());
  const auto at = [&](double q) {
    const size_t rank = static_cast<size_t>(q * static_cast<double>(samples_ns->size()) + 0.999999);
    const size_t index = std::min(samples_ns->size() - 1, rank == 0 ? 0 : rank - 1);
    return static_cast<double>((*samples_ns)[index]) / 1e6;
  };
  p.p50_ms = at(0.50);
  p.p99_ms = at(0.99);
  return p;
}

int64_t NanosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------
// Child processes.

struct ProcessResult {
  bool started = false;
  std::string error;   // why it did not start
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  double seconds = 0;
  // wait4's ru_maxrss: counts the spawning process's pages too (shared until
  // exec), so it is only an upper bound; commands that report their own
  // peak (`peak_rss_kib`) are read from their output instead.
  long max_rss_kb = 0;
  // The child's own peak: its VmHWM, read every kRssPollMs while it runs
  // (0 if it ended before the first read).
  long peak_rss_kb = 0;
  double cpu_s = 0;     // user + system time of the child
  std::string err;      // its stderr, the first 64 KiB
};

constexpr int kRssPollMs = 20;

// The peak resident set of process `pid` so far (VmHWM), in KiB; 0 if it
// cannot be read (the process has ended).
long PeakRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

struct SpawnOptions {
  std::string cwd;  // empty: ours
  // Called with each chunk of stdout; nullptr (and no stdout_file): stdout
  // goes to /dev/null.
  std::function<void(std::string_view)> on_stdout;
  // Non-empty: stdout goes to this file instead (created or emptied), for
  // the caller to read once the program is over, so that reading it takes
  // no CPU from the program while it is timed.
  std::string stdout_file;
};

// Runs `argv` (argv[0] searched in PATH), stdin from /dev/null, and waits.
// posix_spawn, not fork: this process has RocksDB's threads running.
ProcessResult RunProcess(const std::vector<std::string>& argv, const SpawnOptions& options) {
  ProcessResult result;
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!options.stdout_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.stdout_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else if (options.on_stdout) {
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  const Clock::time_point start = Clock::now();
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawned != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.error = "cannot run " + argv[0] + ": " + std::strerror(spawned);
    return result;
  }
  result.started = true;

  // Drain both pipes until both close; stdout can be large (one result line
  // per appended event), stderr is kept for messages.
  std::vector<char> buffer(1 << 16);
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                     {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    const int ready = poll(fds, 2, kRssPollMs);
    result.peak_rss_kb = std::max(result.peak_rss_kb, PeakRssKib(pid));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = read(out_pipe[0], buffer.data(), buffer.size());
      if (n <= 0) {
        out_open = false;
      } else if (options.on_stdout) {
        options.on_stdout(std::string_view(buffer.data(), static_cast<size_t>(n)));
      }
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = read(err_pipe[0], buffer.data(), buffer.size());
      if (n <= 0) {
        err_open = false;
      } else if (result.err.size() < (64 << 10)) {
        result.err.append(buffer.data(), static_cast<size_t>(n));
      }
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);

  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.seconds = SecondsSince(start);
  result.max_rss_kb = usage.ru_maxrss;
  result.cpu_s = CpuSeconds(usage);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string Describe(const ProcessResult& result) {
  if (!result.started) return result.error;
  std::string text = result.signal != 0 ? "killed by signal " + std::to_string(result.signal)
                                        : "exit " + std::to_string(result.exit_code);
  std::string err = result.err.substr(0, 400);
  std::replace(err.begin(), err.end(), '\n', ' ');
  if (!err.empty()) text += ": " + err;
  return text;
}

// Calls `on_line` for every complete line of a stream given in chunks.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(std::string_view)> on_line)
      : on_line_(std::move(on_line)) {}
  void Feed(std::string_view chunk) {
    while (!chunk.empty()) {
      const size_t end = chunk.find('\n');
      if (end == std::string_view::npos) {
        partial_.append(chunk);
        return;
      }
      if (partial_.empty()) {
        on_line_(chunk.substr(0, end));
      } else {
        partial_.append(chunk.substr(0, end));
        on_line_(partial_);
        partial_.clear();
      }
      chunk.remove_prefix(end + 1);
    }
  }
  void Finish() {
    if (!partial_.empty()) on_line_(partial_);
    partial_.clear();
  }

 private:
  std::function<void(std::string_view)> on_line_;
  std::string partial_;
};

// Feeds the file at `path` to `splitter`, to its end; a file that cannot be
// read feeds nothing (the caller's counts then say so).
void ReadLines(const std::string& path, LineSplitter* splitter) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    splitter->Feed(std::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  splitter->Finish();
}

// The unsigned number after `"key":` in a JSON line; nullopt when absent.
std::optional<uint64_t> JsonUint(std::string_view line, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const size_t at = line.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + needle.size();
  if (i >= line.size() || line[i] < '0' || line[i] > '9') return std::nullopt;
  uint64_t value = 0;
  for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i)
    value = value * 10 + static_cast<uint64_t>(line[i] - '0');
  return value;
}

// ---------------------------------------------------------------------------
// The event stream, kept in memory as one arena.

struct Stream {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, size
  std::string_view line(size_t index) const {
    return std::string_view(arena).substr(spans[index].first, spans[index].second);
  }
  size_t size() const { return spans.size(); }
};

Stream Generate(const WorkloadOptions& options) {
  Stream stream;
  GenerateWorkload(options, [&](const std::string& line) {
    stream.spans.emplace_back(stream.arena.size(), line.size());
    stream.arena += line;
  });
  return stream;
}

// Writes the stream as JSON Lines, synced: otherwise the kernel writes the
// file back (220 MiB at 1M events) while the first stage runs, and that
// stage's WAL syncs wait behind it.
bool WriteFile(const std::string& path, const Stream& stream) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  bool ok = true;
  for (size_t i = 0; i < stream.size() && ok; ++i) {
    const std::string_view line = stream.line(i);
    ok = std::fwrite(line.data(), 1, line.size(), file) == line.size() &&
         std::fputc('\n', file) != EOF;
  }
  ok = ok && std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  return std::fclose(file) == 0 && ok;
}

struct Outcomes {
  uint64_t appended = 0;
  uint64_t duplicate = 0;
  uint64_t rejected = 0;
  uint64_t total() const { return appended + duplicate + rejected; }
  void Count(std::span<const AppendResult> results) {
    for (const AppendResult& result : results) {
      appended += result.outcome == AppendResult::Outcome::kAppended;
      duplicate += result.outcome == AppendResult::Outcome::kDuplicate;
      rejected += result.outcome == AppendResult::Outcome::kRejected;
    }
  }
  std::string Text() const {
    return "appended " + std::to_string(appended) + ", duplicate " + std::to_string(duplicate) +
           ", rejected " + std::to_string(rejected);
  }
};

// ---------------------------------------------------------------------------
// Machine.

struct Machine {
  unsigned cores = 0;
  std::string allocator;  // what this program and `ledger` allocate with
  int fsync_runs = 0;
  double fdatasync_mean_ms = 0;
  Percentiles fdatasync;               // appends: the file grows
  Percentiles fdatasync_preallocated;  // overwrites of synced blocks
  std::string fsync_error;
};

Machine MeasureMachine(const std::string& dir, int runs) {
  Machine machine;
#if LEDGER_BENCH_JEMALLOC
  machine.allocator =
      ledger::cli::AllocatorName() + ", `ledger` (" + ledger::cli::kLedgerMallocConf + ")";
#else
  machine.allocator = "the sanitizer's";  // only the sanitizer build lacks jemalloc
#endif
  machine.cores = std::thread::hardware_concurrency();
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0) machine.cores = static_cast<unsigned>(online);
  const std::string path = dir + "/fdatasync.probe";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    machine.fsync_error = std::strerror(errno);
    return machine;
  }
  std::vector<char> block(4096, 'x');
  std::vector<int64_t> samples;
  int64_t total_ns = 0;
  for (int i = 0; i < runs; ++i) {
    const Clock::time_point start = Clock::now();
    // Appends, as a write-ahead log does: the file grows with every write.
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        fdatasync(fd) != 0) {
      machine.fsync_error = std::strerror(errno);
      break;
    }
    samples.push_back(NanosSince(start));
    total_ns += samples.back();
  }
  machine.fsync_runs = static_cast<int>(samples.size());
  if (!samples.empty())
    machine.fdatasync_mean_ms =
        static_cast<double>(total_ns) / 1e6 / static_cast<double>(samples.size());
  machine.fdatasync = PercentilesOf(&samples);

  // The same over blocks written and synced before: fdatasync then has no
  // file size or extent state to write back, only the data, which is the
  // cheapest durable write the disk offers. The two bound what one durable
  // commit costs here.
  std::vector<int64_t> overwrite;
  if (machine.fsync_error.empty() && fsync(fd) == 0) {
    for (int i = 0; i < runs; ++i) {
      const Clock::time_point start = Clock::now();
      if (pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) !=
              static_cast<ssize_t>(block.size()) ||
          fdatasync(fd) != 0) {
        break;
      }
      overwrite.push_back(NanosSince(start));
    }
  }
  machine.fdatasync_preallocated = PercentilesOf(&overwrite);
  close(fd);
  unlink(path.c_str());
  return machine;
}

// ---------------------------------------------------------------------------
// Stage 1: `ledger append` on the JSON Lines file.

struct CliAppend {
  Outcomes outcomes;
  std::vector<uint64_t> line_of_seq;  // line_of_seq[seq] = the input line (1-based); 0 unused
};

CliAppend RunCliAppend(const std::string& ledger_binary, const std::string& db,
                       const std::string& events_file, uint64_t lines, Row* row) {
  CliAppend out;
  out.line_of_seq.assign(lines + 1, 0);
  LineSplitter splitter([&](std::string_view line) {
    if (line.find("\"status\":\"appended\"") != std::string_view::npos) {
      ++out.outcomes.appended;
      const std::optional<uint64_t> seq = JsonUint(line, "seq");
      const std::optional<uint64_t> number = JsonUint(line, "line");
      if (seq && number && *seq <= lines) out.line_of_seq[*seq] = *number;
    } else if (line.find("\"status\":\"duplicate\"") != std::string_view::npos) {
      ++out.outcomes.duplicate;
    } else if (line.find("\"status\":\"rejected\"") != std::string_view::npos) {
      ++out.outcomes.rejected;
    }
  });
  // The result lines go to a file, read once the append is over: parsing
  // them while it runs took CPU from it on the same cores (a user's
  // `ledger append FILE > results` pays no such cost).
  SpawnOptions options;
  options.stdout_file = db + "-results.jsonl";
  const ProcessResult result =
      RunProcess({ledger_binary, "--db", db, "append", events_file}, options);
  ReadLines(options.stdout_file, &splitter);
  std::error_code ec;
  std::filesystem::remove(options.stdout_file, ec);
  // Exit 1 only means some event was rejected; the count check below decides.
  if (!result.started || result.signal != 0 || (result.exit_code != 0 && result.exit_code != 1)) {
    row->Fail(Describe(result));
    return out;
  }
  row->Ok(out.outcomes.appended + out.outcomes.duplicate, result.seconds);
  row->SetCpu(result.cpu_s);
  row->notes = out.outcomes.Text() + ", exit " + std::to_string(result.exit_code) + ", peak RSS " +
               std::to_string(result.peak_rss_kb / 1024) + " MiB (VmHWM, read every " +
               std::to_string(kRssPollMs) + " ms)";
  if (out.outcomes.total() != lines) {
    row->Fail(std::to_string(out.outcomes.total()) + " results for " + std::to_string(lines) +
              " lines");
  }
  return out;
}

// ---------------------------------------------------------------------------
// Stage 2: Ledger::AppendStream in-process.

Result<std::unique_ptr<Ledger>> OpenLedger(const std::string& path, bool projections,
                                           projections::ProjectionOptions projection_options = {}) {
  LedgerOptions options;
  options.store.path = path;
  options.store.create_if_missing = true;
  return Ledger::Open(projections
                          ? projections::WithProjections(std::move(options), projection_options)
                          : std::move(options));
}

// Appends every line of `stream` in batches of `batch_events` through the
// pipelined Ledger::AppendStream; counts outcomes.
Status AppendLines(Ledger& ledger, const Stream& stream, size_t batch_events, Outcomes* outcomes) {
  size_t next = 0;
  return ledger.AppendStream(
      [&](std::vector<std::string_view>* batch) {
        if (next == stream.size()) return false;
        for (; next < stream.size() && batch->size() < batch_events; ++next)
          batch->push_back(stream.line(next));
        return true;
      },
      [&](std::span<const AppendResult> results) { outcomes->Count(results); });
}

// Fills an in-process append's row: what was stored, in how long, at what
// CPU; FAILED when the outcomes do not cover every input or differ from the
// CLI's.
void RecordAppend(const Outcomes& outcomes, size_t inputs, double seconds, double cpu_s,
                  const Outcomes& cli, const std::string& what, Row* row) {
  row->Ok(outcomes.appended + outcomes.duplicate, seconds);
  row->SetCpu(cpu_s);
  row->notes = outcomes.Text() + "; " + what;
  if (outcomes.total() != inputs) row->Fail("results do not match inputs");
  if (outcomes.appended != cli.appended && cli.total() != 0)
    row->Fail("outcomes differ from `ledger append`");
}

void RunApiAppend(const std::string& db, const Stream& stream, const Outcomes& cli, Row* row) {
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(db, /*projections=*/true);
  if (!ledger.ok()) return row->Fail(ledger.status().ToString());
  Outcomes outcomes;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  const Status status = AppendLines(**ledger, stream, kAppendBatchEventsMax, &outcomes);
  const double seconds = SecondsSince(start);
  if (!status.ok()) return row->Fail(status.ToString());
  RecordAppend(outcomes, stream.size(), seconds, ProcessCpuSeconds() - cpu_start_s, cli,
               "JSON parsing included (the API takes JSON lines), projections on", row);
}

// Stage 2b: Ledger::AppendEventStream, the typed API: the same events decoded
// beforehand, so no JSON is parsed while it is timed.
void RunTypedAppend(const std::string& db, const Stream& stream, const Outcomes& cli, Row* row) {
  std::vector<IncomingEvent> events;
  events.reserve(stream.size());
  LineDecoder decoder;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (!decoder.Decode(stream.line(i), &events.emplace_back())) events.pop_back();
  }
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(db, /*projections=*/true);
  if (!ledger.ok()) return row->Fail(ledger.status().ToString());
  Outcomes outcomes;
  size_t next = 0;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  const Status status = (*ledger)->AppendEventStream(
      [&](std::vector<IncomingEvent>* batch) {
        if (next == events.size()) return false;
        for (; next < events.size() && batch->size() < kAppendBatchEventsMax; ++next)
          batch->push_back(std::move(events[next]));
        return true;
      },
      [&](std::span<const AppendResult> results) { outcomes.Count(results); });
  const double seconds = SecondsSince(start);
  if (!status.ok()) return row->Fail(status.ToString());
  RecordAppend(outcomes, events.size(), seconds, ProcessCpuSeconds() - cpu_start_s, cli,
               std::to_string(events.size()) +
                   " typed events, rendered to fields and judged as their lines, projections on",
               row);
}

// ---------------------------------------------------------------------------
// Stored events, read once from the ledger of stage 1.

struct StoredEvents {
  std::vector<std::string> values;     // the stored bytes, seq 1..n
  std::vector<std::string> pg_rows;    // the same events as COPY text rows
  std::string account;                 // the account of the SQL invoice query
  Period period;                       // and its month
  int64_t account_month_total_e8 = 0;  // what the events' ratings add up to there
};

// The amount one event charged, for the peer's `amount` column. Usage is
// rated per hour; a tick's share of an hour is rounded here to 10^-8, so an
// SQL total can differ from the ledger's invoice (settled per hour) in the
// last digits. That does not matter for timing.
int64_t ChargedAmount_e8(const Envelope& envelope) {
  if (envelope.type() != EventType::kUsageRecorded) return envelope.rating.amount_e8;
  int64_t amount_e8 = 0;
  for (const HourSlice& slice : envelope.rating.hours) {
    amount_e8 += HourlyCharge_e8(slice.price_per_hour_e10, slice.seconds);
  }
  return amount_e8;
}

// "2026-01-01 08:00:00.123456+00", for timestamptz.
std::string PgTimestamp(int64_t time_us) {
  const int64_t time_s = time_us >= 0 ? time_us / 1'000'000 : (time_us - 999'999) / 1'000'000;
  const auto micros = static_cast<int>(time_us - time_s * 1'000'000);
  const time_t t = static_cast<time_t>(time_s);
  struct tm utc {};
  gmtime_r(&t, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros);
  return text;
}

// COPY's text format: backslash, tab, newline and carriage return escaped.
void AppendCopyText(std::string_view text, std::string* out) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        out->push_back(c);
    }
  }
}

Status ReadStoredEvents(const std::string& db, const Stream& stream,
                        const std::vector<uint64_t>& line_of_seq, StoredEvents* out) {
  // Without projections, as `ledger replay` opens it: only the log is read.
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(db, /*projections=*/false);
  if (!ledger.ok()) return ledger.status();
  const EventStore& store = (*ledger)->store();
  const uint64_t head = store.head().seq;
  out->values.reserve(head);
  out->pg_rows.reserve(head);
  Status read;
  std::string value;
  const Status scanned = store.ScanEvents(1, head, [&](const Envelope& envelope) {
    read = store.ReadRawEvent(envelope.seq, &value);
    if (!read.ok()) return false;
    out->values.push_back(value);
    std::string row = std::to_string(envelope.seq) + "\t";
    AppendCopyText(envelope.account, &row);
    row += "\t";
    row += EventTypeName(envelope.type());
    row += "\t" + PgTimestamp(envelope.occurred_at_s * 1'000'000) + "\t" +
           PgTimestamp(envelope.recorded_at_us) + "\t" +
           FormatAmount_e8(ChargedAmount_e8(envelope)) + "\t";
    const uint64_t line = envelope.seq < line_of_seq.size() ? line_of_seq[envelope.seq] : 0;
    if (line >= 1 && line <= stream.size()) {
      AppendCopyText(stream.line(line - 1), &row);
    } else {
      row += "\\N";
    }
    row += "\n";
    out->pg_rows.push_back(std::move(row));
    return true;
  });
  LEDGER_RETURN_IF_ERROR(scanned);
  LEDGER_RETURN_IF_ERROR(read);
  if (out->values.size() != head)
    return Status::Corruption("scan returned fewer events than the head");

  // The SQL query's account and month: the first account, in the month of
  // its first usage tick; its total as the ratings say, to print beside SQL's.
  const BillingZone zone = (*ledger)->zone();
  bool chosen = false;
  LEDGER_RETURN_IF_ERROR(store.ScanEvents(1, head, [&](const Envelope& envelope) {
    if (!chosen && envelope.type() == EventType::kUsageRecorded) {
      out->account = envelope.account;
      out->period = zone.PeriodOf(envelope.occurred_at_s);
      chosen = true;
    }
    return !chosen;
  }));
  if (!chosen) return Status::Ok();
  return store.ScanAccountEvents(out->account, 1, head, [&](const Envelope& envelope) {
    if (zone.PeriodOf(envelope.occurred_at_s) == out->period)
      out->account_month_total_e8 += ChargedAmount_e8(envelope);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Stage 3: the store's limit, a bare RocksDB.

std::string SeqKey(uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return key;
}

// The raw write's batch, as the benchmark issue defines the limit.
constexpr size_t kRawBatchEvents = 1000;

// Writes `values` under seq keys in synced batches of `batch_events`, and
// fills `row` with the rate and CPU.
rocksdb::Status WriteRaw(rocksdb::DB* db, const std::vector<std::string>& values,
                         size_t batch_events, Row* row) {
  rocksdb::WriteOptions synced;
  synced.sync = true;  // as the ledger's commits
  uint64_t bytes = 0;
  rocksdb::Status s;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  for (size_t first = 0; first < values.size() && s.ok(); first += batch_events) {
    rocksdb::WriteBatch batch;
    for (size_t i = first; i < std::min(values.size(), first + batch_events); ++i) {
      batch.Put(SeqKey(i + 1), values[i]);
      bytes += values[i].size();
    }
    s = db->Write(synced, &batch);
  }
  if (!s.ok()) return s;
  row->Ok(values.size(), SecondsSince(start));
  row->SetCpu(ProcessCpuSeconds() - cpu_start_s);
  row->notes = "pre-encoded stored values, default options, " +
               Fixed(static_cast<double>(bytes) / values.size(), 0) +
               " B/event; no parsing, rules, hashing or indexes";
  return s;
}

// A bare RocksDB with default options, as a caller of RocksDB starts.
rocksdb::Status OpenRawDb(const std::string& path, std::unique_ptr<rocksdb::DB>* db) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(options, path, &raw);
  db->reset(raw);
  return opened;
}

// The raw write again, in batches as large as `ledger append`'s: the floors
// below use them, so their budget is also given against this rate.
void RunRawWriteLedgerBatches(const std::string& path, const std::vector<std::string>& values,
                              Row* row) {
  std::unique_ptr<rocksdb::DB> db;
  const rocksdb::Status opened = OpenRawDb(path, &db);
  if (!opened.ok()) return row->Fail(opened.ToString());
  const rocksdb::Status written = WriteRaw(db.get(), values, kAppendBatchEventsMax, row);
  if (!written.ok()) row->Fail(written.ToString());
}

// Reads every value of `db` back through DecodeEnvelope (the Cereal decode
// and the SHA-256 check), and fills `row`.
void ScanRaw(rocksdb::DB* db, uint64_t events_expected, Row* row) {
  uint64_t decoded = 0;
  Envelope envelope;
  Status status;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    status = DecodeEnvelope(std::string_view(it->value().data(), it->value().size()), &envelope);
    if (!status.ok()) break;
    ++decoded;
  }
  const double scan_s = SecondsSince(start);
  if (!it->status().ok()) return row->Fail(it->status().ToString());
  if (!status.ok()) return row->Fail(status.ToString());
  row->Ok(decoded, scan_s);
  row->SetCpu(ProcessCpuSeconds() - cpu_start_s);
  row->notes = "iterator + Cereal decode + SHA-256 check of each value";
  if (decoded != events_expected)
    row->Fail("decoded " + std::to_string(decoded) + " of " + std::to_string(events_expected));
}

// The raw write into a bare RocksDB at `path`, then the raw scan of it. The
// DB stays, for the replay rounds' scans (RunRawScan).
void RunRawRocksDb(const std::string& path, const std::vector<std::string>& values, Row* write_row,
                   Row* scan_row) {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::Status s = OpenRawDb(path, &db);
  if (!s.ok()) {
    write_row->Fail(s.ToString());
    scan_row->Fail("no raw DB");
    return;
  }
  s = WriteRaw(db.get(), values, kRawBatchEvents, write_row);
  if (!s.ok()) {
    write_row->Fail(s.ToString());
    scan_row->Fail("raw write failed");
    return;
  }
  // The scan reads SST files, not the memtable, like a replay of a ledger
  // that was written earlier.
  s = db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return scan_row->Fail(s.ToString());
  ScanRaw(db.get(), values.size(), scan_row);
}

// The raw DB that RunRawRocksDb wrote at `path`, scanned again. Opened
// without compactions, so that none runs (and counts in the CPU) during
// the timed scan, and none changes the files between rounds.
void RunRawScan(const std::string& path, uint64_t events_expected, Row* row) {
  rocksdb::Options options;
  options.disable_auto_compactions = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(options, path, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!opened.ok()) return row->Fail(opened.ToString());
  ScanRaw(db.get(), events_expected, row);
}

// ---------------------------------------------------------------------------
// Stage 3b: floors. What any durable, idempotent ledger of these events must
// do at the least, measured alone: (1) the raw write, in batches as large as
// the ledger's, plus an index of event ids, each looked up before its event
// is stored (a re-sent event must be answered as a duplicate, whenever it
// was first stored: in the database or earlier in its batch); (2) reading the
// JSON lines into typed events; (3) encoding them (Cereal) and hashing them
// into the chain.
// Their CPU per event against the CPU the ingest target leaves
// (PrintReport) shows whether the target can be met.

// Event ids are looked up as Ledger looks them up while judging: one
// MultiGet per chunk of this many.
constexpr size_t kLookupChunkIds = 256;

// Looks event ids up in their family, kLookupChunkIds to a MultiGet, and
// tells `visit` whether each is stored. Its buffers are kept between calls.
class ChunkedIdLookup {
 public:
  using Visitor = std::function<void(size_t index, bool stored)>;
  ChunkedIdLookup()
      : keys_(kLookupChunkIds), values_(kLookupChunkIds), statuses_(kLookupChunkIds) {}

  rocksdb::Status Run(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                      std::span<const std::string> ids, const Visitor& visit) {
    for (size_t first = 0; first < ids.size(); first += kLookupChunkIds) {
      const size_t count = std::min(kLookupChunkIds, ids.size() - first);
      for (size_t i = 0; i < count; ++i) keys_[i] = ids[first + i];
      db->MultiGet(rocksdb::ReadOptions(), family, count, keys_.data(), values_.data(),
                   statuses_.data());
      for (size_t i = 0; i < count; ++i) {
        if (!statuses_[i].ok() && !statuses_[i].IsNotFound()) return statuses_[i];
        visit(first + i, statuses_[i].ok());
        values_[i].Reset();
      }
    }
    return rocksdb::Status::OK();
  }

 private:
  std::vector<rocksdb::Slice> keys_;
  std::vector<rocksdb::PinnableSlice> values_;
  std::vector<rocksdb::Status> statuses_;
};

// A raw database with the event-id index beside the default family: the
// defaults, as the limit, plus the cheapest way to keep an id index that this
// program knows, which is the ledger's: a Bloom filter on the table files and
// on the memtable (a new id misses without a search), ids looked up
// kLookupChunkIds to a MultiGet, and each batch's ids inserted in key order,
// so that each memtable insert starts from where the one before landed, in
// batches as large as `ledger append`'s. One writing thread: RocksDB inserts
// serially either way; the ledger sets allow_concurrent_memtable_write off,
// and so does this.
class IdIndexDb {
 public:
  rocksdb::Status Open(const std::string& path) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.allow_concurrent_memtable_write = false;
    rocksdb::ColumnFamilyOptions id_options;
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    id_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    id_options.memtable_prefix_bloom_size_ratio = 0.05;
    id_options.memtable_whole_key_filtering = true;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(
        options, path,
        {{rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}, {"ids", id_options}},
        &handles_, &raw);
    db_.reset(raw);
    synced_.sync = true;
    return s;
  }

  ~IdIndexDb() {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  }

  // Counts in *duplicates each of `ids` (one batch) already stored, in the
  // batch looked up before (which a pipeline may not have written yet), or
  // earlier in these.
  rocksdb::Status LookUp(std::span<const std::string> ids, uint64_t* duplicates) {
    std::swap(batch_ids_, previous_batch_ids_);
    batch_ids_.clear();  // clear() frees a large table: reserve it again
    batch_ids_.reserve(kAppendBatchEventsMax);
    return lookup_.Run(db_.get(), handles_[1], ids, [&](size_t index, bool stored) {
      *duplicates += stored || previous_batch_ids_.contains(ids[index]) ||
                     !batch_ids_.insert(ids[index]).second;
    });
  }

  // Puts the value of event `index` (0-based) into *batch, at seq index + 1.
  void PutValue(size_t index, std::string_view value, rocksdb::WriteBatch* batch) const {
    batch->Put(handles_[0], SeqKey(index + 1), value);
  }
  // Puts the ids of in_key_order (indexes into ids) into *batch, in that order.
  void PutIds(const std::vector<std::string>& ids, const std::vector<size_t>& in_key_order,
              rocksdb::WriteBatch* batch) const {
    for (size_t i : in_key_order) batch->Put(handles_[1], ids[i], SeqKey(i + 1));
  }
  rocksdb::Status Write(rocksdb::WriteBatch* batch) { return db_->Write(synced_, batch); }

  // The stored values, read back in seq order, that differ from `values` or
  // are missing, and those beyond them.
  Result<uint64_t> CountDiffering(const std::vector<std::string>& values) const {
    uint64_t differing = 0;
    size_t next = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++next) {
      differing += next >= values.size() || it->key().ToStringView() != SeqKey(next + 1) ||
                   it->value().ToStringView() != values[next];
    }
    if (!it->status().ok()) return Status::IoError(it->status().ToString());
    return differing + (values.size() - std::min(next, values.size()));
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions synced_;
  ChunkedIdLookup lookup_;
  absl::flat_hash_set<std::string_view> batch_ids_;           // a re-send within the batch
  absl::flat_hash_set<std::string_view> previous_batch_ids_;  // or in the one before
};

// Sorts the indexes [first, end) by their ids.
void SortByIds(const std::vector<std::string>& ids, size_t first, size_t end,
               std::vector<size_t>* in_key_order) {
  in_key_order->clear();
  for (size_t i = first; i < end; ++i) in_key_order->push_back(i);
  std::sort(in_key_order->begin(), in_key_order->end(),
            [&](size_t a, size_t b) { return ids[a] < ids[b]; });
}

Result<std::vector<std::string>> EventIds(const std::vector<std::string>& values) {
  std::vector<std::string> ids;
  ids.reserve(values.size());
  Envelope envelope;
  for (const std::string& value : values) {
    LEDGER_RETURN_IF_ERROR(DecodeEnvelope(value, &envelope));
    ids.push_back(envelope.event_id);
  }
  return ids;
}

void RunFloorIdIndex(const std::string& path, const std::vector<std::string>& values, Row* row) {
  const Result<std::vector<std::string>> ids = EventIds(values);
  if (!ids.ok()) return row->Fail(ids.status().ToString());
  IdIndexDb db;
  rocksdb::Status s = db.Open(path);
  if (!s.ok()) return row->Fail(s.ToString());
  uint64_t duplicates = 0;
  std::vector<size_t> in_key_order;
  rocksdb::WriteBatch batch;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  for (size_t first = 0; first < values.size() && s.ok(); first += kAppendBatchEventsMax) {
    const size_t end = std::min(values.size(), first + kAppendBatchEventsMax);
    s = db.LookUp(std::span<const std::string>(*ids).subspan(first, end - first), &duplicates);
    batch.Clear();
    for (size_t i = first; i < end; ++i) db.PutValue(i, values[i], &batch);
    SortByIds(*ids, first, end, &in_key_order);
    db.PutIds(*ids, in_key_order, &batch);
    if (s.ok()) s = db.Write(&batch);
  }
  const double seconds = SecondsSince(start);
  const double cpu_s = ProcessCpuSeconds() - cpu_start_s;
  if (!s.ok()) return row->Fail(s.ToString());
  row->Ok(values.size(), seconds);
  row->SetCpu(cpu_s);
  row->notes = "the raw write + an event-id key per event, each id looked up first (database, " +
               std::to_string(kLookupChunkIds) + " to a MultiGet, and batch); batches of " +
               Grouped(kAppendBatchEventsMax) +
               " synced, ids inserted in key order; no parsing, rules, hashing or projections";
  if (duplicates != 0) row->Fail(std::to_string(duplicates) + " ids found twice");
}

// (3) Producing each stored value from its typed event: the Cereal encoding
// of the envelope and the hash chain's SHA-256 over it (EncodeEnvelope, as
// `ledger append` stages every event; FORMAT.md, "log"). The events are
// decoded from the stored values beforehand, untimed, kEncodeChunkEvents at
// a time: few enough that they are still in the CPU's cache when encoded,
// as the ledger encodes an event right after judging it. Each value
// produced must equal the stored one byte for byte.
constexpr size_t kEncodeChunkEvents = 512;

void RunFloorEncode(const std::vector<std::string>& values, Row* row) {
  std::vector<Envelope> envelopes(std::min(values.size(), kEncodeChunkEvents));
  std::vector<std::string> encoded(envelopes.size());
  size_t differing = 0;
  double seconds = 0;
  double cpu_s = 0;
  for (size_t first = 0; first < values.size(); first += envelopes.size()) {
    const size_t count = std::min(envelopes.size(), values.size() - first);
    for (size_t i = 0; i < count; ++i) {
      const Status decoded = DecodeEnvelope(values[first + i], &envelopes[i]);
      if (!decoded.ok()) return row->Fail(decoded.ToString());
    }
    const double cpu_start_s = ProcessCpuSeconds();
    const Clock::time_point start = Clock::now();
    for (size_t i = 0; i < count; ++i) {
      encoded[i].clear();
      EncodeEnvelope(envelopes[i].prev_hash, &envelopes[i], &encoded[i]);
    }
    seconds += SecondsSince(start);
    cpu_s += ProcessCpuSeconds() - cpu_start_s;
    for (size_t i = 0; i < count; ++i) differing += encoded[i] != values[first + i];
  }
  if (differing != 0)
    return row->Fail(std::to_string(differing) + " values differ from the stored");
  row->Ok(values.size(), seconds);
  row->SetCpu(cpu_s);
  row->notes =
      "Cereal encoding of each typed event + SHA-256 chaining it (EncodeEnvelope), one "
      "thread; each value equals the stored one";
}

void RunFloorParse(const Stream& stream, Row* row) {
  LineDecoder decoder;
  IncomingEvent event;
  uint64_t decoded = 0;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < stream.size(); ++i) decoded += decoder.Decode(stream.line(i), &event);
  row->Ok(stream.size(), SecondsSince(start));
  row->SetCpu(ProcessCpuSeconds() - cpu_start_s);
  row->notes = "JsonLineParser (simdjson On-Demand, content digest) + DecodeEvent of every line, "
               "one thread; " + std::to_string(decoded) + " typed events";
}

// (5) The floors as one pipeline, run as `ledger append` runs its stages:
// one thread reads each line into a typed event (the JSON floor), looks its
// id up, encodes and hashes its event into the stored value (the Cereal
// floor) and stages the batch; the other writes each batch, synced, while
// the first prepares the next. RocksDB's flushes share the same cores.
// Everything `ledger append` does on top of this (rules, rating, the
// projections, the command line) is left out, so its rate is the most a
// ledger of this design (the event-id index written in the same synced batch
// as the log) can ingest on this machine.
//
// The typed envelopes are decoded from the stored values before the clock
// starts, as the Cereal floor decodes them, which holds them all in memory:
// the stage runs up to kPipelineFloorEventsMax events.
constexpr size_t kPipelineFloorEventsMax = 2'000'000;

// Two WriteBatches in turn between the preparing thread and the writing one:
// one is prepared while the other is written. The preparing thread calls
// NextToPrepare, fills the batch, and calls Hand, then End after its last;
// the writing thread calls NextToWrite, writes the batch, and calls Written
// (or Stop when the write failed). A batch stays the caller's until that
// next call.
class BatchHandOff {
 public:
  // The batch to prepare next, cleared, once it is written from its last
  // use; nullptr once the writer has stopped.
  rocksdb::WriteBatch* NextToPrepare() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return batches_handed_ - batches_written_ < 2 || stopped_; });
    if (stopped_) return nullptr;
    rocksdb::WriteBatch* batch = &batches_[batches_handed_ % 2];
    batch->Clear();
    return batch;
  }
  // Hands the batch NextToPrepare gave to the writer.
  void Hand() {
    Change([&] { ++batches_handed_; });
  }
  // No batch comes after the ones handed.
  void End() {
    Change([&] { ended_ = true; });
  }
  // The next batch to write; nullptr once every handed batch is written and
  // End was called.
  rocksdb::WriteBatch* NextToWrite() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return batches_written_ < batches_handed_ || ended_; });
    return batches_written_ < batches_handed_ ? &batches_[batches_written_ % 2] : nullptr;
  }
  void Written() {
    Change([&] { ++batches_written_; });
  }
  // The writer failed: NextToPrepare returns nullptr from now on.
  void Stop() {
    Change([&] { stopped_ = true; });
  }

 private:
  void Change(const std::function<void()>& change) {
    std::lock_guard lock(mutex_);
    change();
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  rocksdb::WriteBatch batches_[2];
  uint64_t batches_handed_ = 0;
  uint64_t batches_written_ = 0;
  bool ended_ = false;
  bool stopped_ = false;
};

// What the preparing thread of the pipeline works from and counts.
struct PipelineInput {
  const Stream& stream;
  const std::vector<uint64_t>& line_of_seq;  // seq → its input line (1-based)
  const std::vector<std::string>& ids;       // by seq - 1
  std::vector<Envelope>& envelopes;          // by seq - 1, decoded beforehand
  LineDecoder decoder;
  IncomingEvent event;
  std::string value;
  std::vector<size_t> in_key_order;
  uint64_t decoded = 0;
  uint64_t duplicates = 0;
};

// Events [first, end) into *batch as `ledger append` stages them: each id
// looked up, each line decoded, each event encoded and hashed, then the ids
// in key order.
rocksdb::Status PrepareBatch(IdIndexDb& db, size_t first, size_t end, PipelineInput* in,
                             rocksdb::WriteBatch* batch) {
  const rocksdb::Status lookup_status =
      db.LookUp(std::span<const std::string>(in->ids).subspan(first, end - first), &in->duplicates);
  for (size_t i = first; i < end; ++i) {
    in->decoded += in->decoder.Decode(in->stream.line(in->line_of_seq[i + 1] - 1), &in->event);
    in->value.clear();
    EncodeEnvelope(in->envelopes[i].prev_hash, &in->envelopes[i], &in->value);
    db.PutValue(i, in->value, batch);
  }
  SortByIds(in->ids, first, end, &in->in_key_order);
  db.PutIds(in->ids, in->in_key_order, batch);
  return lookup_status;
}

// The typed envelopes of `values`, each with an input line; an error
// otherwise.
Result<std::vector<Envelope>> EnvelopesWithLines(const std::vector<std::string>& values,
                                                 const std::vector<uint64_t>& line_of_seq,
                                                 size_t lines) {
  std::vector<Envelope> envelopes(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    LEDGER_RETURN_IF_ERROR(DecodeEnvelope(values[i], &envelopes[i]));
    if (line_of_seq.size() <= i + 1 || line_of_seq[i + 1] == 0 || line_of_seq[i + 1] > lines) {
      return Status::InvalidArgument("no input line for seq " + std::to_string(i + 1));
    }
  }
  return envelopes;
}

void RunFloorPipeline(const std::string& path, const Stream& stream,
                      const std::vector<uint64_t>& line_of_seq,
                      const std::vector<std::string>& values, Row* row) {
  if (values.size() > kPipelineFloorEventsMax) {
    return row->Skip("runs up to " + Grouped(kPipelineFloorEventsMax) +
                     " events (it holds every typed event in memory)");
  }
  Result<std::vector<Envelope>> envelopes = EnvelopesWithLines(values, line_of_seq, stream.size());
  if (!envelopes.ok()) return row->Fail(envelopes.status().ToString());
  std::vector<std::string> ids;
  ids.reserve(envelopes->size());
  for (const Envelope& envelope : *envelopes) ids.push_back(envelope.event_id);
  IdIndexDb db;
  const rocksdb::Status opened = db.Open(path);
  if (!opened.ok()) return row->Fail(opened.ToString());
  PipelineInput in{.stream = stream,
                   .line_of_seq = line_of_seq,
                   .ids = ids,
                   .envelopes = *envelopes,
                   .decoder = {},
                   .event = {},
                   .value = {},
                   .in_key_order = {}};
  BatchHandOff hand_off;
  rocksdb::Status write_status;
  rocksdb::Status lookup_status;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  {
    std::jthread writer([&] {
      while (rocksdb::WriteBatch* batch = hand_off.NextToWrite()) {
        write_status = db.Write(batch);
        if (!write_status.ok()) return hand_off.Stop();
        hand_off.Written();
      }
    });
    // Declared after the writer, so ended before it is joined, on every way out.
    const struct EndAtExit {
      BatchHandOff& hand_off;
      ~EndAtExit() { hand_off.End(); }
    } end_at_exit{hand_off};
    for (size_t first = 0; first < values.size() && lookup_status.ok();
         first += kAppendBatchEventsMax) {
      rocksdb::WriteBatch* batch = hand_off.NextToPrepare();
      if (batch == nullptr) break;
      const size_t end = std::min(values.size(), first + kAppendBatchEventsMax);
      lookup_status = PrepareBatch(db, first, end, &in, batch);
      hand_off.Hand();
    }
  }
  const double seconds = SecondsSince(start);
  const double cpu_s = ProcessCpuSeconds() - cpu_start_s;
  if (!lookup_status.ok()) return row->Fail(lookup_status.ToString());
  if (!write_status.ok()) return row->Fail(write_status.ToString());
  row->Ok(values.size(), seconds);
  row->SetCpu(cpu_s);
  row->notes =
      "the three floors above on two threads, as the ledger's stages: JSON decoding, "
      "id lookup, Cereal + SHA-256 and the batch on one, its synced write on the "
      "other; no rules, rating or projections";
  if (in.decoded != values.size()) row->Fail(std::to_string(in.decoded) + " lines decoded");
  if (in.duplicates != 0) row->Fail(std::to_string(in.duplicates) + " ids found twice");
  // Checked once the clock is stopped: what was written, against the stored values.
  const Result<uint64_t> differing = db.CountDiffering(values);
  if (!differing.ok()) return row->Fail(differing.status().ToString());
  if (*differing != 0) row->Fail(std::to_string(*differing) + " values differ from the stored");
}

// (4) The ledger's own writes: the WriteBatches of an in-process append as
// its writing thread hands them to RocksDB (every family: the log, its two
// indexes, the rules' state, the projections; StoreOptions::on_written),
// written again, synced, into a fresh ledger of the same families and
// options, each batch's event ids first looked up as the ledger looks them
// up (kLookupChunkIds). Not a floor of every ledger: it
// is this ledger's storage work, without its parsing, rules, rating,
// encoding or projection fold. With the JSON and Cereal floors, it shows
// how much of the ingest budget this ledger's writes leave for those.
struct CapturedWrites {
  std::vector<std::string> batches;           // WriteBatch::Data(), in write order
  std::vector<std::vector<std::string>> ids;  // each batch's idempotency keys
  uint64_t events = 0;                        // log entries in all
  Head head;                                  // the capturing ledger's at the end
  std::map<std::string, uint32_t> family_ids;  // by name, as the batches name them
};

std::map<std::string, uint32_t> FamilyIds(const EventStore& store) {
  std::map<std::string, uint32_t> ids;
  for (const std::string& name : store.ColumnFamilyNames()) {
    ids[name] = store.column_family(name)->GetID();
  }
  return ids;
}

// Counts a batch's log entries and collects its idempotency keys.
class BatchReader : public rocksdb::WriteBatch::Handler {
 public:
  BatchReader(uint32_t log_cf, uint32_t ids_cf, std::vector<std::string>* ids)
      : log_cf_(log_cf), ids_cf_(ids_cf), ids_(ids) {}
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
    log_entries += cf == log_cf_;
    if (cf == ids_cf_) ids_->push_back(key.ToString());
    return rocksdb::Status::OK();
  }
  uint64_t log_entries = 0;

 private:
  uint32_t log_cf_;
  uint32_t ids_cf_;
  std::vector<std::string>* ids_;
};

Status CaptureWrites(const std::string& db, const Stream& stream, CapturedWrites* captured) {
  LedgerOptions options;
  options.store.path = db;
  options.store.on_written = [captured](const rocksdb::WriteBatch& batch) {
    captured->batches.push_back(batch.Data());
  };
  Result<std::unique_ptr<Ledger>> ledger =
      Ledger::Open(projections::WithProjections(std::move(options)));
  if (!ledger.ok()) return ledger.status();
  Outcomes outcomes;
  LEDGER_RETURN_IF_ERROR(AppendLines(**ledger, stream, kAppendBatchEventsMax, &outcomes));
  const EventStore& store = (*ledger)->store();
  for (const std::string& data : captured->batches) {
    BatchReader reader(store.log_cf()->GetID(), store.idempotency_cf()->GetID(),
                       &captured->ids.emplace_back());
    const rocksdb::Status read = rocksdb::WriteBatch(data).Iterate(&reader);
    if (!read.ok()) return Status::Corruption("captured batch: " + read.ToString());
    captured->events += reader.log_entries;
  }
  captured->head = (*ledger)->head();
  captured->family_ids = FamilyIds(store);
  return Status::Ok();
}

// Writes the captured batches (moved out of `captured`) into `ledger`, which
// must be fresh: its families have the capturing ledger's ids, checked
// first. Returns the CPU seconds and wall seconds taken.
Status ReplayWrites(Ledger& ledger, CapturedWrites& captured, double* cpu_s, double* seconds) {
  if (FamilyIds(ledger.store()) != captured.family_ids) {
    return Status::InvalidArgument(
        "the fresh ledger's column family ids differ from the capture's");
  }
  rocksdb::DB* db = ledger.store().db();
  rocksdb::ColumnFamilyHandle* ids_cf = ledger.store().idempotency_cf();
  rocksdb::WriteOptions synced;
  synced.sync = true;
  ChunkedIdLookup lookup;
  uint64_t found = 0;
  const double cpu_start_s = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  for (size_t b = 0; b < captured.batches.size(); ++b) {
    const rocksdb::Status looked_up =
        lookup.Run(db, ids_cf, captured.ids[b], [&](size_t, bool stored) { found += stored; });
    if (!looked_up.ok()) return Status::IoError("looking ids up: " + looked_up.ToString());
    rocksdb::WriteBatch batch(std::move(captured.batches[b]));
    const rocksdb::Status written = db->Write(synced, &batch);
    if (!written.ok()) return Status::IoError("replayed batch: " + written.ToString());
  }
  *seconds = SecondsSince(start);
  *cpu_s = ProcessCpuSeconds() - cpu_start_s;
  if (found != 0) return Status::Corruption(std::to_string(found) + " new ids found stored");
  return Status::Ok();
}

void RunFloorLedgerWrites(const std::string& dir, const Stream& stream, Row* row) {
  CapturedWrites captured;
  const Status capture = CaptureWrites(dir + "/capture", stream, &captured);
  std::error_code ec;
  std::filesystem::remove_all(dir + "/capture", ec);
  if (!capture.ok()) return row->Fail("capturing: " + capture.ToString());
  uint64_t bytes = 0;
  for (const std::string& batch : captured.batches) bytes += batch.size();
  const std::string replayed = dir + "/replayed";
  double cpu_s = 0;
  double seconds = 0;
  {
    Result<std::unique_ptr<Ledger>> ledger = OpenLedger(replayed, /*projections=*/true);
    if (!ledger.ok()) return row->Fail(ledger.status().ToString());
    const Status status = ReplayWrites(**ledger, captured, &cpu_s, &seconds);
    if (!status.ok()) return row->Fail(status.ToString());
  }
  // Reopened, the copy must end where the capturing ledger ended.
  Result<std::unique_ptr<Ledger>> reopened = OpenLedger(replayed, /*projections=*/true);
  if (!reopened.ok()) return row->Fail("reopening the copy: " + reopened.status().ToString());
  const Head head = (*reopened)->head();
  reopened->reset();
  std::filesystem::remove_all(replayed, ec);
  row->Ok(captured.events, seconds);
  row->SetCpu(cpu_s);
  row->notes = "the WriteBatches of an in-process append (" +
               Fixed(static_cast<double>(bytes) / std::max<uint64_t>(captured.events, 1), 0) +
               " B/event, every family), synced, each batch's ids looked up first (" +
               std::to_string(kLookupChunkIds) +
               " to a MultiGet); "
               "no parsing, rules, encoding or projection fold";
  if (head.seq != captured.head.seq || head.hash != captured.head.hash)
    row->Fail("the copy's head is not the capturing ledger's");
}

// ---------------------------------------------------------------------------
// Stage 4: the peer, PostgreSQL 15.

// The command a signal handler runs to stop the server and remove the folder;
// set while a server runs. Built before the server starts: nothing in the
// handler allocates.
std::vector<std::string> g_cleanup_argv_storage;
std::vector<char*> g_cleanup_argv;
volatile sig_atomic_t g_cleanup_armed = 0;
std::string g_run_dir;  // removed by the signal handler too
std::vector<std::string> g_rm_argv_storage;
std::vector<char*> g_rm_argv;

void RunFromHandler(char** argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  if (pid > 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void OnSignal(int signal_number) {
  if (g_cleanup_armed != 0) RunFromHandler(g_cleanup_argv.data());
  if (!g_rm_argv.empty()) RunFromHandler(g_rm_argv.data());
  _exit(128 + signal_number);
}

void SetArgv(std::vector<std::string> args, std::vector<std::string>* storage,
             std::vector<char*>* argv) {
  *storage = std::move(args);
  argv->clear();
  for (std::string& arg : *storage) argv->push_back(arg.data());
  argv->push_back(nullptr);
}

// initdb refuses root: as root, the server runs as the package's `postgres`
// user. The command prefix that does so; empty when we are not root.
std::vector<std::string> AsPostgresUser() {
  if (geteuid() != 0) return {};
  return {"runuser", "-u", "postgres", "--"};
}

// Makes `dir` the server's: owned by the `postgres` user when we are root.
// Fails when that user cannot write there (a parent folder it cannot enter).
bool PreparePgDir(const std::string& dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  if (geteuid() != 0) return true;
  const struct passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    *error = "running as root and there is no `postgres` user to run the server as";
    return false;
  }
  if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    *error = "chown " + dir + ": " + std::strerror(errno);
    return false;
  }
  std::vector<std::string> probe = AsPostgresUser();
  probe.insert(probe.end(), {"test", "-w", dir});
  SpawnOptions options;
  options.cwd = "/";
  const ProcessResult result = RunProcess(probe, options);
  if (result.exit_code != 0) {
    *error = "the postgres user cannot write to " + dir + " (" + Describe(result) + ")";
    return false;
  }
  return true;
}

#if LEDGER_BENCH_HAVE_LIBPQ

struct PgQueryOutcome {
  bool ok = false;
  std::string error;
  std::string value;
};

PgQueryOutcome PgExec(PGconn* conn, const std::string& sql) {
  PgQueryOutcome outcome;
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  outcome.ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!outcome.ok) outcome.error = PQerrorMessage(conn);
  if (status == PGRES_TUPLES_OK && PQntuples(result) > 0 && PQnfields(result) > 0) {
    outcome.value = PQgetisnull(result, 0, 0) ? "NULL" : PQgetvalue(result, 0, 0);
  }
  PQclear(result);
  return outcome;
}

// A PostgreSQL server of its own, in `dir`, for as long as the object lives.
class PgServer {
 public:
  PgServer(std::string bin, std::string dir) : bin_(std::move(bin)), dir_(std::move(dir)) {}
  ~PgServer() { Stop(); }

  // initdb, then pg_ctl start on a unix socket in `dir` and a loopback port.
  bool Start(std::string* error) {
    const std::string data = dir_ + "/data";
    as_user_ = AsPostgresUser();
    port_ = PickPort();
    if (port_ == 0) {
      *error = "no free loopback port";
      return false;
    }
    if (dir_.size() > 90) {
      *error = "socket folder path too long for a unix socket: " + dir_;
      return false;
    }
    // --no-sync: the cluster's initial files need not survive a crash (the
    // folder is thrown away); what is measured is COPY, whose commits sync.
    ProcessResult init = Run({bin_ + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E",
                              "UTF8", "--locale=C", "--no-instructions", "--no-sync"});
    if (init.exit_code != 0) {
      *error = "initdb: " + Describe(init);
      return false;
    }
    // Armed before the start: a signal from here on stops the server.
    SetArgv(As({bin_ + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"}), &g_cleanup_argv_storage,
            &g_cleanup_argv);
    g_cleanup_armed = 1;
    started_ = true;
    const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                                " -k " + dir_ +
                                " -c fsync=on -c synchronous_commit=on -c full_page_writes=on";
    ProcessResult start = Run({bin_ + "/pg_ctl", "-D", data, "-l", dir_ + "/server.log", "-w", "-t",
                               "60", "-o", options, "start"});
    if (start.exit_code != 0) {
      *error = "pg_ctl start: " + Describe(start) + " " + LogTail();
      return false;
    }
    return true;
  }

  void Stop() {
    if (!started_) return;
    started_ = false;
    IgnoreResult(Run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"}));
    g_cleanup_armed = 0;
  }

  std::string ConnectionString() const {
    return "host=" + dir_ + " port=" + std::to_string(port_) + " dbname=postgres user=postgres";
  }
  int port() const { return port_; }

  std::string LogTail() const {
    std::ifstream log(dir_ + "/server.log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (text.size() > 600) text = text.substr(text.size() - 600);
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text.empty() ? "" : "(server log: " + text + ")";
  }

 private:
  static void IgnoreResult(const ProcessResult&) {}

  static int PickPort() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t size = sizeof address;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
      port = ntohs(address.sin_port);
    }
    close(fd);
    return port;
  }

  std::vector<std::string> As(std::vector<std::string> argv) const {
    std::vector<std::string> all = as_user_;
    all.insert(all.end(), argv.begin(), argv.end());
    return all;
  }

  ProcessResult Run(std::vector<std::string> argv) const {
    SpawnOptions options;
    options.cwd = dir_;  // the postgres user may not enter ours
    return RunProcess(As(std::move(argv)), options);
  }

  std::string bin_;
  std::string dir_;
  std::vector<std::string> as_user_;
  int port_ = 0;
  bool started_ = false;
};

// `dir` was made ready by PreparePgDir.
void RunPostgres(const std::string& bin, const std::string& dir, const StoredEvents& events,
                 Row* copy_row, Row* query_row) {
  PgServer server(bin, dir);
  std::string error;
  if (!server.Start(&error)) {
    copy_row->Fail(error);
    query_row->Fail("no server");
    return;
  }
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(server.ConnectionString().c_str()),
                                                  PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    copy_row->Fail(std::string("connect: ") + PQerrorMessage(conn.get()));
    query_row->Fail("no connection");
    return;
  }
  PgQueryOutcome created =
      PgExec(conn.get(),
             "CREATE TABLE events (seq bigint PRIMARY KEY, account text, type text, "
             "occurred_at timestamptz, recorded_at timestamptz, amount numeric(30,8), "
             "payload jsonb);"
             "CREATE INDEX events_account_occurred ON events (account, occurred_at);");
  if (!created.ok) {
    copy_row->Fail("create table: " + created.error);
    query_row->Fail("no table");
    return;
  }

  // One COPY per 1,000 rows; each COPY is its own transaction, committed
  // with synchronous_commit=on (a WAL flush per commit).
  const Clock::time_point start = Clock::now();
  std::string chunk;
  for (size_t first = 0; first < events.pg_rows.size(); first += 1000) {
    PGresult* begun = PQexec(conn.get(), "COPY events FROM STDIN");
    const bool in_copy = PQresultStatus(begun) == PGRES_COPY_IN;
    PQclear(begun);
    if (!in_copy) return copy_row->Fail(std::string("COPY: ") + PQerrorMessage(conn.get()));
    chunk.clear();
    for (size_t i = first; i < std::min(events.pg_rows.size(), first + 1000); ++i)
      chunk += events.pg_rows[i];
    if (PQputCopyData(conn.get(), chunk.data(), static_cast<int>(chunk.size())) != 1 ||
        PQputCopyEnd(conn.get(), nullptr) != 1) {
      return copy_row->Fail(std::string("COPY data: ") + PQerrorMessage(conn.get()));
    }
    bool copied = true;
    std::string copy_error;
    while (PGresult* result = PQgetResult(conn.get())) {
      if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        copied = false;
        copy_error = PQresultErrorMessage(result);
      }
      PQclear(result);
    }
    if (!copied) return copy_row->Fail("COPY: " + copy_error);
  }
  const double copy_s = SecondsSince(start);
  const PgQueryOutcome count = PgExec(conn.get(), "SELECT count(*) FROM events");
  if (!count.ok) return copy_row->Fail("count: " + count.error);
  const uint64_t rows = std::strtoull(count.value.c_str(), nullptr, 10);
  copy_row->Ok(rows, copy_s);
  copy_row->notes =
      "payload jsonb, primary key + (account, occurred_at) index, synchronous_commit=on, fsync=on";
  if (rows != events.pg_rows.size()) {
    copy_row->Fail("table holds " + count.value + " rows, " +
                   std::to_string(events.pg_rows.size()) + " sent");
  }

  if (events.account.empty()) return query_row->Skip("the stream has no usage to total");
  const BillingZone zone(8 * 3600);
  const std::string from = PgTimestamp(zone.PeriodStart(events.period) * 1'000'000);
  const std::string to = PgTimestamp(zone.PeriodStart(events.period.Next()) * 1'000'000);
  const std::string sql = "SELECT sum(amount) FROM events WHERE account = '" + events.account +
                          "' AND occurred_at >= '" + from + "' AND occurred_at < '" + to + "'";
  PgExec(conn.get(), "ANALYZE events");
  std::vector<int64_t> samples;
  std::string total;
  const int runs = 5;
  const Clock::time_point query_start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    const Clock::time_point one = Clock::now();
    const PgQueryOutcome outcome = PgExec(conn.get(), sql);
    samples.push_back(NanosSince(one));
    if (!outcome.ok) return query_row->Fail("query: " + outcome.error);
    total = outcome.value;
  }
  const double query_s = SecondsSince(query_start);
  query_row->Ok(runs, query_s);
  query_row->unit = "queries";
  const Percentiles p = PercentilesOf(&samples);
  query_row->p50_ms = p.p50_ms;
  query_row->p99_ms = p.p99_ms;
  query_row->notes = events.account + " " + FormatPeriod(events.period) + ": SQL sum " + total +
                     ", ratings sum " + FormatAmount_e8(events.account_month_total_e8) + " (" +
                     std::to_string(runs) + " runs)";
}

#endif  // LEDGER_BENCH_HAVE_LIBPQ

// ---------------------------------------------------------------------------
// Stage 5: replay and verify, as the real program runs them.

void RunReplay(const std::string& ledger_binary, const std::string& db, uint64_t events,
               Row* replay_row) {
  std::string replay_out;
  SpawnOptions capture;
  capture.on_stdout = [&](std::string_view chunk) { replay_out.append(chunk); };
  const ProcessResult replay =
      RunProcess({ledger_binary, "--db", db, "replay", "--format", "json"}, capture);
  if (!replay.started || replay.exit_code != 0) return replay_row->Fail(Describe(replay));
  const uint64_t replayed = JsonUint(replay_out, "events").value_or(0);
  replay_row->Ok(replayed, replay.seconds);
  replay_row->SetCpu(replay.cpu_s);
  // The child's own VmHWM: wait4's ru_maxrss would count this process's
  // pages too (posix_spawn shares them until exec).
  replay_row->notes = "`ledger replay`, separate process: peak RSS " +
                      std::to_string(JsonUint(replay_out, "peak_rss_kib").value_or(0) / 1024) +
                      " MiB; time includes opening the ledger";
  if (replayed != events)
    replay_row->Fail("replayed " + std::to_string(replayed) + " of " + std::to_string(events));
}

void RunReplayAndVerify(const std::string& ledger_binary, const std::string& db, uint64_t events,
                        Row* replay_row, Row* verify_row) {
  RunReplay(ledger_binary, db, events, replay_row);
  std::string verify_out;
  SpawnOptions capture;
  capture.on_stdout = [&](std::string_view chunk) { verify_out.append(chunk); };
  const ProcessResult verify =
      RunProcess({ledger_binary, "--db", db, "verify", "--format", "json"}, capture);
  if (!verify.started || verify.exit_code != 0) {
    verify_row->Fail(Describe(verify) + " " + verify_out.substr(0, 300));
    return;
  }
  const uint64_t verified = JsonUint(verify_out, "events").value_or(0);
  verify_row->Ok(verified, verify.seconds);
  verify_row->SetCpu(verify.cpu_s);
  verify_row->notes =
      "`ledger verify`: hash chain, indexes, every event judged again, projections = fresh "
      "replay; peak RSS " +
      std::to_string(JsonUint(verify_out, "peak_rss_kib").value_or(0) / 1024) + " MiB";
  if (verify_out.find("\"ok\":true") == std::string::npos)
    verify_row->Fail("verify did not report ok");
  if (verified != events)
    verify_row->Fail("verified " + std::to_string(verified) + " of " + std::to_string(events));
}

// ---------------------------------------------------------------------------
// Stage 6: query latency.

void RunInvoiceQueries(const std::string& db, uint32_t accounts, int queries, uint64_t seed,
                       Row* row) {
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(db, /*projections=*/true);
  if (!ledger.ok()) return row->Fail(ledger.status().ToString());
  const EventStore& store = (*ledger)->store();
  Result<std::unique_ptr<projections::CommittedProjections>> committed =
      projections::CommittedProjections::Open(store);
  if (!committed.ok()) return row->Fail(committed.status().ToString());
  const projections::ProjectionReaders readers = (*committed)->readers();

  // The months the stream covers: from its start to its last event's.
  Envelope last;
  const Status read = store.ReadEvent(store.head().seq, &last);
  if (!read.ok()) return row->Fail(read.ToString());
  const BillingZone zone = (*ledger)->zone();
  std::vector<Period> periods;
  for (Period p = zone.PeriodOf(WorkloadOptions().start_s); p <= zone.PeriodOf(last.occurred_at_s);
       p = p.Next()) {
    periods.push_back(p);
  }

  std::mt19937_64 rng(seed);
  std::vector<int64_t> samples;
  samples.reserve(static_cast<size_t>(queries));
  uint64_t found = 0;
  uint64_t lines = 0;
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < queries; ++i) {
    char account[32];
    std::snprintf(account, sizeof account, "acct-%05u", static_cast<unsigned>(rng() % accounts));
    const Period period = periods[rng() % periods.size()];
    const Clock::time_point one = Clock::now();
    Result<std::optional<projections::Invoice>> invoice =
        projections::ReadInvoice(readers, account, period);
    samples.push_back(NanosSince(one));
    if (!invoice.ok()) return row->Fail(invoice.status().ToString());
    if (invoice->has_value()) {
      ++found;
      lines += (*invoice)->lines.size();
    }
  }
  const double seconds = SecondsSince(start);
  row->Ok(static_cast<uint64_t>(queries), seconds);
  row->unit = "queries";
  const Percentiles p = PercentilesOf(&samples);
  row->p50_ms = p.p50_ms;
  row->p99_ms = p.p99_ms;
  row->notes = std::to_string(accounts) + " accounts x " + std::to_string(periods.size()) +
               " months, " +
               Fixed(found > 0 ? static_cast<double>(lines) / static_cast<double>(found) : 0, 1) +
               " lines/invoice, single thread";
  if (found != static_cast<uint64_t>(queries))
    row->Fail(std::to_string(queries - found) + " accounts not found");
}

// Bytes of one column family: its keys and values, uncompressed.
Result<uint64_t> FamilyBytes(const EventStore& store, rocksdb::ColumnFamilyHandle* family) {
  uint64_t bytes = 0;
  if (family == nullptr) return bytes;
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) bytes += it->key().size() + it->value().size();
  if (!it->status().ok()) return Status::IoError(it->status().ToString());
  return bytes;
}

// "snapshots X MiB / log Y MiB" of a ledger's serving generation.
Result<std::string> SnapshotSpace(const EventStore& store) {
  Result<uint64_t> generation = projections::CurrentGeneration(store);
  if (!generation.ok()) return generation.status();
  Result<uint64_t> snapshots = FamilyBytes(store, store.column_family(projections::FamilyName(
                                                      projections::kSnapshotsFamily, *generation)));
  if (!snapshots.ok()) return snapshots.status();
  Result<uint64_t> log = FamilyBytes(store, store.log_cf());
  if (!log.ok()) return log.status();
  char text[128];
  std::snprintf(
      text, sizeof text, "snapshots %.1f MiB / log %.1f MiB (%.0f%%)",
      static_cast<double>(*snapshots) / (1 << 20), static_cast<double>(*log) / (1 << 20),
      *log > 0 ? 100.0 * static_cast<double>(*snapshots) / static_cast<double>(*log) : 0.0);
  return std::string(text);
}

// Seeded-random seqs among `account_seqs` (in order), from its middle 80%:
// a query at the head could be answered by a shortcut, and one near seq 1
// has little to replay.
std::vector<uint64_t> PickAsOfSeqs(const std::vector<uint64_t>& account_seqs, uint64_t seed,
                                   size_t count) {
  std::mt19937_64 rng(seed);
  const size_t low = account_seqs.size() / 10;
  const size_t high = std::max(low, account_seqs.size() - 1 - account_seqs.size() / 10);
  std::uniform_int_distribution<size_t> pick(low, high);
  std::vector<uint64_t> seqs;
  for (size_t i = 0; i < count && !account_seqs.empty(); ++i)
    seqs.push_back(account_seqs[pick(rng)]);
  return seqs;
}

// One as-of invoice: the historical projections at `seq`, then the invoice
// of the month that event fell in. Its time goes into `samples`.
Status TimeAsOfQuery(const EventStore& store, const std::string& account, uint64_t seq,
                     const projections::HistoricalOptions& options, std::vector<int64_t>* samples,
                     uint64_t* replayed_events) {
  Envelope envelope;
  LEDGER_RETURN_IF_ERROR(store.ReadEvent(seq, &envelope));
  const Period period = BillingZone(store.billing_offset_s()).PeriodOf(envelope.occurred_at_s);
  const Clock::time_point start = Clock::now();
  Result<std::unique_ptr<projections::HistoricalProjections>> historical =
      projections::HistoricalProjections::Build(store, account, seq, options);
  if (!historical.ok()) return historical.status();
  Result<std::optional<projections::Invoice>> invoice =
      projections::ReadInvoice((*historical)->readers(), account, period);
  samples->push_back(NanosSince(start));
  if (!invoice.ok()) return invoice.status();
  if (!invoice->has_value()) return Status::NotFound("no invoice for " + account);
  *replayed_events = std::max(*replayed_events, (*historical)->replayed_events());
  return Status::Ok();
}

void RunHistoricalQueries(const std::string& db, const std::string& main_db, uint64_t heavy_events,
                          uint64_t seed, size_t seq_count, int runs,
                          const projections::ProjectionOptions& projection_options, Row* row) {
  Result<std::unique_ptr<Ledger>> ledger = OpenLedger(db, /*projections=*/true, projection_options);
  if (!ledger.ok()) return row->Fail(ledger.status().ToString());
  // One account with all the events: a second, small generation.
  WorkloadOptions options;
  options.seed = seed;
  options.events = heavy_events;
  options.accounts = 1;
  const Stream stream = Generate(options);
  Outcomes outcomes;
  const Status appended = AppendLines(**ledger, stream, kAppendBatchEventsMax, &outcomes);
  if (!appended.ok()) return row->Fail(appended.ToString());
  if (outcomes.appended != stream.size()) return row->Fail("heavy stream: " + outcomes.Text());

  const EventStore& store = (*ledger)->store();
  const std::string account = "acct-00000";
  std::vector<uint64_t> account_seqs;
  const Status listed =
      store.ScanAccountEvents(account, 1, store.head().seq, [&](const Envelope& envelope) {
        account_seqs.push_back(envelope.seq);
        return true;
      });
  if (!listed.ok()) return row->Fail(listed.ToString());
  const std::vector<uint64_t> seqs = PickAsOfSeqs(account_seqs, seed, seq_count);

  // Each seq `runs` times, interleaved, from snapshots; then once each by a
  // full replay from seq 1, for comparison.
  std::vector<int64_t> samples;
  std::vector<int64_t> full_samples;
  uint64_t tail_max = 0;
  uint64_t full_max = 0;
  const Clock::time_point start = Clock::now();
  for (int run = 0; run < runs; ++run) {
    for (const uint64_t seq : seqs) {
      const Status timed = TimeAsOfQuery(store, account, seq, {}, &samples, &tail_max);
      if (!timed.ok()) return row->Fail(timed.ToString());
    }
  }
  const double seconds = SecondsSince(start);
  for (const uint64_t seq : seqs) {
    const Status timed =
        TimeAsOfQuery(store, account, seq, {.use_snapshots = false}, &full_samples, &full_max);
    if (!timed.ok()) return row->Fail(timed.ToString());
  }
  row->Ok(samples.size(), seconds);
  row->unit = "queries";
  const Percentiles p = PercentilesOf(&samples);
  row->p50_ms = p.p50_ms;
  row->p99_ms = p.p99_ms;
  const Percentiles full = PercentilesOf(&full_samples);
  char text[512];
  std::snprintf(text, sizeof text,
                "one account with %zu events; %zu seeded seqs from the middle 80%% of its history "
                "x %d runs, invoice of each seq's month; replayed tail <= %" PRIu64
                " events (full replay from seq 1: p50 %.1f ms, p99 %.1f ms)",
                account_seqs.size(), seqs.size(), runs, tail_max, full.p50_ms, full.p99_ms);
  row->notes = text;
  Result<std::string> heavy_space = SnapshotSpace(store);
  if (heavy_space.ok()) row->notes += "; heavy ledger " + *heavy_space;
  ledger->reset();
  if (!std::filesystem::exists(main_db + "/CURRENT")) return;
  Result<std::unique_ptr<Ledger>> main_ledger = OpenLedger(main_db, /*projections=*/true);
  if (!main_ledger.ok()) return;
  Result<std::string> main_space = SnapshotSpace((*main_ledger)->store());
  if (main_space.ok()) row->notes += "; main ledger " + *main_space;
}

// ---------------------------------------------------------------------------
// Stage 7: concurrent appenders.

// `threads` threads each call their writer (made by `writer_for(thread)`)
// with i = 0, 1, ... until `duration_s` has passed; a writer sets `*started`
// when the write it makes begins (after preparing its input) and answers ""
// or why it failed. Fills `row` with the writes made, their rate and their
// p50/p99 latency; returns the writes made.
using TimedWriter = std::function<std::string(int64_t i, Clock::time_point* started)>;
uint64_t RunTimedWriters(int threads, double duration_s,
                         const std::function<TimedWriter(int thread)>& writer_for, Row* row) {
  struct PerThread {
    std::vector<int64_t> samples;
    uint64_t written = 0;
    std::string error;
  };
  std::vector<PerThread> per_thread(static_cast<size_t>(threads));
  std::atomic<bool> go{false};
  const auto deadline_ns = static_cast<int64_t>(duration_s * 1e9);
  std::vector<std::thread> workers;
  Clock::time_point start;
  for (int k = 0; k < threads; ++k) {
    workers.emplace_back([&, k, write = writer_for(k)] {
      PerThread& mine = per_thread[static_cast<size_t>(k)];
      while (!go.load()) std::this_thread::yield();
      // Bounded by the clock, not by a count.
      for (int64_t i = 0; NanosSince(start) < deadline_ns; ++i) {
        Clock::time_point started = Clock::now();
        mine.error = write(i, &started);
        mine.samples.push_back(NanosSince(started));
        if (!mine.error.empty()) return;
        ++mine.written;
      }
    });
  }
  start = Clock::now();
  go.store(true);
  for (std::thread& worker : workers) worker.join();
  const double seconds = SecondsSince(start);

  std::vector<int64_t> samples;
  uint64_t written = 0;
  for (const PerThread& mine : per_thread) {
    if (!mine.error.empty()) {
      row->Fail(mine.error);
      return written;
    }
    written += mine.written;
    samples.insert(samples.end(), mine.samples.begin(), mine.samples.end());
  }
  row->Ok(written, seconds);
  const Percentiles p = PercentilesOf(&samples);
  row->p50_ms = p.p50_ms;
  row->p99_ms = p.p99_ms;
  return written;
}

void RunConcurrentAppenders(const std::string& db, int threads, double duration_s, Row* row) {
  Result<std::unique_ptr<Ledger>> opened = OpenLedger(db, /*projections=*/true);
  if (!opened.ok()) return row->Fail(opened.status().ToString());
  Ledger& ledger = **opened;
  const BillingZone zone(8 * 3600);
  const int64_t t0 = WorkloadOptions().start_s;

  // Each thread bills usage of its own certificate in its own account.
  std::vector<std::string> setup = {
      "{\"type\":\"price_set\",\"event_id\":\"price-USD-private_cert/hour\",\"occurred_at\":\"" +
      zone.Format(t0 - 86400) +
      "\",\"sku\":\"private_cert/hour\",\"currency\":\"USD\",\"unit_price\":\"0.0245\"}"};
  for (int k = 0; k < threads; ++k) {
    const std::string account = "conc-" + std::to_string(k);
    setup.push_back("{\"type\":\"account_opened\",\"event_id\":\"" + account +
                    "-open\",\"account\":\"" + account + "\",\"occurred_at\":\"" +
                    zone.Format(t0 - 3600) + "\",\"currency\":\"USD\"}");
    setup.push_back("{\"type\":\"resource_created\",\"event_id\":\"" + account +
                    "-pc-create\",\"account\":\"" + account + "\",\"occurred_at\":\"" +
                    zone.Format(t0) + "\",\"resource_id\":\"" + account +
                    "-pc\",\"resource_type\":\"private_cert\",\"billing_mode\":\"pay_per_use\"}");
  }
  std::vector<std::string_view> setup_views(setup.begin(), setup.end());
  std::vector<AppendResult> setup_results;
  const Status set_up = ledger.AppendBatch(setup_views, &setup_results);
  if (!set_up.ok()) return row->Fail(set_up.ToString());
  for (const AppendResult& result : setup_results) {
    if (result.outcome != AppendResult::Outcome::kAppended)
      return row->Fail("setup: " + result.error.message);
  }

  const uint64_t appended = RunTimedWriters(
      threads, duration_s,
      [&](int k) {
        return [&ledger, &zone, t0, k, account = "conc-" + std::to_string(k),
                results = std::vector<AppendResult>()](
                   int64_t i, Clock::time_point* started) mutable -> std::string {
          // A minute of ticks per event.
          const int64_t from = t0 + i * 60;
          const std::string line =
              "{\"type\":\"usage_recorded\",\"event_id\":\"" + account + "-tick-" +
              std::to_string(i) + "\",\"account\":\"" + account + "\",\"occurred_at\":\"" +
              zone.Format(from + 65) + "\",\"resource_id\":\"" + account + "-pc\",\"from\":\"" +
              zone.Format(from) + "\",\"to\":\"" + zone.Format(from + 60) + "\"}";
          const std::string_view view = line;
          *started = Clock::now();
          const Status status =
              ledger.AppendBatch(std::span<const std::string_view>(&view, 1), &results);
          if (!status.ok()) return status.ToString();
          if (results.size() != 1 || results[0].outcome != AppendResult::Outcome::kAppended) {
            return "not appended: " +
                   (results.empty() ? std::string("no result") : results[0].error.message);
          }
          return "";
        };
      },
      row);
  if (!row->ok()) return;
  row->notes = std::to_string(threads) +
               " threads, one usage tick per AppendBatch call, durable on return (the ledger "
               "commits concurrent calls in groups)";
  if (ledger.head().seq != setup.size() + appended) row->Fail("head does not match the appends");
}

// The limit of the concurrent appenders: the same number of threads, each
// putting one stored value at a time into a bare RocksDB (default options),
// WAL synced, durable on return. RocksDB commits concurrent writes in
// groups, one WAL sync each; no ledger can wait less on this disk.
void RunRawConcurrentWriters(const std::string& path, const std::vector<std::string>& values,
                             int threads, double duration_s, Row* row) {
  std::unique_ptr<rocksdb::DB> db;
  const rocksdb::Status opened = OpenRawDb(path, &db);
  if (!opened.ok()) return row->Fail(opened.ToString());
  rocksdb::WriteOptions synced;
  synced.sync = true;
  RunTimedWriters(
      threads, duration_s,
      [&](int k) {
        return [&, k](int64_t i, Clock::time_point* started) -> std::string {
          const uint64_t n =
              static_cast<uint64_t>(i) * static_cast<uint64_t>(threads) + static_cast<uint64_t>(k);
          const std::string key = SeqKey(n + 1);
          *started = Clock::now();
          const rocksdb::Status s = db->Put(synced, key, values[n % values.size()]);
          return s.ok() ? "" : s.ToString();
        };
      },
      row);
  if (row->ok()) {
    row->notes = std::to_string(threads) +
                 " threads, one pre-encoded stored value per synced Put, default options "
                 "(RocksDB's own group commit): the concurrent appenders' limit";
  }
}

// One round of a ledger stage and its limit, run one right after the other.
struct Round {
  Row ledger;
  Row limit;
  double ratio() const { return ledger.rate_per_s / limit.rate_per_s; }
};

// If either of the round's rows failed, fails `ledger_row` or `limit_row`
// with why, and returns true.
bool FailIfRoundFailed(const Round& round_rows, int round, Row* ledger_row, Row* limit_row) {
  for (auto [row, out] :
       {std::pair(&round_rows.ledger, ledger_row), std::pair(&round_rows.limit, limit_row)}) {
    if (!row->ok()) {
      out->Fail("round " + std::to_string(round + 1) + ": " + row->notes);
      return true;
    }
  }
  return false;
}

// Both rows become the round whose ratio is the median (the lower middle of
// an even count), with every round's rates in their notes; `rates` gets
// each round's, in the order run. `names` names the pair in the notes.
void KeepMedianRound(std::vector<Round> done, const std::string& names, Row* ledger_row,
                     Row* limit_row, std::vector<Report::RoundRates>* rates) {
  std::string each;
  for (const Round& pair : done) {
    rates->push_back({pair.ledger.rate_per_s, pair.limit.rate_per_s});
    each += (each.empty() ? "" : ", ") + Grouped(pair.ledger.rate_per_s) + " / " +
            Grouped(pair.limit.rate_per_s);
  }
  std::sort(done.begin(), done.end(),
            [](const Round& a, const Round& b) { return a.ratio() < b.ratio(); });
  const Round& median = done[(done.size() - 1) / 2];
  const std::string note = "; the median round by ratio of " + std::to_string(done.size()) +
                           " (events/s, " + names + ": " + each + ")";
  *ledger_row = median.ledger;
  ledger_row->notes += note;
  *limit_row = median.limit;
  limit_row->notes += note;
}

// The ingest target compares `ledger append` with the raw write, and this
// machine's speed drifts from one run to the next (a shared VM: the raw
// write alone ranged 372,973-557,275 events/s within an hour). So with
// --rounds N > 1 both run N more times, each round one right after the
// other into fresh folders, and both rows become the round whose ratio is
// the median (the lower middle of an even count), with every round in the
// notes; the report prints each round's ratio. The first `ledger append`
// above only makes the ledger the later stages read.
void RunIngestRounds(int rounds, const std::string& ledger_binary, const std::string& dir,
                     const std::string& events_file, uint64_t lines,
                     const std::vector<std::string>& values, Report* report) {
  if (rounds < 2 || !report->cli_append.ok()) return;
  std::vector<Round> done;
  for (int round = 0; round < rounds; ++round) {
    Round& pair =
        done.emplace_back(Round{Row(report->cli_append.stage), Row(report->raw_write.stage)});
    RunCliAppend(ledger_binary, dir + "/round-ledger", events_file, lines, &pair.ledger);
    std::unique_ptr<rocksdb::DB> db;
    rocksdb::Status written = OpenRawDb(dir + "/round-raw", &db);
    if (written.ok()) written = WriteRaw(db.get(), values, kRawBatchEvents, &pair.limit);
    if (!written.ok()) pair.limit.Fail(written.ToString());
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir + "/round-ledger", ec);
    std::filesystem::remove_all(dir + "/round-raw", ec);
    if (FailIfRoundFailed(pair, round, &report->cli_append, &report->raw_write)) return;
  }
  KeepMedianRound(std::move(done), "ledger / raw", &report->cli_append, &report->raw_write,
                  &report->ingest_rounds);
}

// Replay against the raw scan, as the ingest pair: the raw scan's first run
// comes right after the raw write and `ledger replay`'s minutes later, a
// ratio of two moments of a VM whose speed drifts (replay / raw scan went
// 0.760 to 0.899 over five runs). With --rounds N > 1, both run N more
// times, `ledger replay` of the ledger at `ledger_path` and then the scan
// of the raw DB at `raw_path`, and both rows become the median round.
void RunReplayRounds(int rounds, const std::string& ledger_binary, const std::string& ledger_path,
                     const std::string& raw_path, uint64_t events, Report* report) {
  if (rounds < 2 || !report->replay.ok() || !report->raw_scan.ok()) return;
  std::vector<Round> done;
  for (int round = 0; round < rounds; ++round) {
    Round& pair = done.emplace_back(Round{Row(report->replay.stage), Row(report->raw_scan.stage)});
    RunReplay(ledger_binary, ledger_path, events, &pair.ledger);
    RunRawScan(raw_path, events, &pair.limit);
    if (FailIfRoundFailed(pair, round, &report->replay, &report->raw_scan)) return;
  }
  KeepMedianRound(std::move(done), "replay / raw scan", &report->replay, &report->raw_scan,
                  &report->replay_rounds);
}

// ---------------------------------------------------------------------------
// Output.

struct Ratio {
  std::string name;
  std::optional<double> value;
};

std::vector<Ratio> Ratios(Report& report) {
  const auto ratio = [](const Row& a, const Row& b) -> std::optional<double> {
    if (!a.ok() || !b.ok() || b.rate_per_s <= 0) return std::nullopt;
    return a.rate_per_s / b.rate_per_s;
  };
  return {
      {"ledger append / raw RocksDB write", ratio(report.cli_append, report.raw_write)},
      {"ledger append / raw write, sync/16384",
       ratio(report.cli_append, report.raw_write_ledger_batches)},
      {"ledger append / PostgreSQL COPY", ratio(report.cli_append, report.pg_copy)},
      {"Ledger::AppendStream / raw RocksDB write", ratio(report.api_append, report.raw_write)},
      {"Ledger::AppendEventStream / raw RocksDB write",
       ratio(report.typed_append, report.raw_write)},
      {"floors as a pipeline / raw RocksDB write", ratio(report.floor_pipeline, report.raw_write)},
      {"replay / raw scan", ratio(report.replay, report.raw_scan)}};
}

std::string Cell(std::optional<double> ms) { return ms ? Fixed(*ms, 3) : "-"; }

// The CPU the ingest target leaves per event, against what the floors cost.
struct IngestBudget {
  double target_per_s = 0;   // 70% of the raw write
  double budget_us = 0;      // every core's time, spread over the target rate
  double floors_us = 0;      // event-id index + JSON + Cereal and hash chain, per event
  double floors_cap_per_s = 0;  // the most the cores can ingest paying only the floors
  std::optional<double> peer_target_per_s;  // 3x PostgreSQL COPY
  // The same budget against the raw write in the ledger's batches.
  std::optional<double> ledger_batches_budget_us;
  // The ledger's own writes alone + JSON + Cereal and hash chain, per event.
  std::optional<double> writes_floors_us;
};

std::optional<IngestBudget> Budget(Report& report, const Machine& machine) {
  const Row& raw = report.raw_write;
  if (!raw.ok() || !report.floor_ids.ok() || !report.floor_parse.ok() ||
      !report.floor_encode.ok() || !report.floor_ids.cpu_us || !report.floor_parse.cpu_us ||
      !report.floor_encode.cpu_us) {
    return std::nullopt;
  }
  // The benchmark issue's target: 70% of a raw write's rate, and the CPU per
  // event every core's time allows at that rate.
  const auto target_per_s = [](const Row& raw_write) { return 0.7 * raw_write.rate_per_s; };
  const auto cpu_budget_us = [&](const Row& raw_write) {
    return machine.cores * 1e6 / target_per_s(raw_write);
  };
  IngestBudget budget;
  budget.target_per_s = target_per_s(raw);
  budget.budget_us = cpu_budget_us(raw);
  budget.floors_us =
      *report.floor_ids.cpu_us + *report.floor_parse.cpu_us + *report.floor_encode.cpu_us;
  budget.floors_cap_per_s = machine.cores * 1e6 / budget.floors_us;
  if (report.pg_copy.ok()) budget.peer_target_per_s = 3 * report.pg_copy.rate_per_s;
  if (report.raw_write_ledger_batches.ok()) {
    budget.ledger_batches_budget_us = cpu_budget_us(report.raw_write_ledger_batches);
  }
  if (report.floor_writes.ok() && report.floor_writes.cpu_us) {
    budget.writes_floors_us =
        *report.floor_writes.cpu_us + *report.floor_parse.cpu_us + *report.floor_encode.cpu_us;
  }
  return budget;
}

// Each round's ratio, in the order run, when there were rounds.
void PrintRoundRatios(const char* name, const std::vector<Report::RoundRates>& rounds) {
  if (rounds.size() < 2) return;
  std::string each;
  for (const Report::RoundRates& round : rounds) {
    each += (each.empty() ? "" : ", ") + Fixed(round.ledger_per_s / round.limit_per_s, 3);
  }
  std::printf("  %-42s %s (the rows above: the median round)\n", name, each.c_str());
}

void PrintReport(Report& report, const Machine& machine, const std::string& header) {
  std::printf("%s", header.c_str());
  std::printf(
      "machine: %u cores; allocator: %s; write 4 KiB + fdatasync, %d runs: appending mean %.3f ms, "
      "p50 %.3f ms, p99 %.3f ms; "
      "overwriting synced blocks p50 %.3f ms, p99 %.3f ms%s\n\n",
      machine.cores, machine.allocator.c_str(), machine.fsync_runs, machine.fdatasync_mean_ms,
      machine.fdatasync.p50_ms, machine.fdatasync.p99_ms, machine.fdatasync_preallocated.p50_ms,
      machine.fdatasync_preallocated.p99_ms,
      machine.fsync_error.empty() ? "" : (" error: " + machine.fsync_error).c_str());
  std::printf("%-40s %-8s %10s %-7s %9s %12s %9s %9s %8s  %s\n", "stage", "status", "count",
              "unit", "seconds", "per second", "p50 ms", "p99 ms", "CPU us", "notes");
  for (const Row* row : report.rows()) {
    const bool measured = row->ok();
    std::printf("%-40s %-8s %10s %-7s %9s %12s %9s %9s %8s  %s\n", row->stage.c_str(),
                row->status.c_str(),
                measured ? Grouped(static_cast<double>(row->count)).c_str() : "-",
                row->unit.c_str(), measured ? Fixed(row->seconds, 3).c_str() : "-",
                measured ? Grouped(row->rate_per_s).c_str() : "-", Cell(row->p50_ms).c_str(),
                Cell(row->p99_ms).c_str(), row->cpu_us ? Fixed(*row->cpu_us, 2).c_str() : "-",
                row->notes.c_str());
  }
  std::printf("(CPU us: user + system time of every thread, per event or query)\n");
  if (const std::optional<IngestBudget> budget = Budget(report, machine)) {
    std::printf(
        "\ningest target, 70%% of the raw write: %s events/s; %u cores leave %s us of CPU per "
        "event.\nfloors alone (event-id index + JSON + Cereal and hash chain): %s us per event = "
        "%s of "
        "that "
        "budget%s\n",
        Grouped(budget->target_per_s).c_str(), machine.cores, Fixed(budget->budget_us, 2).c_str(),
        Fixed(budget->floors_us, 2).c_str(),
        Fixed(budget->floors_us / budget->budget_us, 2).c_str(),
        budget->floors_us > budget->budget_us
            ? ": in this run the floors alone exceed it, before any rule or projection"
            : "");
    if (budget->ledger_batches_budget_us) {
      std::printf(
          "against the raw write in batches of %s (the floors'), 70%% leaves %s us: the "
          "floors are %s of it\n",
          Grouped(kAppendBatchEventsMax).c_str(),
          Fixed(*budget->ledger_batches_budget_us, 2).c_str(),
          Fixed(budget->floors_us / *budget->ledger_batches_budget_us, 2).c_str());
    }
    if (budget->writes_floors_us) {
      const double left_us = budget->budget_us - *budget->writes_floors_us;
      std::printf(
          "the ledger's own writes alone + JSON + Cereal and hash chain: %s us per event = %s of "
          "the budget; %s\n",
          Fixed(*budget->writes_floors_us, 2).c_str(),
          Fixed(*budget->writes_floors_us / budget->budget_us, 2).c_str(),
          left_us > 0
              ? (Fixed(left_us, 2) + " us left for rules, rating and the projections' fold").c_str()
              : "in this run they exceed it before any rule, rating or projection fold");
    }
    std::printf("the floors alone let %u cores ingest at most %s events/s", machine.cores,
                Grouped(budget->floors_cap_per_s).c_str());
    if (budget->peer_target_per_s) {
      std::printf("; 3x the PostgreSQL peer is %s events/s%s",
                  Grouped(*budget->peer_target_per_s).c_str(),
                  budget->floors_cap_per_s < *budget->peer_target_per_s
                      ? ": in this run the floors alone cap ingest below it"
                      : "");
    }
    std::printf("\n");
  }
  if (report.floor_pipeline.ok() && report.raw_write.ok() && report.cli_append.ok()) {
    // Measured, where the lines above add CPU up: the same floors on the
    // cores as the ledger's stages share them.
    std::printf(
        "the floors as a pipeline ingest %s events/s, %s of the raw write: the most a ledger "
        "that writes its event-id index in the log's synced batch reaches here; `ledger "
        "append`, with its rules, rating, projections and command line, reaches %s of it\n",
        Grouped(report.floor_pipeline.rate_per_s).c_str(),
        Fixed(report.floor_pipeline.rate_per_s / report.raw_write.rate_per_s, 2).c_str(),
        Fixed(report.cli_append.rate_per_s / report.floor_pipeline.rate_per_s, 2).c_str());
  }
  if (report.concurrent.p99_ms && report.raw_concurrent.p99_ms) {
    std::printf("%d writers, p99: the ledger %s ms, raw RocksDB %s ms (%s of it)%s\n",
                report.writer_threads, Fixed(*report.concurrent.p99_ms, 3).c_str(),
                Fixed(*report.raw_concurrent.p99_ms, 3).c_str(),
                Fixed(*report.concurrent.p99_ms / *report.raw_concurrent.p99_ms, 2).c_str(),
                *report.raw_concurrent.p99_ms >= 1.0
                    ? ": the issue's 1 ms target is below what RocksDB's own group commit "
                      "reaches here"
                    : "");
  }
  std::printf("\nratios (events/s over events/s):\n");
  for (const Ratio& ratio : Ratios(report)) {
    std::printf("  %-42s %s\n", ratio.name.c_str(),
                ratio.value ? Fixed(*ratio.value, 3).c_str() : "-");
  }
  PrintRoundRatios("ledger append / raw write, each round", report.ingest_rounds);
  PrintRoundRatios("replay / raw scan, each round", report.replay_rounds);
  std::fflush(stdout);
}

// Each round's rates as a JSON array, under the two names given.
std::string RoundsJson(const std::vector<Report::RoundRates>& rounds, const char* ledger_name,
                       const char* limit_name) {
  std::string out = "[";
  for (size_t i = 0; i < rounds.size(); ++i) {
    out += std::string(i > 0 ? ", " : "") + "{" + JsonString(ledger_name) + ": " +
           JsonNumber(rounds[i].ledger_per_s) + ", " + JsonString(limit_name) + ": " +
           JsonNumber(rounds[i].limit_per_s) + "}";
  }
  return out + "]";
}

std::string ReportJson(Report& report, const Machine& machine, const WorkloadOptions& workload,
                       bool quick) {
  std::string out =
      "{\n  \"events\": " + std::to_string(workload.events) +
      ",\n  \"accounts\": " + std::to_string(workload.accounts) +
      ",\n  \"seed\": " + std::to_string(workload.seed) +
      ",\n  \"quick\": " + (quick ? "true" : "false") +
      ",\n  \"machine\": {\"cores\": " + std::to_string(machine.cores) + ", \"allocator\": \"" +
      machine.allocator + "\"" +
      ", \"fdatasync_4k_mean_ms\": " + JsonNumber(machine.fdatasync_mean_ms) +
      ", \"fdatasync_4k_p50_ms\": " + JsonNumber(machine.fdatasync.p50_ms) +
      ", \"fdatasync_4k_p99_ms\": " + JsonNumber(machine.fdatasync.p99_ms) +
      ", \"fdatasync_4k_overwrite_p50_ms\": " + JsonNumber(machine.fdatasync_preallocated.p50_ms) +
      ", \"fdatasync_4k_overwrite_p99_ms\": " + JsonNumber(machine.fdatasync_preallocated.p99_ms) +
      "},\n  \"stages\": [\n";
  const std::vector<Row*> rows = report.rows();
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = *rows[i];
    out += "    {\"stage\": " + JsonString(row.stage) + ", \"status\": " + JsonString(row.status) +
           ", \"count\": " + std::to_string(row.count) + ", \"unit\": " + JsonString(row.unit) +
           ", \"seconds\": " + JsonNumber(row.seconds) +
           ", \"per_second\": " + JsonNumber(row.rate_per_s) +
           ", \"p50_ms\": " + JsonNumber(row.p50_ms) + ", \"p99_ms\": " + JsonNumber(row.p99_ms) +
           ", \"cpu_us\": " + JsonNumber(row.cpu_us) +
           ", \"notes\": " + JsonString(row.notes) + "}" + (i + 1 < rows.size() ? ",\n" : "\n");
  }
  out += "  ],\n  \"ratios\": {";
  const std::vector<Ratio> ratios = Ratios(report);
  for (size_t i = 0; i < ratios.size(); ++i) {
    out += (i > 0 ? ", " : "") + JsonString(ratios[i].name) + ": " + JsonNumber(ratios[i].value);
  }
  out += "}";
  out += ",\n  \"ingest_rounds\": " +
         RoundsJson(report.ingest_rounds, "ledger_append_per_s", "raw_write_per_s");
  out += ",\n  \"replay_rounds\": " +
         RoundsJson(report.replay_rounds, "replay_per_s", "raw_scan_per_s");
  if (const std::optional<IngestBudget> budget = Budget(report, machine)) {
    out += ",\n  \"ingest_budget\": {\"target_per_s\": " + JsonNumber(budget->target_per_s) +
           ", \"cpu_budget_us\": " + JsonNumber(budget->budget_us) +
           ", \"floors_cpu_us\": " + JsonNumber(budget->floors_us) +
           ", \"floors_cap_per_s\": " + JsonNumber(budget->floors_cap_per_s) +
           ", \"peer_target_per_s\": " + JsonNumber(budget->peer_target_per_s) +
           ", \"ledger_batches_cpu_budget_us\": " + JsonNumber(budget->ledger_batches_budget_us) +
           ", \"ledger_writes_floors_cpu_us\": " + JsonNumber(budget->writes_floors_us) + "}";
  }
  return out + "\n}\n";
}

// ---------------------------------------------------------------------------

struct Flags {
  WorkloadOptions workload;
  bool quick = false;
  std::string dir = "/tmp";
  bool skip_postgres = false;
  std::string json_path;
  bool keep = false;
  std::string ledger_binary = LEDGER_BINARY;
  std::string pg_bin = "/usr/lib/postgresql/15/bin";
  int threads = 8;
  int rounds = 3;  // of `ledger append` and the raw write; 1 with --quick
  bool only_as_of = false;
  projections::ProjectionOptions projections;  // of the heavy ledger (--snapshot-interval)
};

int Run(const Flags& flags) {
  const bool quick = flags.quick;
  const WorkloadOptions& workload = flags.workload;
  const int query_count = quick ? 1'000 : 10'000;
  const uint64_t heavy_events = quick ? 5'000 : 100'000;
  const size_t heavy_seqs = quick ? 5 : 20;
  const int heavy_runs = quick ? 1 : 3;
  const double concurrent_s = quick ? 1.0 : 5.0;

  std::error_code ec;
  std::filesystem::create_directories(flags.dir, ec);
  std::string pattern = flags.dir + "/ledger_bench.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "ledger_bench: cannot create a folder in %s: %s\n", flags.dir.c_str(),
                 std::strerror(errno));
    return 2;
  }
  const std::string run_dir = pattern;
  // The postgres user must be able to enter it to reach its own folder.
  chmod(run_dir.c_str(), 0755);
  g_run_dir = run_dir;
  if (!flags.keep) SetArgv({"rm", "-rf", run_dir}, &g_rm_argv_storage, &g_rm_argv);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  // Removes the folder on every return from here on.
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      if (keep) return;
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{run_dir, flags.keep};

  const Machine machine = MeasureMachine(run_dir, quick ? 50 : 200);
  Report report;
  if (flags.only_as_of) {
    std::fprintf(stderr, "ledger_bench: --as-of-seq queries only\n");
    RunHistoricalQueries(run_dir + "/ledger-heavy", "", heavy_events, workload.seed, heavy_seqs,
                         heavy_runs, flags.projections, &report.as_of);
    PrintReport(report, machine, "ledger_bench: --only-as-of\n");
    return report.as_of.ok() ? 0 : 1;
  }

  std::fprintf(stderr, "ledger_bench: generating %" PRIu64 " events in %s\n", workload.events,
               run_dir.c_str());
  const Stream stream = Generate(workload);
  const std::string events_file = run_dir + "/events.jsonl";
  if (!WriteFile(events_file, stream)) {
    std::fprintf(stderr, "ledger_bench: cannot write %s\n", events_file.c_str());
    return 2;
  }
  uint64_t bytes = 0;
  for (const auto& span : stream.spans) bytes += span.second + 1;
  char header[512];
  std::snprintf(header, sizeof header,
                "ledger_bench: %zu events (%.1f MiB of JSON Lines), %u accounts, seed %" PRIu64
                "%s\nscratch: %s%s\n",
                stream.size(), static_cast<double>(bytes) / (1 << 20), workload.accounts,
                workload.seed, quick ? ", --quick" : "", run_dir.c_str(),
                flags.keep ? " (kept)" : " (removed at the end)");

  std::fprintf(stderr, "ledger_bench: ledger append\n");
  const std::string cli_db = run_dir + "/ledger-cli";
  const std::string raw_db = run_dir + "/raw-rocksdb";  // the raw write's, and its scans
  const CliAppend cli =
      RunCliAppend(flags.ledger_binary, cli_db, events_file, stream.size(), &report.cli_append);

  std::fprintf(stderr, "ledger_bench: Ledger::AppendStream\n");
  RunApiAppend(run_dir + "/ledger-api", stream, cli.outcomes, &report.api_append);
  std::filesystem::remove_all(run_dir + "/ledger-api", ec);

  std::fprintf(stderr, "ledger_bench: Ledger::AppendEventStream\n");
  RunTypedAppend(run_dir + "/ledger-typed", stream, cli.outcomes, &report.typed_append);
  std::filesystem::remove_all(run_dir + "/ledger-typed", ec);

  StoredEvents stored;
  std::vector<std::string> concurrent_values;  // stored values the raw writers put
  if (report.cli_append.ok()) {
    const Status read = ReadStoredEvents(cli_db, stream, cli.line_of_seq, &stored);
    if (!read.ok()) {
      report.raw_write.Fail("reading stored events: " + read.ToString());
      stored.values.clear();
    }
  } else {
    report.raw_write.Fail("needs the ledger of `ledger append`");
  }

  if (!stored.values.empty()) {
    std::fprintf(stderr, "ledger_bench: raw RocksDB\n");
    RunRawRocksDb(raw_db, stored.values, &report.raw_write, &report.raw_scan);
    // Kept for the replay rounds' scans, if any (RunReplayRounds).
    if (flags.rounds < 2) std::filesystem::remove_all(raw_db, ec);
    RunRawWriteLedgerBatches(run_dir + "/raw-rocksdb-16k", stored.values,
                             &report.raw_write_ledger_batches);
    std::filesystem::remove_all(run_dir + "/raw-rocksdb-16k", ec);
    RunFloorIdIndex(run_dir + "/raw-ids", stored.values, &report.floor_ids);
    std::filesystem::remove_all(run_dir + "/raw-ids", ec);
    RunFloorEncode(stored.values, &report.floor_encode);
    std::fprintf(stderr, "ledger_bench: the ledger's writes alone\n");
    RunFloorLedgerWrites(run_dir + "/ledger-writes", stream, &report.floor_writes);
    std::filesystem::remove_all(run_dir + "/ledger-writes", ec);
    std::fprintf(stderr, "ledger_bench: the floors as a pipeline\n");
    RunFloorPipeline(run_dir + "/floor-pipeline", stream, cli.line_of_seq, stored.values,
                     &report.floor_pipeline);
    std::filesystem::remove_all(run_dir + "/floor-pipeline", ec);
    // Enough for the raw writers, which run beside the ledger's (below).
    concurrent_values.assign(stored.values.begin(),
                             stored.values.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(
                                                         stored.values.size(), 100'000)));
    if (flags.rounds > 1) std::fprintf(stderr, "ledger_bench: ingest rounds\n");
    RunIngestRounds(flags.rounds, flags.ledger_binary, run_dir, events_file, stream.size(),
                    stored.values, &report);
  } else {
    report.raw_scan.Fail("no raw DB");
    report.raw_write_ledger_batches.Fail("no stored events");
    report.floor_ids.Fail("no stored events");
    report.floor_encode.Fail("no stored events");
    report.floor_writes.Fail("no stored events");
    report.floor_pipeline.Fail("no stored events");
  }
  RunFloorParse(stream, &report.floor_parse);

  if (flags.skip_postgres) {
    report.pg_copy.Skip("--skip-postgres");
    report.pg_query.Skip("--skip-postgres");
  } else if (!std::filesystem::exists(flags.pg_bin + "/initdb") ||
             !std::filesystem::exists(flags.pg_bin + "/pg_ctl")) {
    report.pg_copy.Skip("no PostgreSQL binaries in " + flags.pg_bin +
                        " (Debian package postgresql-15)");
    report.pg_query.Skip(report.pg_copy.notes);
  } else {
#if LEDGER_BENCH_HAVE_LIBPQ
    if (stored.pg_rows.empty()) {
      report.pg_copy.Fail("needs the events of `ledger append`");
      report.pg_query.Fail("no events");
    } else {
      std::fprintf(stderr, "ledger_bench: PostgreSQL\n");
      // In the scratch folder, beside the ledgers (same disk), unless the
      // postgres user cannot reach it: then in a folder of its own in /tmp.
      std::string pg_dir = run_dir + "/pg";
      std::string error;
      std::string moved;
      if (!PreparePgDir(pg_dir, &error)) {
        std::filesystem::remove_all(pg_dir, ec);
        moved = error;
        pg_dir = "/tmp/ledger_bench_pg.XXXXXX";
        if (mkdtemp(pg_dir.data()) == nullptr) {
          error = "mkdtemp in /tmp: " + std::string(std::strerror(errno));
          pg_dir.clear();
        } else {
          if (!flags.keep) SetArgv({"rm", "-rf", run_dir, pg_dir}, &g_rm_argv_storage, &g_rm_argv);
          if (!PreparePgDir(pg_dir, &error)) {
            std::filesystem::remove_all(pg_dir, ec);
            pg_dir.clear();
          }
        }
      }
      if (pg_dir.empty()) {
        report.pg_copy.Fail(error);
        report.pg_query.Fail("no server");
      } else {
        RunPostgres(flags.pg_bin, pg_dir, stored, &report.pg_copy, &report.pg_query);
        if (!flags.keep) std::filesystem::remove_all(pg_dir, ec);
        if (!moved.empty()) report.pg_copy.notes += "; data in " + pg_dir + " because " + moved;
      }
    }
#else
    report.pg_copy.Skip("built without libpq (Debian package libpq-dev)");
    report.pg_query.Skip(report.pg_copy.notes);
#endif
  }
  const uint64_t stored_count = stored.values.size();
  stored = StoredEvents();

  if (report.cli_append.ok()) {
    std::fprintf(stderr, "ledger_bench: replay and verify\n");
    RunReplayAndVerify(flags.ledger_binary, cli_db, stored_count, &report.replay, &report.verify);
    if (flags.rounds > 1) std::fprintf(stderr, "ledger_bench: replay rounds\n");
    RunReplayRounds(flags.rounds, flags.ledger_binary, cli_db, raw_db, stored_count, &report);
    std::fprintf(stderr, "ledger_bench: queries\n");
    RunInvoiceQueries(cli_db, workload.accounts, query_count, workload.seed, &report.invoice);
  } else {
    for (Row* row : {&report.replay, &report.verify, &report.invoice})
      row->Fail("needs the ledger of `ledger append`");
  }
  std::filesystem::remove_all(raw_db, ec);
  RunHistoricalQueries(run_dir + "/ledger-heavy", cli_db, heavy_events, workload.seed, heavy_seqs,
                       heavy_runs, flags.projections, &report.as_of);
  std::filesystem::remove_all(run_dir + "/ledger-heavy", ec);

  std::fprintf(stderr, "ledger_bench: concurrent appenders\n");
  report.writer_threads = flags.threads;
  report.concurrent.stage = "concurrent appenders (" + std::to_string(flags.threads) + " threads)";
  report.raw_concurrent.stage =
      "raw RocksDB, " + std::to_string(flags.threads) + " writers (synced Put)";
  RunConcurrentAppenders(run_dir + "/ledger-concurrent", flags.threads, concurrent_s,
                         &report.concurrent);
  std::filesystem::remove_all(run_dir + "/ledger-concurrent", ec);
  if (!concurrent_values.empty()) {
    RunRawConcurrentWriters(run_dir + "/raw-concurrent", concurrent_values, flags.threads,
                            concurrent_s, &report.raw_concurrent);
    std::filesystem::remove_all(run_dir + "/raw-concurrent", ec);
  } else {
    report.raw_concurrent.Fail("no stored events");
  }

  PrintReport(report, machine, header);
  if (!flags.json_path.empty()) {
    const std::string json = ReportJson(report, machine, workload, quick);
    if (flags.json_path == "-") {
      std::fwrite(json.data(), 1, json.size(), stdout);
    } else {
      std::ofstream file(flags.json_path);
      file << json;
      if (!file) std::fprintf(stderr, "ledger_bench: cannot write %s\n", flags.json_path.c_str());
    }
  }
  bool all_ok = true;
  for (const Row* row : report.rows()) all_ok = all_ok && (row->ok() || row->status == "skipped");
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace ledger::bench

int main(int argc, char** argv) {
  ledger::bench::Flags flags;
  flags.workload.events = 1'000'000;
  flags.workload.accounts = 100;
  CLI::App app{
      "ledger_bench: the ledger's ingest, replay and query numbers beside raw RocksDB and "
      "PostgreSQL"};
  app.add_option("--events", flags.workload.events, "events in the generated stream")
      ->capture_default_str();
  app.add_option("--accounts", flags.workload.accounts, "accounts in the stream")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  app.add_option("--seed", flags.workload.seed, "random seed of the stream")->capture_default_str();
  app.add_flag("--quick", flags.quick,
               "a seconds-long smoke run (20,000 events, 20 accounts unless given)");
  app.add_option("--dir", flags.dir, "scratch folder; a fresh subfolder is made and removed")
      ->capture_default_str();
  app.add_flag("--skip-postgres", flags.skip_postgres, "do not start PostgreSQL");
  app.add_flag("--only-as-of", flags.only_as_of, "run only the --as-of-seq stage");
  app.add_option("--snapshot-interval", flags.projections.snapshots.interval_events,
                 "account events between snapshots in the --as-of-seq stage's ledger")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  app.add_option("--snapshot-bytes-per-event", flags.projections.snapshots.bytes_per_event,
                 "snapshot bytes per account event before intervals grow, same stage")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  app.add_option("--json", flags.json_path, "also write the report as JSON to FILE (- for stdout)");
  app.add_flag("--keep", flags.keep, "keep the scratch subfolder");
  app.add_option("--ledger", flags.ledger_binary, "the `ledger` program")->capture_default_str();
  app.add_option("--pg-bin", flags.pg_bin, "PostgreSQL's binaries")->capture_default_str();
  app.add_option("--rounds", flags.rounds,
                 "rounds of `ledger append` and the raw write, and of `ledger replay` and the "
                 "raw scan, each pair one after the other; their rows give the median round by "
                 "ratio (default 3; 1 with --quick: the single runs)")
      ->check(CLI::Range(1, 99));
  app.add_option("--threads", flags.threads, "concurrent appenders")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  // The library's info lines ("created ledger at ...") would break up the report.
  spdlog::set_level(spdlog::level::warn);
  if (flags.quick) {
    if (app.count("--events") == 0) flags.workload.events = 20'000;
    if (app.count("--accounts") == 0) flags.workload.accounts = 20;
    if (app.count("--rounds") == 0) flags.rounds = 1;
  }
  if (flags.workload.events == 0) {
    std::fprintf(stderr, "ledger_bench: --events must be at least 1\n");
    return 2;
  }
  try {
    return ledger::bench::Run(flags);
  } catch (const std::exception& e) {
    // Destructors have stopped the server and removed the folder by now.
    std::fprintf(stderr, "ledger_bench: %s\n", e.what());
    return 2;
  }
}
