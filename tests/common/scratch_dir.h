#pragma once
// A fresh directory for one test, removed with everything in it when the test ends:
// <tmp>/clb_<tag>_<pid>_<test name>. The pid keeps parallel ctest processes apart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace clb::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() /
              ("clb_" + tag + "_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;  // destructors never throw
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace clb::test
