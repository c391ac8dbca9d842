#include "video/video_decoder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>

#include <opencv2/imgproc.hpp>

#include "video/frame_sampler.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace sopilot {

Status ValidateDecodeOptions(const DecodeOptions& o) {
  if (!(o.target_fps > 0 && o.target_fps <= 120)) {
    return Status::InvalidArgument("--target-fps must be in (0, 120], got " +
                                   std::to_string(o.target_fps));
  }
  if (o.max_side < 16 || o.max_side > 8192) {
    return Status::InvalidArgument("--max-side must be in [16, 8192], got " +
                                   std::to_string(o.max_side));
  }
  if (o.threads < 0 || o.threads > 64) {
    return Status::InvalidArgument("decoder threads must be in [0, 64]");
  }
  if (!(o.max_duration_sec > 0)) return Status::InvalidArgument("the video length limit must be > 0 s");
  if (o.max_frame_pixels < 16 * 16) return Status::InvalidArgument("the frame size limit must be >= 256 pixels");
  if (!(o.max_frame_gap_sec >= 1.0 / o.target_fps)) {
    return Status::InvalidArgument("the timestamp gap limit must be at least one sample interval");
  }
  return Status::Ok();
}

namespace {

// Damaged packets are skipped, up to this many; beyond it the file is refused.
constexpr int64_t kMaxCorruptPackets = 1000;
// Packets read ahead of the decoder, and packets sent remembered: a frame's
// successor on screen is within either (H.264 and HEVC reorder at most 16
// frames; MPEG-4 part 2, one).
constexpr size_t kLookahead = 32;
// A frame is skipped only when no sample falls within this of the time it
// is on screen: more than the sampler's 2 ms tolerance for rounded
// timestamps, and a sixth of a frame at 30 fps.
constexpr double kSkipMarginSec = 0.005;

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

// FFmpeg's own log lines would break our one-line errors; we report failures
// ourselves. SOPILOT_FFMPEG_LOG=1 brings them back for debugging.
void QuietFfmpegOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* v = std::getenv("SOPILOT_FFMPEG_LOG");
    av_log_set_level(v && *v == '1' ? AV_LOG_WARNING : AV_LOG_QUIET);
  });
}

// Clockwise degrees (0, 90, 180, 270) that turn decoded frames upright.
int RotationFromDisplayMatrix(const AVStream* st) {
  const uint8_t* sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (sd == nullptr) return 0;
  double theta = -av_display_rotation_get(reinterpret_cast<const int32_t*>(sd));
  if (std::isnan(theta)) return 0;
  theta -= 360.0 * std::floor(theta / 360.0 + 0.9 / 360.0);
  int deg = static_cast<int>(std::lround(theta / 90.0)) * 90;
  return ((deg % 360) + 360) % 360;
}

// Some demuxers open other files named inside the one they read: an HLS
// playlist's segments (any local video the server can read, named by an
// upload) and the playlist again (a "live" one is waited on for its target
// duration, over and over), concat lists, image sequences. A video is one
// file, opened once: any other open is refused, and from then on FFmpeg's
// interrupt callback stops every wait and read, so the file is refused at
// once. `s->opaque` is the decoder's OpenOnce.
struct OpenOnce {
  std::string path;
  bool opened = false;
  bool refused = false;  // the file asked for another file
};

int OpenOnlyTheFileOnce(AVFormatContext* s, AVIOContext** pb, const char* url, int flags, AVDictionary** options) {
  auto* once = static_cast<OpenOnce*>(s->opaque);
  if (once == nullptr) return AVERROR(EPERM);
  if (once->opened || url == nullptr || once->path != url || (flags & AVIO_FLAG_WRITE)) {
    once->refused = true;
    return AVERROR(EPERM);
  }
  once->opened = true;
  return avio_open2(pb, url, flags, &s->interrupt_callback, options);
}

int InterruptWhenRefused(void* opaque) { return static_cast<const OpenOnce*>(opaque)->refused ? 1 : 0; }

