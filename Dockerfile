# subbot: `subbot run` as a non-root user; settings in /config, ledger and raw mail in /data.
#   docker run --init -v ./config:/config:ro -v subbot-data:/data \
#     -e SUBBOT_IMAP_PASSWORD_FILE=/run/secrets/imap -e SUBBOT_SMTP_PASSWORD_FILE=/run/secrets/smtp subbot
#   (--init: an init that reaps what subbot, as process 1, would not: the LibreOffice servers that outlive
#   the sandbox's workers that started them, once they quit)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SUBBOT_BOT_DATA_DIR=/data

# LibreOffice reads the .doc/.wps/.odt forms branches still send; python3-uno (Debian's python3 with `uno`)
# runs the server that keeps one LibreOffice warm (bot/forms/convert/warm.py). libgl1 and libglib2.0-0: the
# OCR extra's model wheel (rapidocr_onnxruntime) pulls in the GUI build of OpenCV beside the headless one, and
# whichever of the two wrote cv2 last must import.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libreoffice-writer-nogui python3-uno fonts-noto-cjk \
       libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 subbot \
    && useradd --system --create-home --home-dir /home/subbot --uid 10001 --gid 10001 subbot \
    && mkdir -p /data /config \
    && chown subbot:subbot /data \
    && chmod 0700 /data

WORKDIR /app
# Every dependency pinned with its hashes (requirements.lock, made by `make lock`; the pip-compile command is at
# its top): a changed file on the index fails the build. The lock holds the extras the image ships, among them
# `postgres` (psycopg 3 with its binary build, libpq included), so the image takes a PostgreSQL database_url
# as it is, and `ocr` (onnxruntime, OpenCV and the PP-OCRv4 models inside the rapidocr_onnxruntime wheel: scans
# and photos of the form are read offline, nothing is downloaded at run time). Installed before the sources, so an edit keeps the layer.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY parsers ./parsers
COPY replies ./replies
COPY config ./config
# --no-deps: everything came from the lock; pip check fails the build if the lock lacks something pyproject asks.
RUN pip install --no-cache-dir --no-deps . && pip check

USER 10001:10001
VOLUME ["/data", "/config"]
ENTRYPOINT ["subbot"]
CMD ["--settings", "/config/bot.toml", "run"]
