import pytest
from pydantic import ValidationError

from app.core.config import Settings


def test_default_database_is_sqlite_inside_home(tmp_path):
    s = Settings(home=tmp_path)
    assert s.db_url == f"sqlite:///{tmp_path.resolve() / 'zeroloop.db'}"
    assert s.is_sqlite


def test_home_comes_from_environment(home):
    assert Settings().home == home


def test_public_bind_without_token_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="set a token"):
        Settings(home=tmp_path, host="0.0.0.0")
    assert Settings(home=tmp_path, host="0.0.0.0", token="s3cret").token == "s3cret"
    assert Settings(home=tmp_path, host="::1").host == "::1"


@pytest.mark.parametrize("token", ["", " ", "\t\n"])
def test_blank_token_is_refused(tmp_path, token):
    with pytest.raises(ValidationError, match="token is blank"):
        Settings(home=tmp_path, host="0.0.0.0", token=token)
