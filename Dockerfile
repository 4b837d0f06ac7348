# syntax=docker/dockerfile:1
# The example app (examples/tasks) as a small, non-root, distroless image with rustls (no OpenSSL)
# and a vendored protoc (no protobuf-compiler needed).
#   docker build -t centrpc-tasks .
#   docker run -p 10001:10001 -e CENTRPC_AUTH_KEY=x-centrpc-auth -e CENTRPC_AUTH_VALUE=… centrpc-tasks
# Your own app: replace `--example tasks` with `--bin <your-app>` and the copied path with
# /src/target/release/<your-app>; keep the rest.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto ./proto
COPY src ./src
COPY examples ./examples
RUN cargo build --release --locked --example tasks

# cc-debian12 carries glibc and libgcc for the binary built on bookworm above.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/examples/tasks /usr/local/bin/centrpc-tasks
ENV CENTRPC_LISTEN=0.0.0.0:10001 \
    CENTRPC_METRICS_LISTEN=0.0.0.0:9100 \
    CENTRPC_LOG_FORMAT=json \
    CENTRPC_SHUTDOWN_DELAY=5s \
    CENTRPC_SHUTDOWN_TIMEOUT=20s
EXPOSE 10001 9100
USER nonroot
ENTRYPOINT ["/usr/local/bin/centrpc-tasks"]
CMD ["serve"]
