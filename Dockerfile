# The server with its embedded PostgreSQL; set CONDUCTOR_DATABASE_URL to use an external one.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CONDUCTOR_HOST=0.0.0.0 CONDUCTOR_PORT=8080 CONDUCTOR_DATA_DIR=/data/postgres

WORKDIR /app
COPY pyproject.toml README.md ./
COPY conductor ./conductor
COPY workers ./workers
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 conductor \
    && mkdir -p /data && chown conductor:conductor /data

# PostgreSQL refuses to run as root, so the server (and its embedded database) runs as a user.
USER conductor
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health').status == 200 else 1)"
CMD ["conductor", "server"]