// Demuxers whose input names other inputs (playlists, lists, manifests,
// session descriptions), some of which open them without io_open (concat
// opens its files itself): refused on what the probe says, before they run.
bool NamesOtherInputs(const AVInputFormat* f) {
  for (const char* name : {"hls", "concat", "dash", "imf", "sdp", "rtsp", "rtp"}) {
    if (std::strcmp(f->name, name) == 0) return true;
  }
  return false;
}

// The demuxer FFmpeg picks for `path` (by content, then name), or nullptr.
const AVInputFormat* ProbeFormat(const std::string& path) {
  AVIOContext* pb = nullptr;
  if (avio_open2(&pb, path.c_str(), AVIO_FLAG_READ, nullptr, nullptr) < 0) return nullptr;
  const AVInputFormat* format = nullptr;
  if (av_probe_input_buffer2(pb, &format, path.c_str(), nullptr, 0, 0) < 0) format = nullptr;
  avio_closep(&pb);
  return format;
}

class FfmpegVideoDecoder : public VideoDecoder {
 public:
  explicit FfmpegVideoDecoder(const DecodeOptions& o) : options_(o), sampler_(o.target_fps) {}
  ~FfmpegVideoDecoder() override {
    sws_freeContext(sws_);
    av_frame_free(&frame_);
    av_frame_free(&prev_);
    av_packet_free(&packet_);
    for (AVPacket* p : ahead_) av_packet_free(&p);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
  }

