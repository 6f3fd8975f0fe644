# kyoso, built in one stage and run in a slim one. Used by docker-compose.yml.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked --bin kyoso

FROM debian:bookworm-slim
# libpq5: PostgreSQL client library; mecab-ipadic: the dictionary source kyoso compiles
# for Japanese search at first start (into the data directory).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 mecab-ipadic ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/kyoso --create-home kyoso
COPY --from=build /src/target/release/kyoso /usr/local/bin/kyoso
USER kyoso
WORKDIR /var/lib/kyoso
EXPOSE 8080
ENTRYPOINT ["kyoso"]
CMD ["serve"]
