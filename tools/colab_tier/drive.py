"""One chapter in the rebuilt runtime: a kernel started like Colab's, the set-up cell run as written
with PyPI reachable, then the rest of the notebook under the offline profile with only loopback.

``run_chapter`` (in this repository's Python) prepares the chapter's environment and starts
``drive`` in the base environment's Python, which has nbclient at Colab's version; ``drive`` writes
what it saw to a JSON report that ``run_chapter`` reads back.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.colab_tier.common import ROOT, run_logged, say
from tools.colab_tier.environment import (
    distribution_modules,
    freeze,
    fresh_copy,
    offline_extras,
    tree_state,
    venv_python,
)
from tools.colab_tier.freeze import (
    COLOUR,
    FreezeDiff,
    diff_freeze,
    installed_from_output,
    parse_conflicts,
    parse_freeze,
    restart_triggers,
)
from tools.hermetic import OFFLINE_ENV, SECRET_NAME
from tools.llama_build import WHEEL_CACHE_VAR

# The set-up cell, as the notebook standard writes it (tools/notebooks.py): the first cell after the title.
SETUP_INDEX = 1


@dataclass
class ChapterResult:
    notebook: str
    setup_seconds: float = 0.0
    setup_error: str | None = None
    diff: FreezeDiff = field(default_factory=FreezeDiff)
    conflicts: list[str] = field(default_factory=list)
    restart: dict[str, list[str]] = field(default_factory=dict)
    colab_prompt: dict[str, list[str]] = field(default_factory=dict)
    passed: bool = False
    error: str | None = None
    notebook_seconds: float = 0.0
    base_untouched: bool | None = None
    offline_extras: list[tuple[str, str]] = field(default_factory=list)  # (name, version) the tier added after set-up
    setup_output_tail: str = ""
    llama_wheel_reused: bool = False
    llama_cold: bool = False  # run with an empty wheel cache (--cold-llama)
    llama_timings: list[str] = field(default_factory=list)  # tools/llama_build.py's "step b took 0.6 s" lines


# tools/llama_build.py says how long each step took ("... / step b took 0.6 s").
LLAMA_STEP_TIME = re.compile(r"step \S+ took [\d.]+ s")


# --------------------------------------------------------------------------- the kernel

def kernel_spec(folder: Path, env: Path, extra_env: dict[str, str]) -> Path:
    """A kernelspec that starts the environment's python like Colab's kernel: ``-m colab_kernel_launcher``."""
    spec = folder / "kernels" / "colab-tier"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(venv_python(env)), "-m", "colab_kernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab tier (Python 3.13)", "language": "python", "env": extra_env,
    }), encoding="utf-8")
    return folder


def kernel_environment(env: Path, secrets_file: Path | None) -> dict[str, str]:
    """The kernel's environment: like Colab (no profile set, no local credentials), offline Hub switches on."""
    kept = {name: value for name, value in os.environ.items()
            if not SECRET_NAME.search(name) and (name == "LLMBOOK_CACHE" or not name.startswith(
                ("LLMBOOK_", "PYTHON", "VIRTUAL_ENV", "JPY_", "JUPYTER_", "MPLBACKEND")))}
    # pip as Colab has it: PyPI only, none of this machine's pip configuration (extra indexes, local
    # wheel folders, constraints); only the certificate bundle stays, it changes what is trusted, not what is installed.
    for name in [name for name in kept if name.startswith("PIP_") and name != "PIP_CERT"]:
        del kept[name]
    kept["PIP_CONFIG_FILE"] = os.devnull
    kept["PATH"] = os.pathsep.join([str(env / "bin"), kept.get("PATH", "/usr/bin:/bin")])
    kept["VIRTUAL_ENV"] = str(env)
    kept.update(OFFLINE_ENV)
    kept["COLAB_RELEASE_TAG"] = "llmbook-colab-tier"  # Colab sets this; some libraries look for it
    if secrets_file:
        kept["LLMBOOK_COLAB_SECRETS"] = str(secrets_file)
    return kept


