"""`python -m app`: serve Loss Lab with uvicorn, configured from the environment."""

import uvicorn

from app.core.config import get_settings


def main() -> None:
    s = get_settings()
    print(f"Loss Lab: open http://{'127.0.0.1' if s.host in ('0.0.0.0', '::') else s.host}:{s.port}/", flush=True)
    uvicorn.run("app.main:app", host=s.host, port=s.port, workers=s.workers, log_level="info",
                ws_max_size=s.max_body_bytes)


if __name__ == "__main__":
    main()
