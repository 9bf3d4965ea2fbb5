"""The maintainers' pieces that let full mode run offline: the epochs override and the stand-ins' guards."""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.config import CourseSetupError, settings
from helpers.instructor import standin

ROOT = Path(__file__).resolve().parents[1]


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


def test_standins_never_go_into_a_keras_home_with_real_files(tmp_path):
    home = tmp_path / "keras"
    (home / "models").mkdir(parents=True)
    real = home / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    real.write_bytes(b"real weights")
    for write in (lambda: standin.write_standin_weights(home, tmp_path),
                  lambda: standin.make_keras_home(home, tmp_path), lambda: standin.claim_keras_home(home)):
        with pytest.raises(ValueError, match="did not make"):
            write()
    assert real.read_bytes() == b"real weights" and not (home / standin.OWNED).exists()


def test_a_keras_home_of_its_own_is_claimed_once_and_reused(tmp_path):
    fresh, empty = tmp_path / "fresh", tmp_path / "empty"
    empty.mkdir()
    for home in (fresh, empty):
        assert standin.claim_keras_home(home) == home and (home / standin.OWNED).is_file()
        (home / "models").mkdir()
        (home / "models" / "standin.h5").write_bytes(b"ours")
        assert standin.claim_keras_home(home) == home  # what it wrote there is its own: writing again is fine


def test_nothing_imports_the_standins_from_tests():
    """The benchmarks and the tests share helpers/instructor/standin.py: nobody reaches into tests/ for it."""
    assert not (ROOT / "tests" / "standin.py").exists()
    offenders = [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("benchmarks/*.py"))
                 if 'ROOT / "tests"' in p.read_text() or "import standin" in p.read_text()]
    assert not offenders, f"{offenders} reach into tests/ for the stand-ins"


def test_importing_the_standins_loads_no_keras():
    code = "import sys, helpers.instructor.standin\nprint('keras' in sys.modules, 'tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.split() == ["False", "False"], result.stdout + result.stderr
