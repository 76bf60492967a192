FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    KINPASS_BIND=0.0.0.0:8000 KINPASS_DATA_DIR=/var/lib/kinpass

RUN groupadd --system kinpass && useradd --system --gid kinpass --home /var/lib/kinpass kinpass \
    && mkdir -p /var/lib/kinpass && chown kinpass:kinpass /var/lib/kinpass && chmod 700 /var/lib/kinpass

WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY api api
COPY auth auth
COPY schemas schemas
COPY services services
COPY storage storage
COPY migrations migrations
COPY wsgi.py ./
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER kinpass
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["kinpass", "serve"]
