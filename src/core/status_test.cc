#include "strata/core/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace strata {
namespace {

TEST(StatusTest, DefaultIsOkAndHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(Status(StatusCode::kOk, "ignored").message(), "");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = NotFoundError("customer 'c42' is unknown");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: customer 'c42' is unknown");
  EXPECT_EQ(s.WithContext("GET /x").message(), "GET /x: customer 'c42' is unknown");
  EXPECT_TRUE(Status().WithContext("ctx").ok());
}

TEST(StatusTest, HttpMappingCoversEveryCode) {
  EXPECT_EQ(ToHttpStatus(Status()), 200);
  EXPECT_EQ(ToHttpStatus(InvalidArgumentError("x")), 400);
  EXPECT_EQ(ToHttpStatus(UnauthenticatedError("x")), 401);
  EXPECT_EQ(ToHttpStatus(PermissionDeniedError("x")), 403);
  EXPECT_EQ(ToHttpStatus(NotFoundError("x")), 404);
  EXPECT_EQ(ToHttpStatus(AlreadyExistsError("x")), 409);
  EXPECT_EQ(ToHttpStatus(FailedPreconditionError("x")), 422);
  EXPECT_EQ(ToHttpStatus(ResourceExhaustedError("x")), 429);
  EXPECT_EQ(ToHttpStatus(InternalError("x")), 500);
  EXPECT_EQ(ToHttpStatus(DataLossError("x")), 500);
  EXPECT_EQ(ToHttpStatus(UnavailableError("x")), 503);
  EXPECT_EQ(ToHttpStatus(DeadlineExceededError("x")), 504);
}

TEST(StatusTest, ExitCodes) {
  EXPECT_EQ(ToExitCode(Status()), 0);
  EXPECT_EQ(ToExitCode(InvalidArgumentError("bad flag")), 2);
  EXPECT_EQ(ToExitCode(UnavailableError("down")), 1);
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgumentError(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  STRATA_ASSIGN_OR_RETURN(int h, Half(x));
  STRATA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  STRATA_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  EXPECT_TRUE(ok.status().ok());
  Result<int> bad = Half(3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(ResultTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "3 is odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = NotFoundError("gone");
  EXPECT_DEATH((void)r.value(), "NotFound: gone");
}

}  // namespace
}  // namespace strata
