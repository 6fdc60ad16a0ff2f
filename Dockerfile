# Th.INKA bot: `docker build -t thinka-bot . && docker run -v thinka-data:/data --env-file .env thinka-bot`
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    THINKA_DB=/data/thinka.sqlite3 \
    MPLCONFIGDIR=/app/.matplotlib

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY handlers ./handlers
COPY locales ./locales
COPY migrations ./migrations
COPY content ./content
# Editable, so that the catalogs and migrations next to the code are found where they are.
# matplotlib (the report's charts) builds its font cache once here, in MPLCONFIGDIR: the
# non-root user could not write one and would rebuild it for every chart.
RUN pip install -e . \
    && pybabel compile -d locales -D messages \
    && python -c "import matplotlib.font_manager" \
    && useradd --system --uid 10001 --home-dir /app thinka \
    && mkdir -p /data && chown thinka /data && chown -R thinka /app/.matplotlib

USER thinka
VOLUME ["/data"]
# Polling needs no port; with THINKA_WEBHOOK_URL set, the webhook listens on THINKA_WEBHOOK_LISTEN.
EXPOSE 8443
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
