// ledger_gen: writes a generated CCM event stream as JSON Lines on stdout.
//   ledger_gen --events 1000000 --accounts 200 --seed 7 > events.jsonl

#include <CLI/CLI.hpp>
#include <cstdio>

#include "bench/workload.h"

int main(int argc, char** argv) {
  ledger::bench::WorkloadOptions options;
  CLI::App app{"ledger_gen: a deterministic CCM event stream as JSON Lines"};
  app.add_option("--events", options.events, "how many lines")->capture_default_str();
  app.add_option("--accounts", options.accounts, "how many accounts")->capture_default_str();
  app.add_option("--certs-per-account", options.certs_per_account,
                 "pay-per-use private certificates per account")
      ->capture_default_str();
  app.add_option("--seed", options.seed, "random seed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::string buffer;
  ledger::bench::GenerateWorkload(options, [&](const std::string& line) {
    buffer += line;
    buffer.push_back('\n');
    if (buffer.size() > (1 << 20)) {
      std::fwrite(buffer.data(), 1, buffer.size(), stdout);
      buffer.clear();
    }
  });
  std::fwrite(buffer.data(), 1, buffer.size(), stdout);
  return 0;
}
