# Kernel emulation (tests/emulation/cuda_emulation.h, README "Kernel logic without a GPU"): the
# device code of kernels/cuda, launches rewritten by cmake/emulate_cu.cmake into build/emulated/,
# compiled by the host compiler against the emulated runtime (tests/emulation/include first on the
# include path, before any real CUDA header). Sets `out` to the sources a target compiles.
function(clb_emulated_kernel_sources out)
  file(GLOB device_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cuh)
  set(dir ${PROJECT_BINARY_DIR}/emulated/kernels/cuda)
  set(generated)
  foreach(f ${device_files})
    get_filename_component(name ${f} NAME)
    if(name MATCHES "\\.cuh$")
      set(o ${dir}/${name})  # found before the source tree's by "kernels/cuda/<name>" includes
    else()
      set(o ${dir}/${name}.cpp)
    endif()
    add_custom_command(OUTPUT ${o}
      COMMAND ${CMAKE_COMMAND} -DIN=${f} -DOUT=${o} -P ${PROJECT_SOURCE_DIR}/cmake/emulate_cu.cmake
      DEPENDS ${f} ${PROJECT_SOURCE_DIR}/cmake/emulate_cu.cmake VERBATIM)
    list(APPEND generated ${o})
  endforeach()
  set(${out} ${generated} ${PROJECT_SOURCE_DIR}/kernels/cuda/cuda_error.cpp
      ${PROJECT_SOURCE_DIR}/tests/emulation/cuda_emulation.cpp PARENT_SCOPE)
endfunction()

# The include directories and definitions of anything compiled against the emulation (PUBLIC:
# also for what links the target). nvcc's pragmas are unknown to the host compiler, and
# threadIdx is unsigned as on the card, where nvcc does not warn on comparing it with an int.
function(clb_use_cuda_emulation target scope)
  target_include_directories(${target} BEFORE ${scope} ${PROJECT_BINARY_DIR}/emulated
                             ${PROJECT_SOURCE_DIR}/tests/emulation/include)
  target_compile_definitions(${target} ${scope} CLB_HAVE_CUDA=1 CLB_CUDA_EMULATION=1)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-unknown-pragmas -Wno-sign-compare>)
endfunction()
