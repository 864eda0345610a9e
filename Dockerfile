# Strata services and CLI in one image (docs/topology.md, "Kubernetes / KubeEdge").
#   docker build -t strata:latest .
#   docker run --rm strata:latest strata version
# `strata deploy k8s` manifests run /usr/local/bin/strata-<service> from this image as user 10001.
# Build stage: the same Debian 12 packages as a developer machine (scripts/install-deps.sh).
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# Tests and benchmarks are built and run in CI, not in the image.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_WERROR=ON \
      -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_BENCHMARKS=OFF \
    && cmake --build /build -j "$(nproc)" \
    && strip /build/bin/*

# Runtime stage: only the shared libraries the binaries load (the -dev packages above pull in
# these runtime packages), the Haar/LBP cascades, mosquitto for `strata up` inside a container.
FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      ca-certificates mosquitto opencv-data \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-videoio406 \
      libopencv-objdetect406 libopencv-dnn406 libopencv-contrib406 \
      libcpp-httplib0.11 libssl3 libpaho-mqttpp3-1 libpaho-mqtt1.3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libprometheus-cpp-pull1.0 libprometheus-cpp-core1.0 libsqlite3-0 libsodium23 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/strata --create-home strata
COPY --from=build /build/bin/ /usr/local/bin/
COPY configs/ /etc/strata/examples/
USER 10001
WORKDIR /var/lib/strata
EXPOSE 8080
# Every service answers GET /healthz; Kubernetes uses its own probes (see the manifests).
HEALTHCHECK NONE
ENTRYPOINT []
CMD ["/usr/local/bin/strata", "--help"]
