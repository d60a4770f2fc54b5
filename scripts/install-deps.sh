#!/usr/bin/env bash
# Installs the Debian packages the ledger builds and tests with. Safe to run
# again: it only calls apt-get when a package is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake g++
  librocksdb-dev libcereal-dev libspdlog-dev libfmt-dev libsimdjson-dev libcli11-dev libssl-dev
  libabsl-dev libutf8proc-dev pkg-config libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev postgresql-15 libpq-dev
  # The fuzz targets (scripts/fuzz.sh): clang with libFuzzer and its
  # sanitizer runtimes, and llvm-symbolizer for readable stack traces.
  clang libclang-rt-14-dev llvm
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
