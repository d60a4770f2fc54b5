#include "ledger/internal/temp_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace ledger::internal {
namespace {

// A folder younger than this is never swept: its reader may not have
// locked it yet.
constexpr auto kTempDirAgeMin = std::chrono::seconds(10);
// Entries of the temporary folder looked at per sweep.
constexpr size_t kTempEntriesSweptMax = 10'000;

// Whether `name` is a folder MakeLockedTempDir made, `<prefix><pid>.XXXXXX`
// (the pid is for people reading `ls`; the lock says whether it is in use).
// Folders of versions that named no pid are not: their readers lock nothing.
bool IsLockedTempDirName(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return false;
  name.remove_prefix(prefix.size());
  const char* const last = name.data() + name.size();
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(name.data(), last, pid);
  return error == std::errc() && end != name.data() && end != last && *end == '.' && pid > 0;
}

// Opens the folder `dir` and takes its lock (which the reader that made it
// holds for as long as it reads), without waiting. Only the folder `seen`
// found there (by lstat: no symlink, nor one put in its place since), and
// only while it still exists (another sweep may have removed it before
// letting go of the lock). The descriptor, or -1.
int LockDir(const std::string& dir, const struct stat& seen) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat opened {};
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &opened) != 0 ||
      opened.st_dev != seen.st_dev || opened.st_ino != seen.st_ino || opened.st_nlink == 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Whether the folder at `path` may be a killed reader's: a folder (not a
// symlink) of this user, older than kTempDirAgeMin. Fills `info`.
bool MayBeLeftBehind(const std::filesystem::path& path, struct stat* info) {
  if (lstat(path.c_str(), info) != 0 || !S_ISDIR(info->st_mode) || info->st_uid != geteuid()) {
    return false;
  }
  const auto modified = std::chrono::system_clock::from_time_t(info->st_mtim.tv_sec);
  return std::chrono::system_clock::now() - modified >= kTempDirAgeMin;
}

// A query killed while it read beside a writer (SIGPIPE from `| head`,
// Ctrl-C), or a killed verify, never removes its folder. The next one
// removes this user's folders of its prefix that nobody holds: the lock,
// unlike a pid, also answers for a reader in another pid namespace sharing
// the folder, and is not fooled by a pid used again. (Across hosts sharing
// the folder over NFS it does not: Linux's NFS has no flock on folders.)
void RemoveEndedTempDirs(const std::filesystem::path& temp_dir, std::string_view prefix) {
  std::error_code ec;
  std::filesystem::directory_iterator it(temp_dir, ec);
  for (size_t seen = 0;
       !ec && it != std::filesystem::directory_iterator() && seen < kTempEntriesSweptMax;
       it.increment(ec), ++seen) {
    const std::filesystem::path& path = it->path();
    struct stat info {};
    if (!IsLockedTempDirName(path.filename().string(), prefix) || !MayBeLeftBehind(path, &info)) {
      continue;
    }
    const int lock = LockDir(path.string(), info);
    if (lock < 0) continue;   // a reader holds it, or it is gone
    std::error_code ignored;  // what cannot be removed stays, as before
    std::filesystem::remove_all(path, ignored);
    close(lock);
  }
}

constexpr int kLockedTempDirAttempts = 3;

// $TMPDIR, or /tmp when it is unset or empty.
std::filesystem::path TempFolder() {
  const char* const tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

}  // namespace

// Made again if a sweep removed it before it was locked (its process
// stalled past kTempDirAgeMin).
Result<std::pair<std::string, int>> MakeLockedTempDir(std::string_view prefix,
                                                      std::string_view what) {
  const std::filesystem::path temp_dir = TempFolder();
  RemoveEndedTempDirs(temp_dir, prefix);
  const std::string name_pattern =
      (temp_dir / (std::string(prefix) + std::to_string(getpid()) + ".XXXXXX")).string();
  for (int attempt = 0; attempt < kLockedTempDirAttempts; ++attempt) {
    std::string dir = name_pattern;
    if (mkdtemp(dir.data()) == nullptr) {
      return Status::IoError("cannot make " + std::string(what) + " in " + temp_dir.string() +
                             ": " + std::strerror(errno));
    }
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;  // swept already
    const bool locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
    // A folder where flock does not work (NFS) is read from unlocked, as
    // before locks: a sweep may remove it, and RocksDB keeps its log open.
    const bool unlockable = !locked && errno != EWOULDBLOCK;
    struct stat opened {};
    if ((locked || unlockable) && fstat(fd, &opened) == 0 && opened.st_nlink > 0) {
      return std::make_pair(dir, fd);
    }
    close(fd);  // a sweep holds or removed it: make another
  }
  return Status::IoError("cannot lock " + std::string(what) + " in " + temp_dir.string());
}

}  // namespace ledger::internal
