"""The test-only pieces that let full mode run offline: the epochs override and the stand-in weights' guard."""

from pathlib import Path

import pytest
import standin

from helpers.config import CourseSetupError, settings


def test_test_epochs_override_changes_only_epochs(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "full")
    monkeypatch.delenv("COURSE_TEST_EPOCHS", raising=False)
    plain = settings()
    monkeypatch.setenv("COURSE_TEST_EPOCHS", "1,2")
    short = settings()
    assert (short.epochs, short.fine_tune_epochs) == (1, 2) != (plain.epochs, plain.fine_tune_epochs)
    assert short.__class__(**{**vars(short), "epochs": plain.epochs, "fine_tune_epochs": plain.fine_tune_epochs}) \
        == plain


@pytest.mark.parametrize("value", ["1", "a,b", "0,1", "1,2,3"])
def test_test_epochs_override_rejects_bad_values(monkeypatch, value):
    monkeypatch.setenv("COURSE_TEST_EPOCHS", value)
    with pytest.raises(CourseSetupError, match="COURSE_TEST_EPOCHS"):
        settings()


def test_standin_weights_never_go_into_the_users_cache(tmp_path):
    with pytest.raises(ValueError, match="never"):
        standin.write_standin_weights(Path.home() / ".keras", tmp_path)
