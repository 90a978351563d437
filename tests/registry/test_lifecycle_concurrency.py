from tests.registry.lifecycle_race import check_race_outcome, race_promotions


def test_concurrent_promotions_leave_exactly_one_production_model(home):
    model_ids = race_promotions(processes=4, models_per_process=3)
    check_race_outcome(model_ids)
