# Th.INKA bot: `docker build -t thinka-bot . && docker run -v thinka-data:/data --env-file .env thinka-bot`
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    THINKA_DB=/data/thinka.sqlite3

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY locales ./locales
COPY migrations ./migrations
COPY content ./content
# Editable, so that the catalogs and migrations next to the code are found where they are.
RUN pip install -e . \
    && pybabel compile -d locales -D messages \
    && useradd --system --uid 10001 --home-dir /app thinka \
    && mkdir -p /data && chown thinka /data

USER thinka
VOLUME ["/data"]
# Polling needs no port; with THINKA_WEBHOOK_URL set, the webhook listens on THINKA_WEBHOOK_LISTEN.
EXPOSE 8443
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
