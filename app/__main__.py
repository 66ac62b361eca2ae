"""`python -m app`: serve Loss Lab with uvicorn, configured from the environment."""

import uvicorn

from app.core.config import get_settings


def main() -> None:
    s = get_settings()
    print(f"Loss Lab: open http://{'127.0.0.1' if s.host in ('0.0.0.0', '::') else s.host}:{s.port}/", flush=True)
    uvicorn.run("app.main:app", host=s.host, port=s.port, workers=s.workers, log_level="info",
                # Above the app's own limit, so an oversized message gets an 'error' reply, not a dropped socket.
                ws_max_size=max(4 * s.max_body_bytes, 1 << 20))


if __name__ == "__main__":
    main()
