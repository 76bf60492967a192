# KinPass server image: dependencies only from the hashed lock, installed into the image's own
# virtual environment; runs as an unprivileged user; production unless told otherwise.
# The base is pinned by digest (python:3.11-slim-bookworm); `make lock` does not change it.
FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/kinpass PATH=/opt/kinpass/bin:$PATH

RUN groupadd --system kinpass && useradd --system --gid kinpass --home /var/lib/kinpass kinpass \
    && mkdir -p /var/lib/kinpass && chown kinpass:kinpass /var/lib/kinpass \
    && chmod 700 /var/lib/kinpass && python -m venv /opt/kinpass

COPY requirements/build.lock requirements/runtime.lock /tmp/lock/
RUN pip install --require-hashes --no-deps -r /tmp/lock/build.lock \
    && pip install --require-hashes --no-deps -r /tmp/lock/runtime.lock

WORKDIR /src
COPY setup.cfg pyproject.toml README.md wsgi.py ./
COPY api api
COPY auth auth
COPY clients clients
COPY schemas schemas
COPY services services
COPY storage storage
COPY migrations migrations
RUN pip install --no-deps --no-build-isolation . && cd / && rm -rf /src /tmp/lock

WORKDIR /var/lib/kinpass
ENV KINPASS_ENV=production KINPASS_BIND=0.0.0.0:8000 KINPASS_DATA_DIR=/var/lib/kinpass
USER kinpass
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["kinpass"]
CMD ["serve"]
