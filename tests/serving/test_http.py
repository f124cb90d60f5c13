"""The inference contract over real HTTP: content types, Accept, handler overrides, and errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from modeltune.errors import ServingError
from modeltune.serving.locate import locate_folder
from modeltune.serving.server import ServerProcess

from .support import SCRIPTS

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
ROWS = np.array([[1.5, 2.0, 3.0], [4.0, 5.0, 6.0]])


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


BODIES = {JSON: b"[[1.5, 2, 3], [4, 5, 6]]", CSV: b"1.5,2,3\n4,5,6\n", NPY: npy(ROWS)}
# httpx sends "Accept: */*" unless told otherwise; this client sends only the headers given.
client = httpx.Client(timeout=30)
del client.headers["accept"]


def served(tmp_path_factory: pytest.TempPathFactory, script: str) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("model")
    (folder / "model.txt").write_text("0.25")
    server = ServerProcess(locate_folder(folder, str(SCRIPTS / script)))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def doubler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from served(tmp_path_factory, "doubler.py")


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from served(tmp_path_factory, "custom.py")


@pytest.fixture(scope="module")
def transform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from served(tmp_path_factory, "transform.py")


def invoke(url: str, body: bytes, content_type: str | None, accept: str | None = None) -> httpx.Response:
    headers = {k: v for k, v in (("Content-Type", content_type), ("Accept", accept)) if v is not None}
    return client.post(f"{url}/invocations", content=body, headers=headers)


def decoded(response: httpx.Response) -> np.ndarray:
    kind = response.headers["content-type"].split(";")[0]
    if kind == JSON:
        return np.array(response.json())
    if kind == CSV:
        return np.loadtxt(io.StringIO(response.text), delimiter=",", ndmin=2)
    assert kind == NPY
    return np.load(io.BytesIO(response.content))


def test_ping_answers_200_with_the_model_loaded(doubler: str) -> None:
    assert httpx.get(f"{doubler}/ping").status_code == 200


@pytest.mark.parametrize("accept", [JSON, CSV, NPY])
@pytest.mark.parametrize("content_type", [JSON, CSV, NPY])
def test_every_content_type_in_and_out(doubler: str, content_type: str, accept: str) -> None:
    response = invoke(doubler, BODIES[content_type], content_type, accept)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    np.testing.assert_array_equal(decoded(response), ROWS * 2)


@pytest.mark.parametrize("accept", [None, "*/*", "", "text/html, */*;q=0.1"])
def test_a_missing_or_any_accept_answers_json(doubler: str, accept: str | None) -> None:
    response = invoke(doubler, BODIES[CSV], CSV, accept)

    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == [[3.0, 4.0, 6.0], [8.0, 10.0, 12.0]]


def test_accept_ranges_are_tried_by_weight(doubler: str) -> None:
    assert (
        invoke(doubler, BODIES[JSON], JSON, "application/json;q=0.5, text/csv").text == "3.0,4.0,6.0\n8.0,10.0,12.0\n"
    )
    assert invoke(doubler, BODIES[JSON], JSON, "text/*").headers["content-type"].startswith(CSV)
    assert invoke(doubler, BODIES[JSON], "application/json; charset=utf-8").json() == [[3.0, 4, 6], [8, 10, 12]]


def test_an_unsupported_accept_is_406_and_content_type_415(doubler: str) -> None:
    not_acceptable = invoke(doubler, BODIES[JSON], JSON, "image/png")
    unsupported = invoke(doubler, b"1 2 3", "text/plain", JSON)

    assert not_acceptable.status_code == 406
    assert "cannot answer in 'image/png'" in not_acceptable.text
    assert unsupported.status_code == 415
    assert unsupported.text.startswith("unsupported content type 'text/plain'; send Content-Type application/json")


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (JSON, b"[[1, 2", "the body is not valid application/json: Expecting"),
        (JSON, b"[[1, 2], [3]]", "the body is not valid application/json: setting an array element"),
        (CSV, b"1,2\n3,x\n", "the body is not valid text/csv: could not convert string 'x' to float64 at row 1"),
        (CSV, b"\xff\xfe1,2", "the text/csv body is not UTF-8 text"),
        (NPY, b"1,2,3", "the body is not valid application/x-npy: it does not start like a file written by"),
        (CSV, b"", "the request body is empty"),
    ],
)
def test_a_malformed_body_is_400_with_the_reason(doubler: str, content_type: str, body: bytes, message: str) -> None:
    response = invoke(doubler, body, content_type, JSON)

    assert response.status_code == 400
    assert response.text.startswith(message), response.text


def test_a_missing_content_type_means_json(doubler: str) -> None:
    assert invoke(doubler, b"[1, 2]", None).json() == [2, 4]


def test_input_predict_and_output_fn_replace_the_defaults(custom: str) -> None:
    response = invoke(custom, b"1 2 3", "text/plain", "*/*")

    assert response.status_code == 200
    assert response.text == "6 by the-model for application/json"
    assert response.headers["content-type"] == JSON  # output_fn returned a body only: the Accept type
    assert invoke(custom, b"4", "text/plain", "text/x-custom").text == "4 by the-model for text/x-custom"


def test_an_exception_in_user_code_is_500_with_its_message_and_the_server_lives_on(custom: str) -> None:
    failed = invoke(custom, b"1 -5", "text/plain")
    wrong_type = invoke(custom, b"[1]", JSON)
    after = invoke(custom, b"1 5", "text/plain")

    assert failed.status_code == 500
    assert failed.text == "ArithmeticError: the sum of [1, -5] is negative"
    assert wrong_type.status_code == 500
    assert wrong_type.text == "ValueError: custom.py reads text/plain, not application/json"
    assert (after.status_code, after.text) == (200, "6 by the-model for application/json")


def test_transform_fn_gets_text_for_json_and_csv_and_bytes_otherwise(transform: str) -> None:
    as_csv = invoke(transform, b"1,2", CSV, "text/csv")
    as_bytes = invoke(transform, b"\x00\x01", "application/octet-stream", None)

    assert as_csv.text == "the-model|text/csv|text/csv|str|1,2"
    assert as_csv.headers["content-type"].startswith("text/plain")
    assert as_bytes.text == "the-model|application/octet-stream|application/json|bytes|b'\\x00\\x01'"


def test_only_the_two_routes_answer(doubler: str) -> None:
    assert httpx.get(f"{doubler}/invocations").status_code == 405
    assert httpx.get(f"{doubler}/").status_code == 404


def test_the_server_refuses_a_script_whose_model_fn_raises(model_dir: Path) -> None:
    with pytest.raises(ServingError, match=r"cannot load the model \(model_fn failed: RuntimeError: the weights"):
        ServerProcess(locate_folder(model_dir, str(SCRIPTS / "broken.py")))


def test_a_server_that_dies_at_start_reports_its_exit_code_and_last_line(model_dir: Path) -> None:
    with pytest.raises(ServingError, match=r"^the model server exited with code 3 before answering /ping: giving up"):
        ServerProcess(locate_folder(model_dir, str(SCRIPTS / "exits.py")))
