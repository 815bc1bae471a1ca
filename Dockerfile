# Production image: gunicorn serves the app, whitenoise the collected static files.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.production

WORKDIR /app

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image at build time; the key only satisfies the settings.
RUN SECRET_KEY=collectstatic-build-only-dummy-key-not-used-at-runtime \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

CMD ["gunicorn", "portal.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", "--access-logfile=-", "--forwarded-allow-ips=*", "--no-control-socket"]
