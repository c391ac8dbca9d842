// FeatureAdapter: a per-dimension z-score of clip embeddings, fitted on one
// task's gold videos and applied to every video of that task.
//
//   fit:    mean_d = Σx_d / N,  std_d = max(sqrt(Σ(x_d − mean_d)² / N), floor)
//           over the N clip rows of the gold videos' raw embeddings (the
//           population standard deviation, as the Python original's
//           var = Σx²/N − mean²; ours accumulates around the first row so
//           that the subtraction loses nothing).
//   apply:  x'_d = (x_d − mean_d) / std_d, then each row scaled to unit L2
//           norm (rows of norm ≤ 1e-12 stay zero), float32.
//
// The floor keeps dimensions that never vary in the gold from blowing up a
// trainee's slightest difference there; it is absolute (heuristic-v1 rows
// are unit vectors of 904 dimensions, components around 0.03).
//
// Differences from the original (original-core.md §15): statistics come from
// the task's gold videos only, all of them (not "videos added since the last
// run, all tasks and roles mixed"), and an adapted set's model name carries
// the adapter's fingerprint ("heuristic-v1+adapter:1a2b3c4d5e6f7a8b"), so
// that the scorer refuses a pair adapted by two different adapters (it
// compares model names).
//
// Adapter file (little-endian), written atomically (temporary file, fsync,
// rename) and validated field by field on read, like embedding files:
//   8 bytes  magic "SOPADAPT"
//   u32      format version (kAdapterFormatVersion)
//   u32      header length H
//   H bytes  JSON header: kind "zscore", model, dim, std_floor, clips, videos,
//            task_id, version, source_video_ids, fitted_at
//   dim x f32  mean
//   dim x f32  std (already floored)
//   u32      CRC-32 of every byte before it
//
// The core of training: no files other than through Env, no SQL, no HTTP.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/matrix.h"
#include "base/status.h"
#include "embed/embedding_set.h"

namespace sopilot {

constexpr uint32_t kAdapterFormatVersion = 1;
// The default floor on a dimension's standard deviation (see the measurement
// in doc/architecture.md, "Training").
constexpr double kDefaultAdapterStdFloor = 0.001;

struct FeatureAdapter {
  std::string model;      // the raw embeddings' model (Embedder::name())
  double std_floor = kDefaultAdapterStdFloor;
  int64_t clips = 0;      // rows the statistics came from
  int videos = 0;         // embedding sets the statistics came from
  std::vector<float> mean;
  std::vector<float> std;  // floored
  // Provenance, written to the file's header.
  std::string task_id;
  int64_t version = 0;
  std::vector<int64_t> source_video_ids;
  std::string fitted_at;

  int dim() const { return static_cast<int>(mean.size()); }
  // 16 hex characters of SHA-256 over the model, mean and std: equal
  // fingerprints mean the same transformation.
  std::string Fingerprint() const;
  // The model name of embeddings this adapter produced.
  std::string AdaptedModel() const { return model + "+adapter:" + Fingerprint(); }
};

// Accumulates clip rows of raw embedding sets and fits the adapter.
class AdapterFitter {
 public:
  // `std_floor` must be > 0 and finite.
  explicit AdapterFitter(double std_floor);

  // Adds every row of `set`. The first set fixes the model and dimension;
  // a later set of another model or dimension is InvalidArgument (and adds
  // nothing).
  Status Add(const EmbeddingSet& set);
  int64_t clips() const { return n_; }
  // InvalidArgument with fewer than 2 rows ("insufficient embeddings").
  Result<FeatureAdapter> Finish() const;

 private:
  double floor_;
  std::string model_;
  int videos_ = 0;
  int64_t n_ = 0;
  std::vector<double> shift_, sum_, sum_sq_;  // around the first row
};

// (x − mean) / std per dimension, rows re-normalised. `raw.cols` must equal
// the adapter's dimension (InvalidArgument otherwise).
Result<FloatMatrix> ApplyFeatureAdapter(const FeatureAdapter& adapter, const FloatMatrix& raw);

// The adapted copy of a raw set: same clips, sampling and source; vectors
// adapted; model AdaptedModel(). InvalidArgument when `raw` is of another
// model or dimension than the adapter.
Result<EmbeddingSet> AdaptEmbeddingSet(const FeatureAdapter& adapter, const EmbeddingSet& raw);

Result<std::string> EncodeFeatureAdapter(const FeatureAdapter& adapter);
// Corruption naming the problem for anything but a valid adapter file.
Result<FeatureAdapter> DecodeFeatureAdapter(std::string_view bytes);
Status WriteFeatureAdapterFile(Env* env, const std::string& path, const FeatureAdapter& adapter);
Result<FeatureAdapter> ReadFeatureAdapterFile(Env* env, const std::string& path);

}  // namespace sopilot
