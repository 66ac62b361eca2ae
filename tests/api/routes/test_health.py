"""GET /healthz."""


def test_healthz_says_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_healthz_carries_security_headers(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self';" in r.headers["content-security-policy"]


def test_unknown_path_is_a_json_404(client, strict_json):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404
    assert strict_json(r.text)["message"] == "Not Found"
