# adapter_effect: scores with and without the per-task feature adapter on the
# fixtures and on generated procedures, and prints the margins between
# correct and defect videos for several std floors (the measurement behind
# SOPILOT_ENABLE_FEATURE_ADAPTER's default). Needs ffmpeg on PATH.
add_executable(adapter_effect ${CMAKE_CURRENT_SOURCE_DIR}/adapter_effect.cc)
target_link_libraries(adapter_effect PRIVATE
  sopilot_train sopilot_score sopilot_ingest sopilot_testing nlohmann_json::nlohmann_json)

# Smoke run for ctest (ctest -L bench): the fixtures only (skipped, exit 0,
# on a clone without ../shared); the full run adds generated procedures.
if(SOPILOT_BUILD_TESTS)
  add_test(NAME adapter_effect_smoke COMMAND adapter_effect --no-generated --floors=0.001)
  set_tests_properties(adapter_effect_smoke PROPERTIES LABELS bench TIMEOUT 300)
endif()
