# Installs jitfuse into a scratch prefix and builds examples/cpp against it with
# find_package(jitfuse), as a user's project would. Run by CTest (test "install").
foreach(step
    "${CMAKE_COMMAND};--install;${BUILD_DIR};--prefix;${WORK_DIR}/prefix"
    "${CMAKE_COMMAND};-S;${SOURCE_DIR}/examples/cpp;-B;${WORK_DIR}/build;-G;Ninja;-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix;-DCUDAToolkit_ROOT=${CUDA_ROOT}"
    "${CMAKE_COMMAND};--build;${WORK_DIR}/build")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${step}\n${out}\n${err}")
  endif()
endforeach()
if(NOT EXISTS ${WORK_DIR}/build/linear_gelu)
  message(FATAL_ERROR "the example was not built")
endif()
message(STATUS "examples/cpp built against the installed jitfuse")
