"""`python -m app`: serve Loss Lab with uvicorn, configured from the environment."""

import uvicorn

from app.core.config import get_settings
from app.core.server import uvicorn_options


def main() -> None:
    s = get_settings()
    print(f"Loss Lab: open http://{'127.0.0.1' if s.host in ('0.0.0.0', '::') else s.host}:{s.port}/", flush=True)
    uvicorn.run("app.main:app", host=s.host, port=s.port, workers=s.workers, log_level="info", **uvicorn_options(s))


if __name__ == "__main__":
    main()
