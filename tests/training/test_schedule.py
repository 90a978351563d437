import pytest
import torch

from app.training.schedule import lr_factor, make_scheduler


@pytest.mark.parametrize("total", [1, 2, 3, 10, 1000])
@pytest.mark.parametrize("kind", ["cosine", "onecycle", "constant"])
def test_schedules_are_defined_for_any_length(kind, total):
    f = lr_factor(kind, total_steps=total, warmup_fraction=0.3, final_lr_fraction=0.05)
    values = [f(s) for s in range(total + 1)]
    assert all(0 < v <= 1 for v in values)


def test_cosine_warms_up_peaks_and_decays_to_the_final_fraction():
    f = lr_factor("cosine", total_steps=100, warmup_fraction=0.1, final_lr_fraction=0.05)
    assert f(0) < f(5) < f(9) <= 1
    assert f(10) == pytest.approx(1.0)
    assert f(99) == pytest.approx(0.05)
    assert all(f(s) >= f(s + 1) for s in range(10, 99))


def test_onecycle_rises_then_falls_far_below_the_start():
    f = lr_factor("onecycle", total_steps=100, warmup_fraction=0.3, final_lr_fraction=0.05)
    assert f(0) == pytest.approx(1 / 25)
    assert f(30) == pytest.approx(1.0)
    assert f(100) == pytest.approx(1 / 25 / 1e4)
    assert all(f(s) <= f(s + 1) for s in range(30)) and all(f(s) >= f(s + 1) for s in range(30, 100))


def test_scheduler_drives_the_optimizer_and_rejects_unknown_kinds():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = make_scheduler(opt, "constant", total_steps=10, warmup_fraction=0.0, final_lr_fraction=0.0)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="valid: cosine, onecycle, constant"):
        lr_factor("step", total_steps=10, warmup_fraction=0, final_lr_fraction=0)
