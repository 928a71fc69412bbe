# Kernel emulation (tests/emulation/cuda_emulation.h): copies one .cu/.cuh with its launches
# rewritten from CUDA's `kernel<<<grid, block, smem, stream>>>(args)` to C++,
#   ::clb_emu::launch(::clb_emu::Config(grid, block, smem, stream), [](auto... a) { kernel(a...); })(args)
# and nothing else changed, so the host compiler builds the unchanged device code.
#   cmake -DIN=kernels/cuda/x.cu -DOUT=build/emulated/kernels/cuda/x.cu.cpp -P cmake/emulate_cu.cmake
file(READ "${IN}" text)
string(REGEX REPLACE
  "([A-Za-z_][A-Za-z0-9_]*(<[^<>;]*>)?)<<<([^;]*)>>>"
  "::clb_emu::launch(::clb_emu::Config(\\3), [](auto... clb_emu_arg) { \\1(clb_emu_arg...); })"
  text "${text}")
if(text MATCHES "<<<|>>>")
  message(FATAL_ERROR "emulate_cu: a launch in ${IN} was not rewritten (one launch per statement, config without ';')")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/emulate_cu.cmake: launches rewritten for the kernel emulation.\n#line 1 \"${IN}\"\n${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
