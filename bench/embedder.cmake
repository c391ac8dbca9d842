# Embedder benchmark: IngestVideo with each embedder MakeEmbedder can make,
# beside the bare decode (VideoDecoder, 4 fps, 320 px) of the same video in
# the same run; prints wall and CPU seconds, sampled frames per CPU-second
# (target >= 4 for the default embedder: a 10-minute video in 5 minutes on
# 2 cores) and the ratios to heuristic-v1 and to the bare decode. Learned
# embedders whose models are missing (SOPILOT_MODELS_DIR) are skipped.
#
#   embedder_bench                 60 s 320x180 video, 3 repetitions of each
#   embedder_bench --quick         10 s video, 1 repetition (smoke run)
#   embedder_bench --video=FILE --seconds=N --check   (see --help)
add_executable(embedder_bench ${CMAKE_CURRENT_SOURCE_DIR}/embedder_bench.cc)
target_link_libraries(embedder_bench PRIVATE
  sopilot_ingest sopilot_embed sopilot_video sopilot_testing benchmark::benchmark)

# A smoke run for ctest (ctest -L bench): checks the benchmark still works, not
# the rate, which only means something on a quiet machine.
if(SOPILOT_BUILD_TESTS)
  add_test(NAME embedder_bench_smoke COMMAND embedder_bench --quick)
  set_tests_properties(embedder_bench_smoke PROPERTIES LABELS bench TIMEOUT 300)
endif()
