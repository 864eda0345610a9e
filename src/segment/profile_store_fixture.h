// Fixture for ProfileStore tests: a fresh directory per test (named after the suite and the test,
// removed afterwards) and a store config whose database lives in it.
// Thread-safety: one test thread.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "strata/segment/profile_store.h"

namespace strata::segment::testing {

class ProfileStoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("strata_seg_" + std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ProfileStore::Config Config() const {
    return {.path = (dir_ / "profiles.db").string(), .profiles = {.half_life_days = 7}};
  }
  std::filesystem::path dir_;
};

}  // namespace strata::segment::testing
