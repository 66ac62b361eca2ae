"""Settings every test process shares.

Starlette's TestClient sends ``Host: testserver``, a name the server does not answer to by default
(app.core.hosts); the test process allows it, as Django's test runner adds 'testserver' to
ALLOWED_HOSTS. Real servers the tests start inherit it, which changes nothing they check: the host
tests use other names and set LOSSLAB_ALLOWED_HOSTS themselves.
"""

import os

os.environ.setdefault("LOSSLAB_ALLOWED_HOSTS", '["testserver"]')
