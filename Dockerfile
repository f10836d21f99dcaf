# guichet container image:  docker build -t guichet .
# Needs BuildKit (the default builder since Docker 23) for the cache mounts.

# --- build -------------------------------------------------------------------
FROM rust:1-bookworm AS builder
# libpq for diesel's PostgreSQL backend (SQLite is bundled by libsqlite3-sys).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Registry and target dir are cache mounts (kept between builds, not in the
# image), so the binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && install -m 0755 target/release/guichet /usr/local/bin/guichet

# --- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim
# curl is for health checks (docker-compose.yml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group \
      --home-dir /var/lib/guichet --create-home --shell /usr/sbin/nologin guichet
COPY --from=builder /usr/local/bin/guichet /usr/local/bin/guichet
USER guichet
# The default SQLite database (DATABASE_URL=guichet.db) and documents (GUICHET_DOCUMENTS_DIR)
# land here.
WORKDIR /var/lib/guichet
ENV GUICHET_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["guichet"]
CMD ["serve"]