  Status Init(const std::string& path) {
    info_.path = path;
    format_ = avformat_alloc_context();
    if (format_ == nullptr) return Status::Internal("out of memory allocating a demuxer");
    open_once_.path = path;
    format_->opaque = &open_once_;
    format_->io_open = OpenOnlyTheFileOnce;
    format_->interrupt_callback = {InterruptWhenRefused, &open_once_};
    const Status names_files = Status::Unsupported(path + ": names other files (a playlist or a list), not a video");
    // Network protocols are never needed (and an SDP file would open sockets).
    AVDictionary* open_options = nullptr;
    av_dict_set(&open_options, "protocol_whitelist", "file", 0);
    const AVInputFormat* probed = ProbeFormat(path);
    if (probed != nullptr && NamesOtherInputs(probed)) {
      av_dict_free(&open_options);
      return names_files;
    }
    int ret = avformat_open_input(&format_, path.c_str(), probed, &open_options);
    av_dict_free(&open_options);
    if (open_once_.refused) return names_files;
    if (ret < 0) {
      return Status::Unsupported(path + ": not a readable video file (" + AvError(ret) + ")");
    }
    ret = avformat_find_stream_info(format_, nullptr);
    if (open_once_.refused) return names_files;
    if (ret < 0) {
      return Status::Unsupported(path + ": cannot read stream information (" + AvError(ret) + ")");
    }
    const AVCodec* decoder = nullptr;
    stream_index_ = -1;
    // The best video stream that is not cover art (an audio file's picture).
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      AVStream* s = format_->streams[i];
      if (s->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
      if (s->disposition & AV_DISPOSITION_ATTACHED_PIC) continue;
      if (stream_index_ < 0) stream_index_ = static_cast<int>(i);
    }
    if (stream_index_ < 0) return Status::Unsupported(path + ": no video stream in the file");
    int best = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (best >= 0 && !(format_->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      stream_index_ = best;
    }
    stream_ = format_->streams[stream_index_];
    decoder = avcodec_find_decoder(stream_->codecpar->codec_id);
    if (decoder == nullptr) {
      return Status::Unsupported(path + ": no decoder for codec '" +
                                 avcodec_get_name(stream_->codecpar->codec_id) + "'");
    }
    codec_ = avcodec_alloc_context3(decoder);
    if (codec_ == nullptr) return Status::Internal("out of memory allocating a decoder");
    ret = avcodec_parameters_to_context(codec_, stream_->codecpar);
    if (ret < 0) return Status::Unsupported(path + ": bad codec parameters (" + AvError(ret) + ")");
    codec_->thread_count = options_.threads;
    codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    codec_->pkt_timebase = stream_->time_base;
    ret = avcodec_open2(codec_, decoder, nullptr);
    if (ret < 0) return Status::Unsupported(path + ": cannot open decoder (" + AvError(ret) + ")");

    frame_ = av_frame_alloc();
    prev_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (!frame_ || !prev_ || !packet_) return Status::Internal("out of memory");

    time_base_ = av_q2d(stream_->time_base);
    AVRational rate = stream_->avg_frame_rate.num > 0 ? stream_->avg_frame_rate
                                                      : stream_->r_frame_rate;
    info_.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
    info_.codec = avcodec_get_name(stream_->codecpar->codec_id);
    info_.rotation_degrees = RotationFromDisplayMatrix(stream_);
    info_.width = stream_->codecpar->width;
    info_.height = stream_->codecpar->height;
    if (info_.rotation_degrees == 90 || info_.rotation_degrees == 270) {
      std::swap(info_.width, info_.height);
    }
    if (stream_->duration != AV_NOPTS_VALUE && stream_->duration > 0) {
      declared_duration_ = stream_->duration * time_base_;
    } else if (format_->duration != AV_NOPTS_VALUE && format_->duration > 0) {
      declared_duration_ = format_->duration / static_cast<double>(AV_TIME_BASE);
    }
    info_.duration_sec = declared_duration_;
    SOPILOT_RETURN_IF_ERROR(CheckPixels(stream_->codecpar->width, stream_->codecpar->height));
    if (declared_duration_ > options_.max_duration_sec) {
      return Status::Unsupported(info_.path + ": declares " + Seconds(declared_duration_) + " s, more than the " +
                                 Seconds(options_.max_duration_sec) + " s limit on a video's length");
    }
    return Status::Ok();
  }

  const VideoInfo& info() const override { return info_; }
  int64_t samples_returned() const override { return samples_returned_; }
  int64_t frames_decoded() const override { return frames_decoded_; }

  Result<FramePtr> Next() override {
    while (pending_repeats_ == 0) {
      if (finished_) return FramePtr();
      SOPILOT_RETURN_IF_ERROR(DecodeOne());
    }
    --pending_repeats_;
    ++samples_returned_;
    return pending_;
  }

 private:
  // Decodes until one more source frame has been handed to the sampler, or
  // the stream ends. May set pending_/pending_repeats_.
  Status DecodeOne() {
    for (;;) {
      int ret = avcodec_receive_frame(codec_, frame_);
      if (ret == 0) return OnDecodedFrame();
      if (ret == AVERROR_EOF) return OnEndOfStream();
      if (ret == AVERROR_INVALIDDATA && ++corrupt_packets_ < kMaxCorruptPackets) continue;
      if (ret != AVERROR(EAGAIN)) {
        return Status::Unsupported(info_.path + ": decoding failed (" + AvError(ret) + ")");
      }
      SOPILOT_RETURN_IF_ERROR(FeedPacket());
    }
  }

  // Reads packets of the video stream until kLookahead wait, or the file
  // ends (or fails to read: a truncated file decodes what it has).
  void ReadAhead() {
    while (!demuxed_all_ && ahead_.size() < kLookahead) {
      int ret = av_read_frame(format_, packet_);
      if (ret < 0) {
        if (ret != AVERROR_EOF) read_error_ = AvError(ret);
        demuxed_all_ = true;
        return;
      }
      if (packet_->stream_index != stream_index_) {
        av_packet_unref(packet_);
        continue;
      }
      AVPacket* kept = av_packet_alloc();
      if (kept == nullptr) {  // out of memory: decode what was read, as for a read error
        av_packet_unref(packet_);
        read_error_ = "out of memory";
        demuxed_all_ = true;
        return;
      }
      av_packet_move_ref(kept, packet_);
      ahead_.push_back(kept);
    }
  }

  // Whether the frame in `p` is shown at no sample time, by a margin: from
  // its timestamp to the next one shown (the least timestamp above it among
  // the packets around it) no sample falls. Such a frame is decoded only
  // when later frames refer to it (skip_frame = AVDISCARD_NONREF); leaving
  // it out changes no sample, since the frame before it then stays on
  // screen over a stretch with no sample in it. Most frames of a 30 fps
  // H.264 video sampled at 4 fps are such frames, and half the frames of
  // the hand-washing takes are referred to by none: the gold take now
  // decodes 2,351 of its 3,883 frames. Never where the time line is not
  // the plain one: before the first frame (whose timestamp is time 0),
  // after a gap was cut, a frame without a timestamp or the last frame
  // shown. ReadAhead() has just filled `ahead_` (or read the whole file), so
  // the frame's successor on screen is among the packets considered.
  bool ShowsNoSample(const AVPacket* p) const {
    if (!options_.skip_unsampled_frames || !plain_timeline_ || !have_first_pts_ || p->pts == AV_NOPTS_VALUE ||
        p->pts <= first_pts_ || (p->flags & AV_PKT_FLAG_KEY)) {
      return false;
    }
    int64_t next = std::numeric_limits<int64_t>::max();
    auto consider = [&](int64_t q) {
      if (q != AV_NOPTS_VALUE && q > p->pts) next = std::min(next, q);
    };
    for (int64_t q : sent_pts_) consider(q);
    for (const AVPacket* a : ahead_) consider(a->pts);
    if (next == std::numeric_limits<int64_t>::max()) return false;
    const double from = static_cast<double>(p->pts - first_pts_) * time_base_;
    const double to = static_cast<double>(next - first_pts_) * time_base_;
    if (to - from > options_.max_frame_gap_sec) return false;
    const double first_sample = std::ceil((from - kSkipMarginSec) * options_.target_fps) / options_.target_fps;
    return first_sample > to + kSkipMarginSec;
  }

  Status FeedPacket() {
    if (input_ended_) {
      return Status::Internal(info_.path + ": decoder wants input after end of stream");
    }
    for (;;) {
      ReadAhead();
      if (ahead_.empty()) {
        // End of file, or a read error (a truncated file): drain the decoder.
        // A stream that ends far too early is caught in OnEndOfStream().
        input_ended_ = true;
        avcodec_send_packet(codec_, nullptr);
        return Status::Ok();
      }
      AVPacket* packet = ahead_.front();
      ahead_.pop_front();
      codec_->skip_frame = ShowsNoSample(packet) ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
      sent_pts_.push_back(packet->pts);
      if (sent_pts_.size() > kLookahead) sent_pts_.pop_front();
      int ret = avcodec_send_packet(codec_, packet);
      av_packet_free(&packet);
      if (ret == AVERROR_INVALIDDATA && ++corrupt_packets_ < kMaxCorruptPackets) {
        continue;  // skip damaged data as players do; the length check below still applies
      }
      if (ret < 0 && ret != AVERROR(EAGAIN)) {
        return Status::Unsupported(info_.path + ": decoding failed (" + AvError(ret) + ")");
      }
      return Status::Ok();
    }
  }

  double FrameDurationSec(const AVFrame* f) const {
    if (f->pkt_duration > 0) return f->pkt_duration * time_base_;
    if (info_.fps > 0) return 1.0 / info_.fps;
    return 1.0 / 25.0;
  }

  Status CheckPixels(int64_t width, int64_t height) const {
    if (width * height > options_.max_frame_pixels) {
      return Status::Unsupported(info_.path + ": frames of " + std::to_string(width) + "x" + std::to_string(height) +
                                 " are larger than the limit of " + std::to_string(options_.max_frame_pixels) +
                                 " pixels");
    }
    return Status::Ok();
  }

  static std::string Seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", s);
    return buf;
  }

