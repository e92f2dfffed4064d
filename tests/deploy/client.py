"""The stdlib pipeline client, loaded once from its file for the tests (deploy/ci/ is not a
package: pipelines copy the one file)."""

import importlib.util
import pathlib

CLIENT = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "ci" / "gate_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gate_check", CLIENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gate_check = _load()
