import json

from typer.testing import CliRunner

from app.cli import app

from .conftest import TINY_NET, write_random_shards

runner = CliRunner()


def test_zeroloop_train_trains_and_reports(settings):
    write_random_shards(settings, shards=1, games=6)
    args = ["train", "hex5_2p", "-e", "2", "-b", "32", "--scratch", "-o", "hex5_2p_v1"]
    args += ["--set", f"net={json.dumps(TINY_NET)}", "--set", "validation_fraction=0.2", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["model_id"] == "hex5_2p_v1" and len(body["history"]) == 2
    assert "val/policy_loss" in body["final"]

    table = runner.invoke(app, [*args[:-1], "--set", "resume=true"])
    assert table.exit_code == 0, table.output
    assert "trained" in table.output and "train/policy_loss" in table.output


def test_bad_options_are_clear_errors(settings):
    result = runner.invoke(app, ["train", "hex5_2p", "--set", "epochz=3"])
    assert result.exit_code != 0
    assert "epochz" in str(result.exception)
    result = runner.invoke(app, ["train", "hex5_2p", "--scratch"])
    assert "no training shards for hex5_2p" in str(result.exception)