  // A frame's duration as it counts on the timeline: never past the gap limit.
  double ShownFor(const AVFrame* f) const { return std::min(FrameDurationSec(f), options_.max_frame_gap_sec); }

  Status OnDecodedFrame() {
    SOPILOT_RETURN_IF_ERROR(CheckPixels(frame_->width, frame_->height));
    ++frames_decoded_;
    int64_t ts = frame_->best_effort_timestamp;
    // Frames are skipped by their packets' timestamps: only while they are
    // the frames' own.
    if (ts == AV_NOPTS_VALUE || ts != frame_->pts) plain_timeline_ = false;
    double pts;
    if (ts == AV_NOPTS_VALUE) {
      pts = have_prev_ ? prev_pts_ + ShownFor(prev_) : 0.0;
    } else {
      if (!have_first_pts_) {
        first_pts_ = ts;
        have_first_pts_ = true;
      }
      pts = (ts - first_pts_) * time_base_ - info_.gap_sec_removed;
      if (have_prev_ && pts - prev_pts_ > options_.max_frame_gap_sec) {
        plain_timeline_ = false;
        info_.gap_sec_removed += pts - prev_pts_ - options_.max_frame_gap_sec;
        pts = prev_pts_ + options_.max_frame_gap_sec;
      }
    }
    if (pts > options_.max_duration_sec) {
      return Status::Unsupported(info_.path + ": runs past the " + Seconds(options_.max_duration_sec) +
                                 " s limit on a video's length");
    }
    int64_t n = sampler_.OnFrame(pts);
    if (have_prev_ && n > 0) SOPILOT_RETURN_IF_ERROR(EmitPrevious(n));
    av_frame_unref(prev_);
    av_frame_move_ref(prev_, frame_);
    prev_pts_ = std::max(pts, have_prev_ ? prev_pts_ : pts);
    have_prev_ = true;
    return Status::Ok();
  }

