// Database: a small SQLite wrapper with Strata's durability rules built in.
//
// Open() sets WAL mode, synchronous=FULL (a commit that triggers an ack must survive kill -9),
// busy_timeout, foreign keys and a journal size limit. Statements are prepared, bound and stepped
// through Statement; every failure is a Status naming the SQL and SQLite's message.
// Thread-safety: a Database must be used by one thread at a time (one writer thread per database,
// as docs/architecture.md requires); guard it with a mutex if you share it.
//
//   STRATA_ASSIGN_OR_RETURN(auto db, Database::Open("var/gallery.db"));
//   STRATA_RETURN_IF_ERROR(db->Exec("CREATE TABLE IF NOT EXISTS t(id TEXT PRIMARY KEY, v BLOB)"));
//   STRATA_ASSIGN_OR_RETURN(auto st, db->Prepare("INSERT INTO t VALUES(?, ?)"));
//   st.Bind(1, "a"); st.Bind(2, blob);
//   STRATA_RETURN_IF_ERROR(st.Run());
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace strata::store {

struct DatabaseOptions {
  bool create = true;            // create the file (and its directory) when missing
  bool full_sync = true;         // synchronous=FULL; false gives NORMAL (faster, not crash-durable)
  int busy_timeout_ms = 5000;
  int64_t journal_size_limit = 64 << 20;
  bool read_only = false;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& BindBlob(int index, const void* data, size_t size);
  Statement& BindNull(int index);

  // Advances: true when a row is available, false when done; errors are Internal/DataLoss.
  Result<bool> Step();
  // Steps until done (for INSERT/UPDATE/DELETE) and resets for reuse.
  Status Run();
  void Reset();

  int64_t ColumnInt(int col) const;  // columns are 0-based
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;
  std::vector<uint8_t> ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, std::string sql);
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  Status bind_error_;
};

class Database {
 public:
  // NotFound when the file is missing and create=false; DataLoss when it is not a database.
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more SQL statements with no results.
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // Runs fn inside BEGIN IMMEDIATE ... COMMIT (one fsync for the whole batch); rolls back when fn
  // returns an error, and returns that error.
  template <typename Fn>
  Status Transaction(Fn&& fn) {
    STRATA_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = fn();
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Exec("COMMIT");
  }
  // "ok" when PRAGMA integrity_check passes, otherwise DataLoss with SQLite's report.
  Status IntegrityCheck();
  Status Checkpoint();  // PRAGMA wal_checkpoint(TRUNCATE)
  int64_t LastInsertRowId() const;
  int Changes() const;
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Error(std::string_view what) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace strata::store
