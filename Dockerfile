# Loss Lab in a container:
#   docker build -t loss-lab .
#   docker run --rm -d -p 8000:8000 loss-lab      then open http://localhost:8000/
#
# The base is a build argument so the image can be rebuilt on another Debian-like
# Python base (CI builds it on a debootstrapped Debian with python3, see
# tests/container/). Nothing here relies on the base's `python` name or its pip:
# a venv at a fixed path is made with python3 and used by its full path.
ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Build-time only (ARGs are not kept in the image's environment).
ARG PIP_DISABLE_PIP_VERSION_CHECK=1
ARG PIP_NO_CACHE_DIR=1

# Unprivileged user the server runs as (fixed uid so orchestrators can check it).
RUN groupadd --gid 10001 losslab \
 && useradd --uid 10001 --gid losslab --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin losslab

# Dependencies first, in their own layer: only pyproject.toml is copied, and only its
# [project].dependencies are installed, so a change to the source reuses this layer.
COPY pyproject.toml /tmp/pyproject.toml
RUN python3 -m venv /opt/venv \
 && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && /opt/venv/bin/python -m pip install --no-cache-dir -r /tmp/requirements.txt \
 && /opt/venv/bin/python -m pip uninstall --yes pip setuptools \
 && rm -f /tmp/pyproject.toml /tmp/requirements.txt

# The source. It runs from here rather than from site-packages, because the app reads
# templates/ and static/ by path next to app/ and engine/. Owned by root, read-only
# for the server's user.
WORKDIR /srv/losslab
COPY app ./app
COPY engine ./engine
COPY templates ./templates
COPY static ./static
COPY pyproject.toml ./

USER 10001:10001

# Listen on all interfaces inside the container; the port can be changed with -e LOSSLAB_PORT=...
# and the number of server processes with -e LOSSLAB_WORKERS=N (one per CPU the container gets).
ENV LOSSLAB_HOST=0.0.0.0 \
    LOSSLAB_PORT=8000 \
    LOSSLAB_WORKERS=1
EXPOSE 8000

# No curl in the image: the venv's python asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('LOSSLAB_PORT', '8000'), timeout=4)"]

CMD ["/opt/venv/bin/python", "-m", "app"]
