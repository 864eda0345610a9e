#!/usr/bin/env bash
# Downloads the DNN models Strata's vision stages use (configs/models/*.yaml) from their original
# public sources, pinned to the commits recorded in ../shared/assets/MANIFEST.md, and verifies each
# file's sha256. Files already present with the right hash are skipped.
#
#   scripts/fetch-models.sh            # everything (~16 MB)
#   scripts/fetch-models.sh detectors  # or: faces
#   STRATA_MODELS=/opt/models scripts/fetch-models.sh
#
# Destination: ${STRATA_MODELS:-$HOME/.cache/strata/models}. Needs curl (or wget) and sha256sum.
# Licences: see docs/vision.md — mobilefacenet_128d.onnx states no licence (test-only).
set -euo pipefail

DEST="${STRATA_MODELS:-$HOME/.cache/strata/models}"
GH=https://raw.githubusercontent.com

# group | destination (relative to DEST) | sha256 | url
MODELS=(
  "detectors|yolox_nano.onnx|e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd|$GH/Bigisland1729/object-detection-models/6e770c5ef34fa42aaa2521eb7d0d9ec2bb5f40a3/yolox_nano.onnx"
  "detectors|yolo-fastest-1.1/yolo-fastest-1.1.cfg|f6df5775c1e862998cf69046eba9265be3ae84dfe8b2caab7529823f0795bf70|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1.cfg"
  "detectors|yolo-fastest-1.1/yolo-fastest-1.1.weights|1c445c42bbd6df63edea2cc69f99667b5650d663ca11e34b116240740cd42890|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1.weights"
  "detectors|yolo-fastest-1.1/yolo-fastest-1.1-xl.cfg|c458427acc4fbeabceff4528ef7b65b066c0308ce599460f8ba299eba63abad3|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1-xl.cfg"
  "detectors|yolo-fastest-1.1/yolo-fastest-1.1-xl.weights|fac5fb41786c1f38f04972a658443b189f48720d7d117f9a044100e98a35b0c5|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1-xl.weights"
  "detectors|yolo-fastest-1.1/coco.names|634a1132eb33f8091d60f2c346ababe8b905ae08387037aed883953b7329af84|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_coco/coco.names"
  "detectors|yolo-fastest-1.1/yolo-fastest-1.1_body.cfg|045b8e276ebe3924474da8c866b7e709159ea067137b5d66bf9dd560411b2c1a|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_body/yolo-fastest-1.1_body.cfg"
  "detectors|yolo-fastest-1.1/yolo-fastest-1.1_body.weights|5bbb6d878f6e2eb3deee39e91dc6f9b39700e99ec83fa94d258670a554949728|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_body/yolo-fastest-1.1_body.weights"
  "detectors|yolo-fastest-1.1/body.names|9e2ec912af5dff2a72300863864fc4da04e81999339d9fac5c7590ba8a3f4e11|$GH/dog-qiuqiu/Yolo-Fastest/9c62b1c50e024fb73d29a651133b1d63548e63a1/ModelZoo/yolo-fastest-1.1_body/body.names"
  "faces|face_detection_yunet_2022mar.onnx|50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7|$GH/opencv/opencv_contrib/147e3f2ff9fd3fccadd75b5e615de226fa7d4e62/assets/face_detection_yunet_2022mar.onnx"
  "faces|ultraface/version-RFB-320.onnx|34cd7e60aeff28744c657de7a3dc64e872d506741de66987f3426f2b79f88017|$GH/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/0f9ca4a9fc80170fd505168fd1132b837141f7df/models/onnx/version-RFB-320.onnx"
  "faces|ultraface/version-RFB-640.onnx|8f4c659275977e7a3bfbfa339a9c769ad793df50f9c0baa8c14b11baa1646430|$GH/Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB/cc497be475371d891d5795e46fc80ebaddf683c5/models/onnx/version-RFB-640.onnx"
  "faces|mobilefacenet_128d.onnx|6ced4e0c36abba9dd24b48d725f7dbb94089f75b3d3445d3d67b85157cb64743|$GH/KennethWang1221/Face-Detection-and-Recognition-System/3bb45bc8704cf9c9d942cb50c3b41967701481fb/MobileFaceNet.onnx"
)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

groups=("$@")
for g in "${groups[@]}"; do
  case "$g" in
    detectors|faces) ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch-models: unknown group '$g' (detectors, faces)" >&2; exit 2 ;;
  esac
done

if command -v curl >/dev/null; then
  fetch() { curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
  fetch() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
  echo "fetch-models: need curl or wget" >&2; exit 1
fi
command -v sha256sum >/dev/null || { echo "fetch-models: need sha256sum" >&2; exit 1; }

wanted() {
  [ ${#groups[@]} -eq 0 ] && return 0
  for g in "${groups[@]}"; do [ "$g" = "$1" ] && return 0; done
  return 1
}

failed=0
for entry in "${MODELS[@]}"; do
  IFS='|' read -r group rel sha url <<<"$entry"
  wanted "$group" || continue
  out="$DEST/$rel"
  if [ -f "$out" ] && [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$sha" ]; then
    echo "ok       $rel"
    continue
  fi
  mkdir -p "$(dirname "$out")"
  tmp="$(mktemp "$out.XXXXXX")"
  if ! fetch "$url" "$tmp"; then
    echo "FAILED   $rel: download from $url" >&2
    rm -f "$tmp"; failed=1; continue
  fi
  got="$(sha256sum "$tmp" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    echo "FAILED   $rel: sha256 $got, expected $sha" >&2
    rm -f "$tmp"; failed=1; continue
  fi
  mv "$tmp" "$out"
  echo "fetched  $rel"
done

if [ $failed -ne 0 ]; then
  echo "fetch-models: some files failed; the embedded defaults (hog, haar, lbph) still work" >&2
  exit 1
fi
echo "models are in $DEST (Strata searches \$STRATA_MODELS, then \$HOME/.cache/strata/models)"
