"""``app.registry`` is the registry's public facade: its export list is complete and the seed's names are it."""

import app.integration as integration
import app.registry as registry


def test_export_list_is_complete():
    assert len(registry.__all__) == len(set(registry.__all__))
    public = {name for name in vars(registry) if not name.startswith("_")}
    modules = {"checks", "lifecycle", "load", "paths", "policy", "store", "types"}
    assert public - modules == set(registry.__all__)


def test_the_seed_facade_hands_out_the_registry_types():
    assert integration.ModelLifecycle is registry.ModelLifecycle
    assert integration.ModelStage is registry.ModelStage
    assert integration.PromotionPolicy is registry.PromotionPolicy
