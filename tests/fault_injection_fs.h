// FaultInjectionFs: a RocksDB FileSystem that fails writes, syncs or reads
// on demand, and can drop every byte not yet synced, as a power loss would
// (LevelDB's fault_injection_test, RocksDB's FaultInjectionTestFS). Test
// infrastructure only.
//
// Thread-safe: RocksDB calls it from its background threads.

#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace ledger::testing {

class FaultInjectionFs : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "FaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  std::atomic<bool> fail_writes{false};
  std::atomic<bool> fail_syncs{false};
  std::atomic<bool> fail_reads{false};
  // Inactive: as after a power cut, nothing reaches the disk any more.
  std::atomic<bool> active{true};

  // Truncates every file written through this FS to what was last synced.
  void DropUnsyncedData() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [path, state] : files_) {
      if (state.synced_bytes < state.bytes) {
        if (truncate(path.c_str(), static_cast<off_t>(state.synced_bytes)) == 0) {
          state.bytes = state.synced_bytes;
        }
      }
    }
  }


  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (!active || fail_writes) return rocksdb::IOStatus::IOError("injected: cannot create " + path);
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(path, options, &file, dbg);
    if (!s.ok()) return s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      files_[path] = FileState{};
    }
    *result = std::make_unique<File>(std::move(file), this, path);
    return s;
  }

  rocksdb::IOStatus NewRandomAccessFile(const std::string& path, const rocksdb::FileOptions& options,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                        rocksdb::IODebugContext* dbg) override {
    if (fail_reads) return rocksdb::IOStatus::IOError("injected: cannot open " + path);
    std::unique_ptr<rocksdb::FSRandomAccessFile> file;
    rocksdb::IOStatus s = target()->NewRandomAccessFile(path, options, &file, dbg);
    if (!s.ok()) return s;
    *result = std::make_unique<Reader>(std::move(file), this);
    return s;
  }

 private:
  struct FileState {
    uint64_t bytes = 0;
    uint64_t synced_bytes = 0;
  };

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile>&& file, FaultInjectionFs* fs, std::string path)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->active || fs_->fail_writes) return rocksdb::IOStatus::IOError("injected: write failed");
      rocksdb::IOStatus s = target()->Append(data, options, dbg);
      if (s.ok()) fs_->Grow(path_, data.size());
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& /*info*/,
                             rocksdb::IODebugContext* dbg) override {
      return Append(data, options, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (!fs_->active || fs_->fail_syncs) return rocksdb::IOStatus::IOError("injected: sync failed");
      rocksdb::IOStatus s = target()->Sync(options, dbg);
      if (s.ok()) fs_->Synced(path_);
      return s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (!fs_->active || fs_->fail_syncs) return rocksdb::IOStatus::IOError("injected: sync failed");
      rocksdb::IOStatus s = target()->Fsync(options, dbg);
      if (s.ok()) fs_->Synced(path_);
      return s;
    }
    rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                                rocksdb::IODebugContext*) override {
      // Partial syncs are advisory; durability comes from Sync.
      return rocksdb::IOStatus::OK();
    }

   private:
    FaultInjectionFs* fs_;
    std::string path_;
  };

  class Reader : public rocksdb::FSRandomAccessFileOwnerWrapper {
   public:
    Reader(std::unique_ptr<rocksdb::FSRandomAccessFile>&& file, FaultInjectionFs* fs)
        : FSRandomAccessFileOwnerWrapper(std::move(file)), fs_(fs) {}
    rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions& options,
                           rocksdb::Slice* result, char* scratch,
                           rocksdb::IODebugContext* dbg) const override {
      if (fs_->fail_reads) return rocksdb::IOStatus::IOError("injected: read failed");
      return target()->Read(offset, n, options, result, scratch, dbg);
    }

   private:
    FaultInjectionFs* fs_;
  };

  void Grow(const std::string& path, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path].bytes += bytes;
  }
  void Synced(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path].synced_bytes = files_[path].bytes;
  }

  std::mutex mu_;
  std::map<std::string, FileState> files_;
};

}  // namespace ledger::testing
