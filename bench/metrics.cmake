# metrics_bench: rendering /metrics with 10,000 series (target < 10 ms) and
# the cost of one counter increment / histogram observation / child lookup.
# Prints a summary line with the median render time.
add_executable(metrics_bench ${CMAKE_CURRENT_SOURCE_DIR}/metrics_bench.cc)
target_link_libraries(metrics_bench PRIVATE sopilot_metrics benchmark::benchmark)
sopilot_gcc12_restrict_false_positive(${CMAKE_CURRENT_SOURCE_DIR}/metrics_bench.cc)

# Smoke run for ctest (ctest -L bench): the benchmark still builds 10,000
# series and renders them; the time itself is only read on a quiet machine.
if(SOPILOT_BUILD_TESTS)
  add_test(NAME metrics_bench_smoke COMMAND metrics_bench --benchmark_filter=Render --benchmark_min_time=0.01)
  set_tests_properties(metrics_bench_smoke PROPERTIES LABELS bench TIMEOUT 120)
endif()
