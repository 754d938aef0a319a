# stampede in a container: the image docs/distributed.md runs as a
# Kubernetes Indexed Job or a Slurm array.
#
#   docker build -t stampede:0.2.0 .
#   docker run --rm -v "$PWD/reports:/out" stampede:0.2.0 \
#     run /usr/share/stampede/scenarios/playground-img2img.toml --out /out/playground
#
# (--rm deletes the container: reports outlive it only in a mounted folder,
# which uid 10001 must be able to write.)
#
# Two stages: a Rust toolchain builds the binary; the image that runs it holds
# only Debian's slim base, the binary and the shipped scenarios.

FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
# What `cargo build` reads: the manifest and lock file (--locked: exactly the
# tested dependency versions), the sources, the bundled font and the docs
# that `stampede docs` prints, and the bench target the manifest declares.
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY assets assets
COPY docs docs
COPY benches benches
# No debug symbols in the image's binary.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
RUN cargo build --release --locked --bin stampede

FROM debian:bookworm-slim
COPY --from=build /src/target/release/stampede /usr/local/bin/stampede
COPY scenarios /usr/share/stampede/scenarios
# Reports are written relative to the working directory (reports/...).
RUN useradd --create-home --uid 10001 stampede
USER stampede
WORKDIR /home/stampede
ENTRYPOINT ["stampede"]
CMD ["--help"]
