# strata_test(<name> SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s])
# A GoogleTest binary whose tests are discovered when ctest runs (so `ctest -j` spreads them).
function(strata_test name)
  if(NOT STRATA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    STRATA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    STRATA_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(labels unit)
  if(T_LABELS)
    set(labels ${T_LABELS})
  endif()
  # Library unit tests (src/, not vision) are labelled `unit-lib`: `ctest -L unit` still selects
  # them (-L is a regex) and `ctest -L lib` is the sanitizer suite (`make sanitize`). One label,
  # because gtest_discover_tests (CMake 3.25) splits a list-valued LABELS property.
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  if(rel MATCHES "^src/" AND NOT rel MATCHES "^src/vision" AND labels STREQUAL "unit")
    set(labels unit-lib)
    set_property(GLOBAL APPEND PROPERTY STRATA_LIB_TESTS ${name})
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${labels}" TIMEOUT ${T_TIMEOUT})
endfunction()

# strata_embed_file(<target> <file> <symbol>)
# Compiles <file> into <target> as `extern const std::string_view <symbol>;` (namespace strata::embedded).
function(strata_embed_file target file symbol)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${symbol}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
    COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE ${out})
endfunction()
