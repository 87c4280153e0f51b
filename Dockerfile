# creditbridge: the bridge process (and its CLI) for the scale-out deployment in
# docker-compose.yml. Debezium itself runs in the Kafka Connect container there; the
# Java runtime here serves the embedded transport, which the same image can also run.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /var/lib/creditbridge creditbridge

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bridge ./bridge
RUN pip install --no-cache-dir .

COPY connectors ./connectors
COPY mappings ./mappings

USER creditbridge
ENV CREDITBRIDGE_HOME=/var/lib/creditbridge \
    PYTHONUNBUFFERED=1
ENTRYPOINT []
CMD ["creditbridge", "--help"]