# --------------------------------------------------------------------------- one chapter (this repository's Python)

def run_chapter(notebook: Path, base: Path, work: Path, clone: Path, timeout: int,
                secrets_file: Path | None, check_base: bool, cold_llama: bool = False) -> ChapterResult:
    relative = notebook.relative_to(ROOT).as_posix()
    result = ChapterResult(notebook=relative)
    env = fresh_copy(base, work / "env")
    before_state = tree_state(base) if check_base else None
    before = freeze(env)
    spec_dir = kernel_spec(work / "jupyter", env, {})
    report = work / "report.json"
    report.unlink(missing_ok=True)
    # The driver (nbclient) runs in the base environment; the kernel it starts, in the chapter's copy.
    # ROOT goes on the driver's sys.path, not on PYTHONPATH, which the kernel would inherit.
    launcher = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tools.colab_tier import main; "
                "sys.exit(main(sys.argv[1:]))")
    command = [venv_python(base), "-c", launcher, "_drive", "--notebook", clone / relative,
               "--report", report, "--timeout", timeout, "--hermetic-site", clone / "tests" / "hermetic",
               "--workdir", clone.parent, "--env", env, "--extras", *offline_extras()]
    driver_env = kernel_environment(env, secrets_file)
    driver_env["JUPYTER_PATH"] = str(spec_dir)
    if cold_llama:  # no wheel built earlier: the llama step downloads or builds as on a fresh runtime
        driver_env[WHEEL_CACHE_VAR] = str(work / "wheels-cold")
        result.llama_cold = True
    driver_env["PATH"] = os.pathsep.join([str(env / "bin"), os.environ.get("PATH", "/usr/bin:/bin")])
    say(f"{relative}: kernel in {env}")
    process = run_logged(command, quiet=True, cwd=work, env=driver_env)
    if not report.exists():
        result.error = f"driver failed (exit {process.returncode}): {process.stderr[-2000:]}"
        return result
    data = json.loads(report.read_text(encoding="utf-8"))
    result.setup_seconds = data["setup_seconds"]
    result.setup_error = data["setup_error"]
    result.passed = data["error"] is None and data["setup_error"] is None
    result.error = data["error"]
    result.notebook_seconds = data["notebook_seconds"]
    result.setup_output_tail = data["setup_output"][-4000:]
    result.llama_wheel_reused = "[llama_build] reusing" in data["setup_output"]
    result.llama_timings = LLAMA_STEP_TIME.findall(data["setup_output"])
    after_setup = parse_freeze(data["freeze_after_setup"]) if data["freeze_after_setup"] else freeze(env)
    result.diff = diff_freeze(before, after_setup)
    result.offline_extras = diff_freeze(after_setup, freeze(env)).added
    result.conflicts = parse_conflicts(data["setup_output"])
    modules = distribution_modules(env)
    result.restart = restart_triggers(result.diff.changed(), data["preloaded"], modules)
    # What Colab itself would show: it reads pip's "Successfully installed" lines, which --quiet hides.
    result.colab_prompt = restart_triggers(installed_from_output(data["setup_output"]), data["preloaded"], modules)
    (work / f"{notebook.stem}.setup-output.txt").write_text(data["setup_output"], encoding="utf-8")
    if check_base:
        result.base_untouched = tree_state(base) == before_state
    return result


# --------------------------------------------------------------------------- the driver (the base environment's Python)

PRELUDE = """\
import sys as _colab_tier_sys, json as _colab_tier_json
_colab_tier_sys.stdout.flush()
print("COLAB_TIER_MODULES=" + _colab_tier_json.dumps(sorted(_colab_tier_sys.modules)))
"""