  Status OnEndOfStream() {
    finished_ = true;
    if (!have_prev_) {
      return Status::Unsupported(info_.path + ": the video stream has no decodable frame" +
                                 (read_error_.empty() ? "" : " (truncated or damaged: " + read_error_ + ")"));
    }
    double end = prev_pts_ + ShownFor(prev_);
    int64_t n = sampler_.OnEnd(end);
    if (n > 0) SOPILOT_RETURN_IF_ERROR(EmitPrevious(n));
    // A file cut short (an interrupted copy) still decodes its first part;
    // scoring that part as the whole video would be wrong, so say so. Gaps
    // cut from the timeline are not missing video.
    const double covered = prev_pts_ + FrameDurationSec(prev_) + info_.gap_sec_removed;
    if (declared_duration_ > 2.0 && covered < 0.9 * declared_duration_ - 0.5) {
      char buf[160];
      std::snprintf(buf, sizeof buf, ": truncated or damaged: decoded %.1f s of the %.1f s the file declares",
                    end, declared_duration_);
      return Status::Corruption(info_.path + buf);
    }
    info_.duration_sec = end;
    return Status::Ok();
  }

  Status EmitPrevious(int64_t repeats) {
    auto frame = std::make_shared<Frame>();
    frame->id = next_frame_id_++;
    frame->pts_sec = prev_pts_;
    SOPILOT_RETURN_IF_ERROR(ConvertToRgb(prev_, &frame->rgb));
    pending_ = std::move(frame);
    pending_repeats_ = repeats;
    return Status::Ok();
  }

