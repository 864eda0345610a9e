#include "strata/segment/csv_sources.h"

#include <gtest/gtest.h>

#include <sstream>

namespace strata::segment {
namespace {

TEST(CsvTest, SplitsQuotedFields) {
  auto f = SplitCsvLine(R"("a,b",2,"say ""hi""",,x)");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->size(), 5u);
  EXPECT_EQ((*f)[0], "a,b");
  EXPECT_EQ((*f)[2], "say \"hi\"");
  EXPECT_EQ((*f)[3], "");
  EXPECT_EQ(SplitCsvLine("\"open,1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitCsvLine("\"a\"b,1").status().code(), StatusCode::kInvalidArgument);
}

TEST(CsvTest, ReadsOnlineRetailRows) {
  std::istringstream in(
      "\"InvoiceNo\",\"StockCode\",\"Description\",\"Quantity\",\"InvoiceDate\",\"UnitPrice\","
      "\"CustomerID\",\"Country\"\n"
      "\"557055\",\"23203\",\"JUMBO BAG, DOILEY\",20,\"2011-06-16 14:45:00\",2.08,12621,"
      "\"Germany\"\n"
      "\"546306\",\"21733\",\"HEART\",2,\"2011-03-10 16:16:00\",2.95,NA,\"United Kingdom\"\n"
      "\"C560000\",\"22336\",\"damaged\",-3,\"2011-07-01 10:00:00\",1.5,12621,\"Germany\"\n"
      "\"560001\",\"22336\",\"x\",abc,\"2011-07-01 10:00:00\",1.5,12622,\"Germany\"\n"
      "\"560002\",\"22336\",\"x\",1,\"yesterday\",1.5,12622,\"Germany\"\n"
      "\"560003\",\"22336\",\"x\",1,\"2011-07-01 10:00:00\",1.5,,\"Germany\"\n"
      "\"560004\",\"22336\",\"x\",1,\"2011-07-01 10:00:00\"\n");
  auto r = ReadOnlineRetail(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.rows, 7);
  EXPECT_EQ(r->stats.accepted, 2);
  EXPECT_EQ(r->stats.skipped_no_customer, 2);
  ASSERT_EQ(r->stats.errors.size(), 3u);
  EXPECT_EQ(r->stats.errors[0].line, 5);
  EXPECT_NE(r->stats.errors[0].reason.find("Quantity"), std::string::npos);
  EXPECT_EQ(r->stats.errors[1].line, 6);
  EXPECT_NE(r->stats.errors[1].reason.find("InvoiceDate"), std::string::npos);
  EXPECT_EQ(r->stats.errors[2].line, 8);
  const Event& buy = r->events[0];
  EXPECT_EQ(buy.customer_id, "12621");
  EXPECT_EQ(buy.type, EventType::kPurchase);
  EXPECT_DOUBLE_EQ(buy.amount, 41.6);
  EXPECT_EQ(buy.quantity, 20);
  EXPECT_EQ(buy.node, "Germany");
  EXPECT_EQ(FormatRfc3339(buy.timestamp), "2011-06-16T14:45:00.000Z");
  const Event& ret = r->events[1];
  EXPECT_EQ(ret.type, EventType::kReturn);
  EXPECT_EQ(ret.quantity, 3);
  EXPECT_DOUBLE_EQ(ret.amount, 4.5);
}

TEST(CsvTest, RejectsWrongHeader) {
  std::istringstream in("a,b,c\n1,2,3\n");
  auto r = ReadOnlineRetail(in);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("header"), std::string::npos);
  EXPECT_EQ(ReadOnlineRetailFile("/nonexistent/x.csv").status().code(), StatusCode::kNotFound);
}

TEST(CsvTest, ReadsCdnowRows) {
  std::istringstream in(
      " 00001 20210101  1   11.77\r\n"
      " 00002 20210112  5   77.00\r\n"
      "\r\n"
      " 00003 2021011x  1   1.00\r\n"
      " 00004 20211301  1   1.00\r\n"
      " 00005 20210101  1\r\n"
      " 00006 20210101  1   -2.00\r\n");
  auto r = ReadCdnow(in);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.rows, 6);
  EXPECT_EQ(r->stats.accepted, 2);
  ASSERT_EQ(r->stats.errors.size(), 4u);
  EXPECT_EQ(r->stats.errors[0].line, 4);
  EXPECT_EQ(r->stats.errors[1].line, 5);
  EXPECT_EQ(r->stats.errors[2].line, 6);
  EXPECT_EQ(r->stats.errors[3].line, 7);
  EXPECT_NE(r->stats.errors[3].reason.find("amount: negative"), std::string::npos);
  EXPECT_EQ(r->events[0].customer_id, "1");
  EXPECT_EQ(FormatRfc3339(r->events[0].timestamp), "2021-01-01T12:00:00.000Z");
  EXPECT_EQ(r->events[1].quantity, 5);
  EXPECT_DOUBLE_EQ(r->events[1].amount, 77.0);
}

TEST(CsvTest, SortByTimeIsStable) {
  std::vector<Event> ev(3);
  ev[0].timestamp = FromUnixSeconds(20);
  ev[0].customer_id = "a";
  ev[1].timestamp = FromUnixSeconds(10);
  ev[1].customer_id = "b";
  ev[2].timestamp = FromUnixSeconds(20);
  ev[2].customer_id = "c";
  SortEventsByTime(ev);
  EXPECT_EQ(ev[0].customer_id, "b");
  EXPECT_EQ(ev[1].customer_id, "a");
  EXPECT_EQ(ev[2].customer_id, "c");
}

}  // namespace
}  // namespace strata::segment
