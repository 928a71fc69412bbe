#pragma once
// The CPU backend: the reference twins of kernels/cpu on host memory, with a tape that records op
// sequences (framework/backend/backend.h, Recording). The registry (registry.cpp) hands it out.
#include <memory>

#include "framework/backend/backend.h"

namespace clb {

std::unique_ptr<Backend> make_cpu_backend();

}  // namespace clb
