# Queue benchmark: no-op jobs per second through our Redis queue (enqueue,
# lease, ack) against redis-benchmark's LPUSH + RPOP on the same redis-server
# (started here with deploy/redis.conf), same client count, same run; prints
# the ratio (target >= 0.5) for each client count. Also the embedded SQLite
# queue, for reference.
#
#   queue_bench                  50,000 jobs, 1/2/4/8 clients, 3 interleaved rounds each
#   queue_bench --quick          5,000 jobs, 2 clients, 1 round (smoke run)
#   queue_bench --jobs=N --clients=C,C --rounds=R --check
add_executable(queue_bench ${CMAKE_CURRENT_SOURCE_DIR}/queue_bench.cc)
target_link_libraries(queue_bench PRIVATE sopilot_queue sopilot_testing)
sopilot_gcc12_restrict_false_positive(${CMAKE_CURRENT_SOURCE_DIR}/queue_bench.cc)

if(SOPILOT_BUILD_TESTS)
  add_test(NAME queue_bench_smoke COMMAND queue_bench --quick)
  set_tests_properties(queue_bench_smoke PROPERTIES LABELS bench TIMEOUT 300)
endif()