HERMETIC_ON = """\
import os as _colab_tier_os, sys as _colab_tier_sys, importlib, importlib.util as _colab_tier_util
importlib.invalidate_caches()  # packages installed since the kernel started (the offline-only extras)
_colab_tier_os.environ.update({offline!r})
_colab_tier_os.environ["LLMBOOK_HERMETIC"] = "1"
_colab_tier_spec = _colab_tier_util.spec_from_file_location("_colab_tier_hermetic", {site!r})
_colab_tier_spec.loader.exec_module(_colab_tier_util.module_from_spec(_colab_tier_spec))
_colab_tier_os.environ["PYTHONPATH"] = _colab_tier_os.pathsep.join(
    filter(None, [{site_dir!r}, _colab_tier_os.environ.get("PYTHONPATH")]))
import socket as _colab_tier_socket
try:
    _colab_tier_socket.getaddrinfo("pypi.org", 443)
except OSError as _colab_tier_error:
    print("hermetic guard on:", _colab_tier_error)
else:
    raise RuntimeError("the hermetic guard did not switch on")
"""


def cell_text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])))
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
    return COLOUR.sub("", "".join(parts))


def first_error(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:500]
    return None


def drive(notebook: Path, report: Path, timeout: int, hermetic_site: Path, workdir: Path, env: Path,
          extras: list[str]) -> int:
    """Execute one notebook in the tier's kernel: the set-up cell online, then the rest offline and hermetic."""
    # Imported here: nbclient and nbformat are the base environment's (Colab's versions), not this repository's.
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(notebook, as_version=4)
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    for cell in nb.cells:
        cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs")
    # Colab's working directory is /content (the clone target's parent), not the chapter's folder.
    client = NotebookClient(nb, timeout=timeout, kernel_name="colab-tier", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    data = {"setup_seconds": 0.0, "setup_error": None, "error": None, "notebook_seconds": 0.0,
            "setup_output": "", "preloaded": [], "freeze_after_setup": "", "extras_output": ""}

    def run_code(source: str) -> str:
        cell = nbformat.v4.new_code_cell(source)
        client.execute_cell(cell, 0, store_history=False)
        return cell_text_outputs(cell)

    with client.setup_kernel():
        # The set-up cell: the network as on Colab (PyPI), LLMBOOK_PROFILE unset.
        modules_line = run_code(PRELUDE)
        data["preloaded"] = json.loads(modules_line.split("COLAB_TIER_MODULES=", 1)[1].splitlines()[0])
        if "google.colab" not in data["preloaded"]:  # the set-up cell would then do nothing at all
            raise RuntimeError("google.colab is not imported when the kernel starts: the kernel is not Colab-like")
        started = time.monotonic()
        try:
            client.execute_cell(nb.cells[SETUP_INDEX], SETUP_INDEX)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            data["setup_error"] = first_error(nb.cells[SETUP_INDEX]) or str(error).splitlines()[-1][:500]
        data["setup_seconds"] = round(time.monotonic() - started, 1)
        data["setup_output"] = cell_text_outputs(nb.cells[SETUP_INDEX])
        pip = [venv_python(env), "-m", "pip", "--disable-pip-version-check"]
        data["freeze_after_setup"] = run_logged(pip + ["freeze", "--all"], quiet=True).stdout
        if extras:  # what only the offline profile needs; not part of what the set-up cell changed
            installed = run_logged(pip + ["install", "--no-deps", *extras], quiet=True)
            data["extras_output"] = installed.stdout + installed.stderr
        started = time.monotonic()
        if data["setup_error"] is None:
            # The rest: offline profile, the Hub switched off, only loopback (tests/hermetic).
            run_code(HERMETIC_ON.format(offline={**OFFLINE_ENV, "LLMBOOK_PROFILE": "offline"},
                                        site=str(hermetic_site / "sitecustomize.py"), site_dir=str(hermetic_site)))
            for index in code_cells:
                if index <= SETUP_INDEX:
                    continue
                try:
                    client.execute_cell(nb.cells[index], index)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                    data["error"] = (f"cell {index} ({nb.cells[index].get('id', '?')}): "
                                     + (first_error(nb.cells[index]) or str(error).strip().splitlines()[-1][:500]))
                    break
        data["notebook_seconds"] = round(time.monotonic() - started, 1)
    report.write_text(json.dumps(data), encoding="utf-8")
    executed = report.with_name(notebook.stem + ".executed.ipynb")
    nbformat.write(nb, executed)
    return 0
