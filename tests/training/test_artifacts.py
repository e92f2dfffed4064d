"""Artifact safety: formats are recognised by content, and a pickle is never unpickled."""

import io
import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from training.architectures import build_model
from training.artifacts import (
    ACCEPTED_FORMATS,
    ArtifactError,
    detect_format,
    load_model,
    skops_artifact,
    torch_artifact,
)
from training.recipes import digits_cnn_spec


class Boom:
    """Unpickling this would create a marker file: proof of code execution."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickle_payload(marker) -> bytes:
    return pickle.dumps(Boom(str(marker)))


def test_a_pickle_payload_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle_payload(marker)
    with pytest.raises(ArtifactError) as err:
        load_model(payload, spec=digits_cnn_spec())
    assert str(err.value) == ACCEPTED_FORMATS
    assert not marker.exists()
    # The test is meaningful: unpickling the same bytes does run code.
    pickle.loads(payload)
    assert marker.exists()


@pytest.mark.parametrize("wrap", ["torch.save", "zip-without-schema", "garbage", "empty-json-header"])
def test_other_formats_are_refused_with_the_accepted_formats(tmp_path, wrap):
    marker = tmp_path / "pwned"
    if wrap == "torch.save":
        buf = io.BytesIO()
        torch.save({"x": Boom(str(marker))}, buf)  # .pt files are zip+pickle
        data = buf.getvalue()
    elif wrap == "zip-without-schema":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("data.pkl", pickle_payload(marker))
        data = buf.getvalue()
    elif wrap == "garbage":
        data = b"\x00" * 64
    else:
        data = (5).to_bytes(8, "little") + b"nope!"
    with pytest.raises(ArtifactError, match="Accepted model formats"):
        detect_format(data)
    assert not marker.exists()


def test_torch_round_trip_through_safetensors_and_spec():
    spec = digits_cnn_spec()
    model = build_model(spec)
    handle = load_model(torch_artifact(model), spec=json.dumps(spec))
    frame = pd.DataFrame(np.zeros((3, 64)), columns=[f"pixel_{i}" for i in range(64)])
    assert handle.predict_proba(frame).shape == (3, 10)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, handle.module.state_dict()[name])


def test_an_architecture_outside_the_allowlist_is_refused():
    spec = {**digits_cnn_spec(), "architecture": "os.system"}
    with pytest.raises(ArtifactError, match="Unknown architecture 'os.system'"):
        load_model(torch_artifact(build_model(digits_cnn_spec())), spec=spec)


def test_weights_that_do_not_fit_the_spec_are_refused():
    spec = digits_cnn_spec()
    other = {**spec, "params": {**spec["params"], "hidden": 32}}
    with pytest.raises(ArtifactError, match="do not fit the architecture spec"):
        load_model(torch_artifact(build_model(spec)), spec=other)


def test_safetensors_without_a_spec_is_refused():
    with pytest.raises(ArtifactError, match="needs a JSON architecture spec"):
        load_model(torch_artifact(build_model(digits_cnn_spec())), spec=None)


def test_skops_model_loads_with_trusted_types_only():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    handle = load_model(skops_artifact(LogisticRegression().fit(X, y)))
    assert handle.format == "skops"
    assert handle.predict_proba(X).shape == (40, 2)


def test_skops_file_with_an_untrusted_type_is_refused():
    from sklearn.neighbors import KNeighborsClassifier

    X = np.arange(20, dtype=float).reshape(10, 2)
    data = skops_artifact(KNeighborsClassifier(n_neighbors=1).fit(X, [0, 1] * 5))
    with pytest.raises(ArtifactError, match="not on the trusted list"):
        load_model(data)
