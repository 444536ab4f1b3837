"""The HTTP plumbing under alpaca-py: a timeout on every request, no SDK retries, our backoff,
the environment read once per session, and a session that does only what the SDK's calls need.
(The threads the SDK's blocking calls run on are in alpaca_threads.py.)

alpaca-py private attributes relied on (pinned by tests/unit/adapters/test_alpaca_sdk_surface.py):
`RESTClient._session` (the `requests.Session` every call goes through, replaced here) and the
one way it is called (`request(method, url, headers=..., allow_redirects=False, params=... or
json=...)`), `RESTClient._retry` and `RESTClient._retry_codes` (its blocking 3 s retry on
429/504, switched off here), `RESTClient._base_url` (the one host its session talks to).
"""

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import requests
from alpaca.common.rest import RESTClient
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies


class _TimeoutAdapter(HTTPAdapter):
    """Supplies `timeout_s` to every request sent without an explicit timeout (alpaca-py sends
    none, so a stalled server would otherwise block the call forever)."""

    def __init__(self, timeout_s: float, pool_size: int) -> None:
        # urllib3 never resends anything behind our back; one kept connection per thread.
        super().__init__(max_retries=0, pool_maxsize=pool_size)
        self._timeout_s = timeout_s

    def send(  # noqa: PLR0917 (the signature of the method it overrides)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout_s if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


class SdkSession(requests.Session):
    """The session under an alpaca-py client. The SDK calls it one way only:
    `request(method, url, headers=..., allow_redirects=False, params=... or json=...)`. This
    prepares that request from the session's headers and the call's and sends it through the
    mounted adapter (our timeout, no urllib3 retries), then reads the body as `Session.send`
    does. It skips the generic work `Session.request` does on every call that the SDK never
    uses: cookie jars (Alpaca authenticates with the key headers), hooks, redirects (the SDK
    refuses them) and settings merges (settled once, see `_settle_environment`). That work
    was a fifth of an SDK call's CPU (0.54 -> 0.42 ms here), over 200 calls in a 100-item plan.
    Any other argument is refused, so an SDK that starts using one fails loudly."""

    def request(  # type: ignore[override]  # narrower on purpose: only the SDK's one call shape
        self,
        method: str,
        url: str | bytes,
        *,
        headers: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        if allow_redirects:
            raise ValueError("the SDK session does not follow redirects")
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, headers=merged, params=params, json=json)
        adapter = self.get_adapter(prepared.url or "")
        response = adapter.send(
            prepared, stream=False, verify=self.verify, cert=self.cert, proxies=self.proxies
        )
        response.content  # noqa: B018 (read the body now, so the connection goes back)
        return response


def prepare_sdk_client(
    client: RESTClient, timeout_s: float, *, pool_size: int = DEFAULT_POOLSIZE
) -> requests.Session:
    """Switch off the SDK's blocking retry and give every request `timeout_s`; put an
    `SdkSession` under the client, keeping up to `pool_size` connections per host (one per
    thread that may call at once, so none is opened anew for each request); settle the
    environment's HTTP settings once. Returns the session so the owner can close it."""
    if timeout_s <= 0:
        raise ValueError(f"timeout must be positive, got {timeout_s}")
    client._retry = 0
    client._retry_codes = []
    client._session.close()  # the SDK's own, unused: nothing was sent through it yet
    session = client._session = SdkSession()
    for prefix in ("https://", "http://"):
        session.mount(prefix, _TimeoutAdapter(timeout_s, pool_size))
    _settle_environment(session, _base_url(client))
    return session


def _settle_environment(session: requests.Session, base_url: str) -> None:
    """What requests would take from the environment for `base_url` (proxies, unless no_proxy
    bypasses the host; a CA bundle from REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE), set on the
    session once; then the session stops reading the environment. Otherwise requests walks
    the environment variables and looks for ~/.netrc on every request: a fifth of the CPU of
    an SDK call with a Lambda-sized environment (0.54 -> 0.44 ms here), hundreds of calls per
    plan. A netrc login is not carried over: Alpaca authenticates with the key headers
    alpaca-py sends."""
    session.proxies.update(get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _base_url(client: RESTClient) -> str:
    base = client._base_url
    return str(base.value) if isinstance(base, Enum) else str(base)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` requests at most; before attempt n+1 wait a jittered delay growing as
    base * 2**(n-1), capped at `cap_s`."""

    attempts: int
    base_s: float
    cap_s: float

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")


def backoff_delay(policy: RetryPolicy, failures: int, rng: random.Random) -> float:
    """Seconds to wait after `failures` consecutive failures (>= 1): "equal jitter", a random
    point in [d/2, d] with d = min(cap, base * 2**(failures-1)). Half the delay is guaranteed,
    so a 429 storm is not hammered; the random half spreads concurrent retries apart."""
    if failures < 1:
        raise ValueError(f"failures must be at least 1, got {failures}")
    grown = policy.base_s * 2.0 ** min(failures - 1, 62)
    ceiling = min(policy.cap_s, grown)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
