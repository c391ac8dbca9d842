#!/usr/bin/env bash
# Regenerates the seed corpus in fuzz/corpus/<fuzzer>/ (checked in; run this
# only to change it). Needs ffmpeg and the fuzz build's seed_writer
# (scripts/build.sh fuzz). Each seed is a few kB; the whole corpus stays
# well under 1 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
c=fuzz/corpus
build-fuzz/fuzz/seed_writer "$c"

# Videos: 1 s of testsrc, 32x32 at 4 fps, in the containers and codecs
# uploads come in.
v=$c/video_decoder_fuzzer
mkdir -p "$v"
src=(-f lavfi -i testsrc=size=32x32:rate=4 -t 1)
ff() { ffmpeg -nostdin -loglevel error -y "${src[@]}" "$@"; }
ff -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$v/h264.mp4"
ff -c:v libx264 -preset ultrafast -pix_fmt yuv420p -metadata:s:v rotate=90 "$v/rotated.mov"
ff -c:v mpeg4 "$v/mpeg4.avi"
ff -c:v libvpx -b:v 50k "$v/vp8.webm"
ff -c:v libvpx-vp9 -b:v 50k "$v/vp9.webm"
ff -c:v ffv1 "$v/ffv1.mkv"
ff -c:v mjpeg -q:v 20 -f mjpeg "$v/frames.mjpeg"
ff -c:v mpeg2video "$v/mpeg2.ts"
ffmpeg -nostdin -loglevel error -y -f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.1 -c:a pcm_u8 "$v/audio_only.wav"

# Steps JSON (score --steps).
s=$c/steps_json_fuzzer
mkdir -p "$s"
printf '%s' '{"steps": [{"name": "REMOVE", "start_sec": 0, "end_sec": 6}, {"name": "CLEAN", "start_sec": 6, "end_sec": 12.5}, {"start_sec": 13, "end_sec": 20}]}' >"$s/steps.json"
printf '%s' '[{"name": "a", "start_sec": 0.0, "end_sec": 1e1}, {"name": "b\u00e9", "start_sec": 10, "end_sec": 11}]' >"$s/array.json"
printf '%s' '{"steps": [{"name": "x", "start_sec": 5, "end_sec": 2}]}' >"$s/bad_order.json"

# Multipart uploads: byte 0 caps the socket's reads, then the Content-Type
# value, '\n', then the body (see multipart_upload_fuzzer.cc).
m=$c/multipart_upload_fuzzer
mkdir -p "$m"
crlf() { sed 's/$/\r/'; }
body() {  # boundary
  {
    printf -- '--%s\n' "$1"
    printf 'Content-Disposition: form-data; name="task_id"\n\ntask-a\n'
    printf -- '--%s\n' "$1"
    printf 'Content-Disposition: form-data; name="role"\n\ngold\n'
    printf -- '--%s\n' "$1"
    printf 'Content-Disposition: form-data; name="file"; filename="gold.mp4"\nContent-Type: video/mp4\n\n'
    printf '\x00\x00\x00\x18ftypmp42 video bytes\n'
    printf -- '--%s--\n' "$1"
  } | crlf
}
{ printf '\x00multipart/form-data; boundary=XyZ123\n'; body XyZ123; } >"$m/upload"
{ printf '\x07multipart/form-data; boundary="quoted-boundary"\n'; body quoted-boundary; } >"$m/upload_small_reads"
{ printf '\x00multipart/form-data; boundary=b\n'; printf -- '--b\nContent-Disposition: form-data; name="task_id"\n\nt\n--b--\n' | crlf; } >"$m/no_file"
{ printf '\x01multipart/form-data; boundary=b\n'; printf -- '--b\nContent-Disposition: form-data; name="file"; filename="a"\n\nx\n--b\nContent-Disposition: form-data; name="file"; filename="b"\n\ny\n--b--\n' | crlf; } >"$m/two_files"
{ printf '\x00application/json\n{"task_id": "x"}'; } >"$m/not_multipart"

# Redis replies (RESP 2), as the queue's scripts and commands answer.
r=$c/redis_reply_fuzzer
mkdir -p "$r"
printf '*2\r\n$36\r\n0b6d2a5e-8a40-4d1c-9a7e-3f3a1c2b4d5e\r\n:1\r\n' >"$r/lease"
printf '$-1\r\n' >"$r/nil"
printf ':1\r\n:0\r\n:-1\r\n' >"$r/integers"
printf ':3\r\n:1\r\n:2\r\n$1\r\n4\r\n' >"$r/stats"
printf ':0\r\n:0\r\n:0\r\n$-1\r\n' >"$r/stats_no_dead"
printf -- '-WRONGKIND job 1 is already queued as score\r\n-LOADING Redis is loading\r\n-ERR unknown\r\n' >"$r/errors"
printf '+PONG\r\n+OK\r\n' >"$r/status"
printf '*3\r\n$2\r\nj1\r\n$2\r\nj2\r\n*1\r\n*0\r\n' >"$r/dead_jobs_nested"
printf '$40\r\n9f86d081884c7d659a2feaa0c55ad015a3bf4f1b\r\n' >"$r/script_sha"

# Files that name other files (must never be opened: video_decoder.cc).
printf '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n/nonexistent/segment.ts\n#EXT-X-ENDLIST\n' >"$v/playlist.m3u8"
printf "ffconcat version 1.0\nfile 'segment.ts'\n" >"$v/list.ffconcat"
