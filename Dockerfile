# The dashboard in a container. No Docker engine runs on the machines this was written on, so this
# image has not been built here: it mirrors .ci/run's install steps (the runtime lock, requirements.txt, only;
# Chromium is for the tests) and stays minimal on purpose.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY . .
RUN python3 -m venv .venv \
 && .venv/bin/pip install -q -r requirements.txt -e .
# Compile the gazetteer cache and the sample's tables now, not on the first visit.
ENV KZDASH_CACHE=/app/.cache/kzdash KZDASH_MODE=hosted
RUN .venv/bin/python -m kzdash build --input data/articles --out build/sample --no-progress \
 && useradd --create-home kzdash && chown -R kzdash /app/build /app/.cache
USER kzdash
EXPOSE 8501
HEALTHCHECK CMD .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=5)"
CMD [".venv/bin/streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