  Status ConvertToRgb(const AVFrame* src, cv::Mat* out) {
    int w = src->width, h = src->height;
    if (w <= 0 || h <= 0 || src->format < 0) {
      return Status::Unsupported(info_.path + ": decoded frame has no picture");
    }
    // Same conversion as OpenCV's FFmpeg capture (bicubic, full size), then
    // OpenCV's area resize, so embeddings match the original's.
    sws_ = sws_getCachedContext(sws_, w, h, static_cast<AVPixelFormat>(src->format), w, h,
                                AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
    if (sws_ == nullptr) {
      return Status::Unsupported(info_.path + ": cannot convert pixel format " +
                                 std::to_string(src->format) + " to RGB");
    }
    // swscale's SIMD converters store whole groups of pixels, so they write
    // past the end of a row whose width is not a multiple of the group (and
    // want aligned rows): into a buffer sized to the picture, a 360-pixel-wide
    // video corrupted the heap now and then (FFmpeg trac #9254). Rows are
    // padded to a multiple of 64 pixels, with a spare row after the last;
    // rgb_full_ is the picture's view of it (cv::Mat data is 64-byte aligned).
    const int padded_step = (w + 63) / 64 * 64 * 3;
    rgb_padded_.create(h + 1, padded_step, CV_8UC1);
    rgb_full_ = cv::Mat(h, w, CV_8UC3, rgb_padded_.data, static_cast<size_t>(padded_step));
    uint8_t* dst[4] = {rgb_full_.data, nullptr, nullptr, nullptr};
    int dst_stride[4] = {static_cast<int>(rgb_full_.step[0]), 0, 0, 0};
    sws_scale(sws_, src->data, src->linesize, 0, h, dst, dst_stride);

    cv::Mat resized;
    int longest = std::max(w, h);
    if (longest > options_.max_side) {
      double scale = static_cast<double>(options_.max_side) / longest;
      // Python's round(): half to even, which nearbyint does in the default mode.
      int nw = std::max(1, static_cast<int>(std::nearbyint(w * scale)));
      int nh = std::max(1, static_cast<int>(std::nearbyint(h * scale)));
      cv::resize(rgb_full_, resized, cv::Size(nw, nh), 0, 0, cv::INTER_AREA);
    } else {
      resized = rgb_full_.clone();
    }
    switch (info_.rotation_degrees) {
      case 90: cv::rotate(resized, *out, cv::ROTATE_90_CLOCKWISE); break;
      case 180: cv::rotate(resized, *out, cv::ROTATE_180); break;
      case 270: cv::rotate(resized, *out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
      default: *out = std::move(resized);
    }
    return Status::Ok();
  }

  DecodeOptions options_;
  FrameSampler sampler_;
  VideoInfo info_;
  OpenOnce open_once_;  // format_->opaque
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  int stream_index_ = -1;
  SwsContext* sws_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVFrame* prev_ = nullptr;  // the last decoded frame, waiting for the sampler
  AVPacket* packet_ = nullptr;
  // Packets of the video stream read and not yet sent, in decode order.
  std::deque<AVPacket*> ahead_;
  bool demuxed_all_ = false;
  std::deque<int64_t> sent_pts_;  // the last kLookahead packets sent
  // Every frame so far had its packet's timestamp and no gap was cut, so
  // packet timestamps tell which frames a sample shows.
  bool plain_timeline_ = true;
  int64_t frames_decoded_ = 0;
  double time_base_ = 0;
  double declared_duration_ = 0;
  bool have_first_pts_ = false;
  int64_t first_pts_ = 0;
  bool have_prev_ = false;
  double prev_pts_ = 0;
  bool input_ended_ = false;
  bool finished_ = false;
  int64_t corrupt_packets_ = 0;
  std::string read_error_;
  int64_t next_frame_id_ = 0;
  int64_t samples_returned_ = 0;
  FramePtr pending_;
  int64_t pending_repeats_ = 0;
  cv::Mat rgb_padded_;  // reused conversion buffer, padded for swscale
  cv::Mat rgb_full_;    // the picture in rgb_padded_
};

}  // namespace

Result<std::unique_ptr<VideoDecoder>> VideoDecoder::Open(const std::string& path,
                                                         const DecodeOptions& options) {
  SOPILOT_RETURN_IF_ERROR(ValidateDecodeOptions(options));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + ": is a directory, not a video file");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  if (st.st_size == 0) return Status::InvalidArgument(path + ": empty file");
  QuietFfmpegOnce();
  auto decoder = std::make_unique<FfmpegVideoDecoder>(options);
  SOPILOT_RETURN_IF_ERROR(decoder->Init(path));
  return std::unique_ptr<VideoDecoder>(std::move(decoder));
}

}  // namespace sopilot
