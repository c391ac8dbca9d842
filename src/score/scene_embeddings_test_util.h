// Test helper: an embedding set of a procedure made of scenes, each scene a
// fixed random unit direction, with noise; 2 s clips every 0.5 s, clips
// straddling a change mixing the scenes by overlap. Lets a test state a
// procedure ("scenes 0, 2, 3 for 6 s each") without decoding a video.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "embed/embedding_set.h"

namespace sopilot::testing {

inline EmbeddingSet SceneEmbeddings(const std::vector<int>& scenes, const std::vector<double>& seconds, int seed = 1,
                                    const std::string& model = "heuristic-v1") {
  std::mt19937 scene_rng(42);
  std::normal_distribution<float> g(0, 1);
  const int dim = 32;
  std::vector<std::vector<float>> basis(12, std::vector<float>(dim));
  for (auto& b : basis) for (float& x : b) x = g(scene_rng);
  std::mt19937 noise_rng(seed);
  EmbeddingSet s;
  s.model = model;
  s.sampling = {4, 2.0, 0.5, 320, 0.6};
  double total = 0;
  for (double x : seconds) total += x;
  s.source.duration_sec = total;
  for (double t = 0; t + 2.0 <= total + 1e-9; t += 0.5) s.clips.push_back({int(s.clips.size()), t, t + 2.0});
  s.vectors = FloatMatrix(s.clips.size(), dim);
  for (size_t i = 0; i < s.clips.size(); ++i) {
    double start = 0;
    for (size_t k = 0; k < scenes.size(); ++k) {
      double a = std::max(start, s.clips[i].start_sec), b = std::min(start + seconds[k], s.clips[i].end_sec);
      if (b > a) for (int j = 0; j < dim; ++j) s.vectors.at(i, j) += (b - a) * basis[scenes[k]][j];
      start += seconds[k];
    }
    for (int j = 0; j < dim; ++j) s.vectors.at(i, j) += 0.2f * g(noise_rng);
  }
  NormalizeRows(&s.vectors);
  return s;
}

}  // namespace sopilot::testing
