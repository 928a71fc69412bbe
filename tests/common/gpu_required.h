#pragma once
// GPU tests skip themselves where no CUDA device is usable, except under CLB_REQUIRE_GPU=1 (the
// device check, scripts/device_check.sh): there "no usable GPU" fails the test, so a check whose
// GPU the runtime cannot see fails instead of passing with every GPU test skipped.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "framework/backend/cuda_backend.h"

namespace clb::test {

inline bool gpu_required() {
  const char* v = std::getenv("CLB_REQUIRE_GPU");
  return v != nullptr && std::string(v) != "" && std::string(v) != "0";
}

}  // namespace clb::test

// In a test or its SetUp: skip (or, under CLB_REQUIRE_GPU, fail) when no CUDA device is usable.
#define CLB_SKIP_WITHOUT_GPU()                                                                                   \
  do {                                                                                                           \
    std::string clb_why_;                                                                                        \
    if (::clb::cuda::usable_devices(&clb_why_) == 0) {                                                           \
      if (::clb::test::gpu_required()) GTEST_FAIL() << "CLB_REQUIRE_GPU is set and no CUDA device is usable: " << clb_why_; \
      GTEST_SKIP() << "no usable CUDA device: " << clb_why_;                                                    \
    }                                                                                                            \
  } while (0)
