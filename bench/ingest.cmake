# Ingest benchmark: our whole ingest (decode + sample + embed) against the
# `ffmpeg -threads 0 -i FILE -f null -` decode of the same 1280x720 H.264
# video in the same run; prints the ratio (target <= 1.25) and the embedding
# cost per clip. Needs the ffmpeg CLI on PATH.
#
#   ingest_bench                 60 s video, 3 repetitions of each benchmark
#   ingest_bench --quick         10 s video, 1 repetition (smoke run)
#   ingest_bench --seconds=N --video=FILE --check   (see --help)
add_executable(ingest_bench ${CMAKE_CURRENT_SOURCE_DIR}/ingest_bench.cc)
target_link_libraries(ingest_bench PRIVATE
  sopilot_ingest sopilot_embed sopilot_video sopilot_testing benchmark::benchmark)

# A smoke run for ctest (ctest -L bench): checks the benchmark still works, not
# the ratio, which only means something on a quiet machine.
if(SOPILOT_BUILD_TESTS)
  add_test(NAME ingest_bench_smoke COMMAND ingest_bench --quick)
  set_tests_properties(ingest_bench_smoke PROPERTIES LABELS bench TIMEOUT 300)
endif()
