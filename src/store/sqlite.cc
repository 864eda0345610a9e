#include "strata/store/sqlite.h"

#include <sqlite3.h>

#include <filesystem>

namespace strata::store {

Statement::Statement(sqlite3_stmt* stmt, std::string sql) : stmt_(stmt), sql_(std::move(sql)) {}

Statement::Statement(Statement&& o) noexcept
    : stmt_(std::exchange(o.stmt_, nullptr)), sql_(std::move(o.sql_)), bind_error_(o.bind_error_) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(o.stmt_, nullptr);
    sql_ = std::move(o.sql_);
    bind_error_ = o.bind_error_;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

namespace {
Status BindResult(int rc, sqlite3_stmt* stmt, const std::string& sql, int index) {
  if (rc == SQLITE_OK) return Status::Ok();
  return InternalError("sqlite bind #" + std::to_string(index) + " in '" + sql +
                       "': " + sqlite3_errmsg(sqlite3_db_handle(stmt)));
}
}  // namespace

#define STRATA_BIND(call)                                                   \
  do {                                                                      \
    int rc_ = (call);                                                       \
    if (bind_error_.ok()) bind_error_ = BindResult(rc_, stmt_, sql_, index); \
  } while (0)

Statement& Statement::Bind(int index, int64_t v) {
  STRATA_BIND(sqlite3_bind_int64(stmt_, index, v));
  return *this;
}
Statement& Statement::Bind(int index, double v) {
  STRATA_BIND(sqlite3_bind_double(stmt_, index, v));
  return *this;
}
Statement& Statement::Bind(int index, std::string_view t) {
  STRATA_BIND(sqlite3_bind_text(stmt_, index, t.data(), static_cast<int>(t.size()),
                                SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::BindBlob(int index, const void* data, size_t size) {
  STRATA_BIND(sqlite3_bind_blob(stmt_, index, data, static_cast<int>(size), SQLITE_TRANSIENT));
  return *this;
}
Statement& Statement::BindNull(int index) {
  STRATA_BIND(sqlite3_bind_null(stmt_, index));
  return *this;
}
#undef STRATA_BIND

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = "sqlite step '" + sql_ + "': " + sqlite3_errmsg(sqlite3_db_handle(stmt_));
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(msg);
  if (rc == SQLITE_CONSTRAINT) return AlreadyExistsError(msg);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(msg);
  if (rc == SQLITE_FULL) return ResourceExhaustedError(msg);
  return InternalError(msg);
}

Status Statement::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) {
      Reset();
      return r.status();
    }
    if (!*r) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

int64_t Statement::ColumnInt(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::ColumnDouble(int c) const { return sqlite3_column_double(stmt_, c); }
std::string Statement::ColumnText(int c) const {
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, c)) : "";
}
std::vector<uint8_t> Statement::ColumnBlob(int c) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, c));
  return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(stmt_, c)) : std::vector<uint8_t>{};
}
bool Statement::ColumnIsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const DatabaseOptions& o) {
  namespace fs = std::filesystem;
  if (!o.create && path != ":memory:" && !fs::exists(path))
    return NotFoundError("database file '" + path + "' does not exist");
  if (o.create && path != ":memory:") {
    std::error_code ec;
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) return InternalError("cannot create directory for '" + path + "': " + ec.message());
  }
  int flags = o.read_only ? SQLITE_OPEN_READONLY
                          : (SQLITE_OPEN_READWRITE | (o.create ? SQLITE_OPEN_CREATE : 0));
  flags |= SQLITE_OPEN_NOMUTEX;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    if (db) sqlite3_close(db);
    return UnavailableError("cannot open database '" + path + "': " + msg);
  }
  std::unique_ptr<Database> d(new Database(db, path));
  sqlite3_busy_timeout(db, o.busy_timeout_ms);
  std::string pragmas = "PRAGMA foreign_keys=ON;";
  if (!o.read_only) {
    pragmas += "PRAGMA journal_mode=WAL;";
    pragmas += o.full_sync ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
    pragmas += "PRAGMA journal_size_limit=" + std::to_string(o.journal_size_limit) + ";";
  }
  Status s = d->Exec(pragmas);
  if (!s.ok()) {
    if (s.message().find("not a database") != std::string::npos ||
        s.message().find("malformed") != std::string::npos)
      return DataLossError("'" + path + "' is not a valid SQLite database");
    return s;
  }
  return d;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Status Database::Error(std::string_view what) const {
  int rc = sqlite3_errcode(db_);
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(msg);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(msg);
  if (rc == SQLITE_CONSTRAINT) return AlreadyExistsError(msg);
  return InternalError(msg);
}

Status Database::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    std::string full = "sqlite exec '" + s.substr(0, 80) + "': " + msg;
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(full);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(full);
    if (rc == SQLITE_CONSTRAINT) return AlreadyExistsError(full);
    return InternalError(full);
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error("sqlite prepare '" + std::string(sql) + "'");
  return Statement(stmt, std::string(sql));
}

Status Database::IntegrityCheck() {
  STRATA_ASSIGN_OR_RETURN(Statement st, Prepare("PRAGMA integrity_check"));
  std::string report;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    report += (report.empty() ? "" : "; ") + st.ColumnText(0);
  }
  if (report == "ok") return Status::Ok();
  return DataLossError("integrity_check of '" + path_ + "': " + report);
}

Status Database::Checkpoint() { return Exec("PRAGMA wal_checkpoint(TRUNCATE)"); }
int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }

}  // namespace strata::store
