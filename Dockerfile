# community-bot container: `docker build -t community-bot .`
# Run with a volume for data/ (database + E2EE store) and a config file:
#   docker run -v $PWD/data:/app/data -v $PWD/config.toml:/app/config.toml:ro community-bot
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY commands commands
COPY storage storage
RUN pip install --no-cache-dir .
RUN useradd --system --home /app bot && mkdir -p /app/data && chown bot /app/data
USER bot
VOLUME ["/app/data"]
# Needs [web] enabled = true with bind = "0.0.0.0" inside the container (publish the port only to a proxy).
# `community-bot status` exits 1 when /readyz says "not ready" (and prints why), 3 when nothing answers.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["community-bot", "status", "--config", "/app/config.toml"]
ENTRYPOINT ["community-bot"]
CMD ["run", "--config", "/app/config.toml"]
