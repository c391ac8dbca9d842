# Store benchmark: the PostgreSQL metadata store's calls per second from 1-8
# threads of one process with the connection pool, against one connection for
# the process (the store before the pool), same server, same run; prints the
# ratio per thread count.
#
#   store_bench              2,000 calls, 1/2/4/8 threads, 5 interleaved rounds
#   store_bench --quick      200 calls, 4 threads, 1 round (smoke run)
add_executable(store_bench ${CMAKE_CURRENT_SOURCE_DIR}/store_bench.cc)
target_link_libraries(store_bench PRIVATE sopilot_store sopilot_testing)

if(SOPILOT_BUILD_TESTS)
  add_test(NAME store_bench_smoke COMMAND store_bench --quick)
  set_tests_properties(store_bench_smoke PROPERTIES LABELS bench TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
