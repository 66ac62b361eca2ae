"""POST /api/render (the page's Record button) and the frame-ancestors policy of LOSSLAB_FRAME_ANCESTORS."""

import io

import pytest

from app.core.security import SecurityHeadersMiddleware, frame_ancestors, security_headers

pytest.importorskip("imageio_ffmpeg", reason="losslab[video] is not installed")

LINK = "#s=quadratic:lambda_1=1,lambda_2=20,rotation=30&o=gd:lr=0.02&start=-2,-0.5&steps=12&seed=0&embed=contour"


def test_render_says_it_is_available(client):
    r = client.get("/api/render")
    assert r.status_code == 200
    assert r.json() == {"available": True, "message": None, "formats": ["gif", "mp4", "webm"], "max_frames": 600}


def test_render_returns_a_gif_of_one_frame_per_step(client):
    from PIL import Image

    r = client.post("/api/render", json={"link": LINK, "format": "gif", "fps": 25, "width": 320, "height": 180})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/gif"
    assert r.headers["content-disposition"] == 'attachment; filename="losslab-race.gif"'
    assert r.headers["x-losslab-frames"] == "13"
    with Image.open(io.BytesIO(r.content)) as im:
        assert (im.n_frames, im.size, im.info["duration"]) == (13, (320, 180), 40)


@pytest.mark.parametrize("body, field, message", [
    ({"link": LINK, "fps": 0}, "fps", "greater than or equal to 1"),
    ({"link": LINK, "width": 5000}, "width", "less than or equal to 1920"),
    ({"link": LINK, "format": "avi"}, "format", "'gif', 'mp4' or 'webm'"),
    ({"link": LINK, "format": "mp4", "width": 321}, "", "size = 321x720 is not allowed for .mp4: video needs an even"),
    ({"link": "#s=custom&o=gd:lr=0.1&f=%E0%A4%A"}, "link", "link"),
])
def test_render_refuses_bad_requests_naming_the_field(client, body, field, message):
    r = client.post("/api/render", json=body)
    assert r.status_code == 422, r.text
    assert message in r.json()["message"]
    assert r.json()["message"].startswith(field)


def test_frame_ancestors_accepts_origins_and_refuses_anything_else():
    assert frame_ancestors("'self' http://127.0.0.1:8888, https://*.example.edu") == \
        "'self' http://127.0.0.1:8888 https://*.example.edu"
    for bad in ("*", "https://a.edu; script-src *", "javascript:", "'none' 'self'", "https://a.edu/path?x"):
        with pytest.raises(ValueError, match="LOSSLAB_FRAME_ANCESTORS"):
            frame_ancestors(bad)


@pytest.mark.parametrize("value, csp, xfo", [
    ("'self'", "frame-ancestors 'self';", "SAMEORIGIN"),
    ("'none'", "frame-ancestors 'none';", "DENY"),
    ("'self' https://course.example.edu", "frame-ancestors 'self' https://course.example.edu;", None),
])
def test_the_headers_follow_the_setting(value, csp, xfo):
    headers = {k.decode(): v.decode() for k, v in security_headers(value)}
    assert csp in headers["content-security-policy"]
    assert headers.get("x-frame-options") == xfo
    assert SecurityHeadersMiddleware(None, value).headers == security_headers(value)
