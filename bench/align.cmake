# align_bench: DTW with path beside a bare sgemm of the same shape (ratio
# printed), and a 14,400² linear-memory run (filter "Linear" selects it,
# "-Linear" skips it).
add_executable(align_bench ${CMAKE_CURRENT_SOURCE_DIR}/align_bench.cc)
target_link_libraries(align_bench PRIVATE sopilot_align benchmark::benchmark PkgConfig::OPENBLAS)
