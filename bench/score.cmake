# score_bench: the local comparison space beside the direct nth_element
# centring it replaced and the whole-video centring (ratios printed).
add_executable(score_bench ${CMAKE_CURRENT_SOURCE_DIR}/score_bench.cc)
target_link_libraries(score_bench PRIVATE sopilot_score benchmark::benchmark)

# Smoke run for ctest (ctest -L bench): one iteration, the shorter windows.
if(SOPILOT_BUILD_TESTS)
  add_test(NAME score_bench_smoke COMMAND score_bench --benchmark_filter=/60 --benchmark_min_time=0.01)
  set_tests_properties(score_bench_smoke PROPERTIES LABELS bench TIMEOUT 300)
endif()
