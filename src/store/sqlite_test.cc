#include "strata/store/sqlite.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace strata::store {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("strata_store_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(SqliteTest, WalFullSyncAndRoundTrip) {
  std::string path = TempPath("a.db");
  std::filesystem::remove(path);
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  auto mode = (*db)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->ColumnText(0), "wal");
  auto sync = (*db)->Prepare("PRAGMA synchronous");
  ASSERT_TRUE(*sync->Step());
  EXPECT_EQ(sync->ColumnInt(0), 2);  // FULL

  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(id TEXT PRIMARY KEY, n INTEGER, x REAL, b BLOB)").ok());
  auto ins = (*db)->Prepare("INSERT INTO t VALUES(?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  const uint8_t blob[] = {0, 1, 2, 255};
  ins->Bind(1, "k1").Bind(2, 42).Bind(3, 2.5).BindBlob(4, blob, sizeof blob);
  ASSERT_TRUE(ins->Run().ok());
  ins->Bind(1, "k1").Bind(2, 1).Bind(3, 0.0).BindNull(4);
  Status dup = ins->Run();
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup;

  auto sel = (*db)->Prepare("SELECT id, n, x, b FROM t");
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnText(0), "k1");
  EXPECT_EQ(sel->ColumnInt(1), 42);
  EXPECT_DOUBLE_EQ(sel->ColumnDouble(2), 2.5);
  EXPECT_EQ(sel->ColumnBlob(3), std::vector<uint8_t>(blob, blob + 4));
  EXPECT_FALSE(*sel->Step());
  EXPECT_TRUE((*db)->IntegrityCheck().ok());
}

TEST(SqliteTest, TransactionRollsBackOnError) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(v INTEGER)").ok());
  Status s = (*db)->Transaction([&]() -> Status {
    STRATA_RETURN_IF_ERROR((*db)->Exec("INSERT INTO t VALUES(1)"));
    return InvalidArgumentError("abort");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  auto count = (*db)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt(0), 0);
  ASSERT_TRUE((*db)->Transaction([&] { return (*db)->Exec("INSERT INTO t VALUES(2)"); }).ok());
  count->Reset();
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt(0), 1);
}

TEST(SqliteTest, ErrorsAreStatuses) {
  auto db = Database::Open(":memory:");
  auto bad = (*db)->Prepare("SELEC nonsense");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("SELEC nonsense"), std::string::npos);
  EXPECT_EQ(Database::Open(TempPath("missing.db"), {.create = false}).status().code(),
            StatusCode::kNotFound);
}

TEST(SqliteTest, GarbageFileIsDataLoss) {
  std::string path = TempPath("garbage.db");
  std::ofstream(path) << std::string(4096, 'x');
  auto db = Database::Open(path);
  EXPECT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss) << db.status();
}

}  // namespace
}  // namespace strata::store
