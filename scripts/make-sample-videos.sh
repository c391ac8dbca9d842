#!/usr/bin/env bash
# Makes sample videos of a 4-step procedure with ffmpeg's lavfi sources:
# DIR/gold.mp4 (steps A B C D, 6 s each) and DIR/trainee.mp4 (A C B D: two
# steps swapped, and C done slower). A user's clone has no ../shared, so the
# main command runs on these.
set -euo pipefail
dir=${1:-sample}
mkdir -p "$dir"
make() {  # output, then "source:seconds" per step
  local out=$1; shift
  local inputs=() filter="" n=0
  for s in "$@"; do
    inputs+=(-t "${s##*:}" -f lavfi -i "${s%:*}")
    filter+="[$n:v]scale=320:180,setsar=1,fps=12,format=yuv420p[v$n];"
    n=$((n + 1))
  done
  for ((i = 0; i < n; i++)); do filter+="[v$i]"; done
  filter+="concat=n=$n:v=1:a=0[out]"
  ffmpeg -nostdin -y -loglevel error "${inputs[@]}" -filter_complex "$filter" -map "[out]" \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$out"
}
A="testsrc2=size=320x180:rate=12"
B="mandelbrot=size=320x180:rate=12"
C="life=size=320x180:rate=12:mold=10:ratio=0.5:death_color=#203040:life_color=#f0c020"
D="smptehdbars=size=320x180:rate=12"
make "$dir/gold.mp4" "$A:6" "$B:6" "$C:6" "$D:6"
make "$dir/trainee.mp4" "$A:6" "$C:9" "$B:6" "$D:6"
echo "sample videos: $dir/gold.mp4 $dir/trainee.mp4"
