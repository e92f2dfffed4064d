"""An int8 copy (training/quantization.py) is named in the spec and made by the loader from float weights."""

import pytest

from training.artifacts import ArtifactError, load_model, torch_artifact
from training.architectures import build_model
from training.quantization import check_quantization, is_quantized

SPEC = {"architecture": "mlp", "input": {"kind": "tabular", "numeric": [{"name": "a", "mean": 0.0, "std": 1.0},
                                                                          {"name": "b", "mean": 0.0, "std": 1.0}],
                                         "categorical": []},
        "params": {"in_features": 2, "hidden": [4], "n_classes": 2}, "classes": [0, 1]}


def test_the_loader_quantizes_the_linear_layers_of_a_spec_that_asks_for_it():
    float_model = build_model(SPEC)
    loaded = load_model(torch_artifact(float_model), spec={**SPEC, "quantization": "dynamic-int8"})
    assert loaded.quantized and is_quantized(loaded.spec)
    kinds = {type(m).__module__ for m in loaded.module.modules()}
    assert any(k.startswith("torch.ao.nn.quantized") for k in kinds)
    assert not load_model(torch_artifact(float_model), spec=SPEC).quantized


def test_an_unknown_quantization_is_refused_naming_the_allowed_one():
    with pytest.raises(ArtifactError) as refused:
        load_model(torch_artifact(build_model(SPEC)), spec={**SPEC, "quantization": "int4"})
    assert refused.value.field == "spec"
    assert "'quantization' must be one of: dynamic-int8 (got 'int4')" in str(refused.value)
    assert check_quantization(SPEC) is None
