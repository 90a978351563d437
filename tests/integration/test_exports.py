"""``app.integration`` is a lazy facade: its export list is complete and every name it promises imports."""

import re
from pathlib import Path

import pytest

import app.integration as integration

_SHARED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "integration-module.md"
SEED = _SHARED if _SHARED.exists() else Path(__file__).with_name("seed_blocks.md")
SEED_NAMES = {"PipelineFeedback", "FeedbackType", "ModelLifecycle", "ModelStage", "P2PIntegration"}


def test_export_list_is_sorted_and_matches_dir():
    assert integration.__all__ == sorted(integration.__all__)
    assert dir(integration) == integration.__all__
    assert SEED_NAMES | {"Recommendation"} <= set(integration.__all__)


def test_seed_imports_are_all_exported():
    imported = set()
    for line in re.findall(r"^from app\.integration import (.+)$", SEED.read_text(), re.MULTILINE):
        imported |= {name.strip() for name in line.split(",")}
    assert imported and imported <= set(integration.__all__)


@pytest.mark.parametrize("name", integration.__all__)
def test_every_export_imports(name):
    value = getattr(integration, name)  # imports the module that holds it
    assert value is not None and getattr(integration, name) is value


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        integration.Nope  # noqa: B018
