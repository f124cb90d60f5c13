"""Talking to a ``modeltune serve`` from Python: the REST API as methods that raise modeltune's errors.

For a laptop without access to the team's database: the same operations as the command line, with
the same one-sentence errors (``NotFoundError``, ``ConflictError``, ``SpecError``), over HTTP.

    from modeltune.web.client import Client

    server = Client("http://tuning.example:8600", token="...")
    server.create(spec)                         # a spec dict, as in a spec file
    server.describe("digits-random")["BestTrainingJob"]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modeltune.errors import ConflictError, ModeltuneError, NotFoundError, SpecError, StoreError
from modeltune.extras import require

_ERRORS: dict[int, type[ModeltuneError]] = {404: NotFoundError, 409: ConflictError, 422: SpecError, 503: StoreError}


class Client:
    """A modeltune server at ``url`` (``token``: the server's ``--token``, sent as a bearer header)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0):
        httpx = require("httpx", "server", "talking to a modeltune server needs")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/") + "/api/v1", headers=headers, timeout=timeout)
        self.url = url

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code == 204:
            return None
        return response.json() if "json" in response.headers.get("content-type", "") else response.text

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The server's answer; its refusals raised as modeltune's errors."""
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ModeltuneError(f"cannot reach the modeltune server at {self.url} ({exc}); check the URL") from None
        if response.status_code >= 400:
            detail = response.json().get("detail") if "json" in response.headers.get("content-type", "") else None
            if isinstance(detail, list) and detail:
                detail = detail[0].get("msg")
            message = str(detail or f"the server answered {response.status_code} {response.reason_phrase}")
            raise _ERRORS.get(response.status_code, ModeltuneError)(message)
        return response

    def create(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create and start a tuning job from a spec dict; returns its description."""
        described: dict[str, Any] = self._call("POST", "/tuning-jobs", json=spec)
        return described

    def list_jobs(self, status: str | None = None, name_prefix: str | None = None) -> list[dict[str, Any]]:
        """Every tuning job (all pages), newest first, optionally filtered."""
        params = {k: v for k, v in (("status", status), ("name_prefix", name_prefix)) if v}
        return list(self._pages("/tuning-jobs", "HyperParameterTuningJobSummaries", params))

    def describe(self, name: str) -> dict[str, Any]:
        """The tuning job's description (SageMaker's DescribeHyperParameterTuningJob names)."""
        described: dict[str, Any] = self._call("GET", f"/tuning-jobs/{name}")
        return described

    def training_jobs(self, name: str, sort_by: str = "number") -> list[dict[str, Any]]:
        """Every training job of the tuning job (all pages), by objective, number or time."""
        return list(self._pages(f"/tuning-jobs/{name}/training-jobs", "TrainingJobSummaries", {"sort_by": sort_by}))

    def log(self, name: str, training_job: str, tail: int | None = None) -> str:
        """A training job's log (by name or number), or its last ``tail`` lines."""
        params = {} if tail is None else {"tail": tail}  # an empty tail= would be refused as not a number
        text: str = self._call("GET", f"/tuning-jobs/{name}/training-jobs/{training_job}/log", params=params)
        return text

    def log_from(self, name: str, training_job: str, offset: int) -> tuple[str, int]:
        """A training job's log from byte ``offset`` on, and the offset to continue from (to follow it)."""
        path = f"/tuning-jobs/{name}/training-jobs/{training_job}/log"
        response = self._request("GET", path, params={"offset": offset})
        return response.text, int(response.headers["X-Log-Offset"])

    def training_job(self, name: str, training_job: str) -> dict[str, Any]:
        """One training job (by name or number) with every metric it emitted."""
        described: dict[str, Any] = self._call("GET", f"/tuning-jobs/{name}/training-jobs/{training_job}")
        return described

    def stop(self, name: str) -> str:
        """Ask the tuning job to stop; returns its status (Stopping, or Stopped)."""
        return str(self._call("POST", f"/tuning-jobs/{name}/stop")["HyperParameterTuningJobStatus"])

    def resume(self, name: str, max_jobs: int | None = None) -> str:
        """Continue an ended or interrupted tuning job, optionally with a larger budget; returns its status."""
        body = {"MaxNumberOfTrainingJobs": max_jobs}
        return str(self._call("POST", f"/tuning-jobs/{name}/resume", json=body)["HyperParameterTuningJobStatus"])

    def delete(self, name: str) -> str | None:
        """Delete an ended tuning job with its logs and models; None, or a line naming the models left."""
        left: str | None = self._request("DELETE", f"/tuning-jobs/{name}").headers.get("X-Warning")
        return left

    def spec(self, name: str) -> dict[str, Any]:
        """The tuning job's spec, ready to edit and create a new job from."""
        spec: dict[str, Any] = self._call("GET", f"/tuning-jobs/{name}/spec")
        return spec

    def _pages(self, path: str, key: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            page = self._call("GET", path, params={**params, "max_results": 1000, "next_token": token})
            yield from page[key]
            token = page["NextToken"]
            if token is None:
                return

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
