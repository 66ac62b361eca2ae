"""Fast JSON responses: orjson serializes numpy arrays directly and never writes NaN or Infinity."""

from typing import Any

import orjson
from starlette.responses import Response


def dumps(content: Any) -> bytes:
    # orjson writes non-finite floats as null, so no response can carry NaN or Infinity.
    return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
