"""Packages with lazy facades (``app.core.lazy``): every listed name imports, and importing a stage's config module
does not load the stage (torch, numba)."""

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["app.selfplay", "app.training", "app.evaluation", "app.nn", "app.integration"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_listed_name_imports_and_dir_lists_them(package):
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__) == dir(module)
    for name in module.__all__:
        value = getattr(module, name)
        assert getattr(module, name) is value  # kept after the first lookup
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'Nope'"):
        module.Nope  # noqa: B018


def test_a_config_module_imports_without_torch_or_numba():
    code = (
        "import sys; import app.selfplay.config, app.training.config, app.evaluation.config; "
        "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
