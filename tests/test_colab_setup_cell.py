"""The Colab set-up cell (tools/notebooks.py), run from the notebooks themselves.

* The clone fails fast and says why: no credential prompt, and three distinct messages (repository not
  found, tag not found, no network), each naming the URL and what to do -- against a local bare repository
  (a missing tag), a loopback HTTP server answering 404 or 401 (a missing repository; GitHub answers 401),
  and a closed loopback port (no network).
* The cell's own steps, with IPython's ``!``/``%pip`` lines recorded instead of run: Colab's versions held
  by a constraints file, llama-cpp-python only where a profile uses it, and a ``.pth`` file that makes
  ``import llmbook`` and the chapter's helpers work in a fresh interpreter (Colab's restart).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from notebook_code import python_source

from tools.notebooks import COLAB_CLONE_DIR, COLAB_RELEASED, RELEASE, REPOSITORY, colab_released
from tools.run_notebooks import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
CH5 = "chapter05/chapter05_text_clustering_topic_modeling.ipynb"
CH7 = "chapter07/chapter07_langchain_llama_cpp.ipynb"
NOTEBOOKS = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("chapter*/*.ipynb"))



def setup_cell_definition(notebook: str, name: str):
    """A function the set-up cell defines, with the cell's own imports (the rest of the notebook not run)."""
    import ast

    tree = ast.parse(python_source(nbformat.read(ROOT / notebook, as_version=4).cells[1].source))
    body = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
            or (isinstance(node, ast.FunctionDef) and node.name == name)]
    namespace: dict = {}
    exec(compile(ast.Module(body=body, type_ignores=[]), notebook, "exec"), namespace)
    return namespace[name]


clone_helpers = setup_cell_definition(CH7, "clone_helpers")


# ---- the clone ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bare_repo(tmp_path_factory):
    """A bare repository holding llmbook/ at tag v1.0, reached through file:// (as git reaches GitHub)."""
    work = tmp_path_factory.mktemp("work")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    (work / "llmbook").mkdir()
    (work / "llmbook" / "__init__.py").write_text("")
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "helpers"], check=True)
    subprocess.run([*git, "-C", str(work), "tag", "v1.0"], check=True)
    bare = tmp_path_factory.mktemp("remote") / "hands-on-llm-zh-tw.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return f"file://{bare}"


class Refusing(BaseHTTPRequestHandler):
    status = 404

    def do_GET(self):
        self.send_response(self.status)
        if self.status == 401:  # what GitHub answers for a repository that is missing (or private)
            self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(params=[404, 401])
def missing_repo_url(request):
    handler = type("Handler", (Refusing,), {"status": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/llmbook-zh-tw/no-such-repo"
    server.shutdown()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/llmbook-zh-tw/hands-on-llm-zh-tw"


def failed_clone(url, tag, folder) -> str:
    started = time.monotonic()
    with pytest.raises(RuntimeError) as error:
        clone_helpers(url, tag, str(folder))
    assert time.monotonic() - started < 30  # no prompt, no hang
    assert not Path(folder, "llmbook").exists()
    message = str(error.value)
    assert url in message and " / " in message  # zh-TW, then English, as elsewhere
    print(message)
    return message


def test_the_release_tag_clones(bare_repo, tmp_path):
    clone_helpers(bare_repo, "v1.0", str(tmp_path / "clone"))
    assert (tmp_path / "clone" / "llmbook" / "__init__.py").exists()
    clone_helpers("http://127.0.0.1:9/never-asked", "v1.0", str(tmp_path / "clone"))  # already there: no git


def test_a_missing_tag_says_so(bare_repo, tmp_path):
    message = failed_clone(bare_repo, "v9.9", tmp_path / "clone")
    assert "沒有版本 v9.9" in message and "tag v9.9 not found" in message and "README" in message


def test_a_missing_repository_says_so_without_asking_for_a_password(missing_repo_url, tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_ASKPASS", raising=False)
    monkeypatch.delenv("SSH_ASKPASS", raising=False)
    message = failed_clone(missing_repo_url, RELEASE, tmp_path / "clone")
    assert "找不到儲存庫" in message and "repository" in message and "not found" in message
    assert "沒有版本" not in message and "沒有網路" not in message


def test_no_network_says_so(tmp_path):
    url = closed_port_url()
    message = failed_clone(url, RELEASE, tmp_path / "clone")
    assert "沒有網路" in message and "no network" in message
    assert "找不到儲存庫" not in message and "沒有版本" not in message


def test_the_three_messages_differ(bare_repo, tmp_path):
    messages = set()
    for url, tag in [(bare_repo, "v9.9"), (closed_port_url(), RELEASE)]:
        messages.add(failed_clone(url, tag, tmp_path / "c").split(" / ")[0])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/x"
        messages.add(failed_clone(url, RELEASE, tmp_path / "c").split(" / ")[0].replace(url, "URL"))
    finally:
        server.shutdown()
    assert len(messages) == 3


# ---- the rest of the cell, its shell lines recorded ----------------------------------------------

def run_setup_cell(notebook: str, tmp_path: Path, env: dict[str, str] | None = None) -> list[str]:
    """Execute the set-up cell as Colab would (google.colab imported), with the clone target already in
    place, ``site.getsitepackages()`` pointing at a temporary folder and IPython's shell lines recorded."""
    from IPython.core.inputtransformer2 import TransformerManager

    source = nbformat.read(ROOT / notebook, as_version=4).cells[1].source
    clone = tmp_path / "clone"
    clone.symlink_to(ROOT)  # the repository is "already cloned"
    code = TransformerManager().transform_cell(source.replace(COLAB_CLONE_DIR, str(clone)))
    shell: list[str] = []
    fake_ipython = types.SimpleNamespace(system=shell.append,
                                         run_line_magic=lambda name, line: shell.append(f"%{name} {line}"))
    colab = types.ModuleType("google.colab")
    userdata = types.SimpleNamespace(
        get=lambda name: (_ for _ in ()).throw(userdata.SecretNotFoundError(name)),
        SecretNotFoundError=type("SecretNotFoundError", (Exception,), {}),
        NotebookAccessError=type("NotebookAccessError", (Exception,), {}),
        TimeoutException=type("TimeoutException", (Exception,), {}))
    colab.userdata = userdata
    site_dir = tmp_path / "site-packages"
    site_dir.mkdir()
    saved_path = list(sys.path)
    saved_env = dict(os.environ)
    import site

    real = site.getsitepackages
    sys.modules["google.colab"] = colab
    site.getsitepackages = lambda: [str(site_dir)]
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ.update(env or {})
    try:
        exec(compile(code, notebook, "exec"), {"get_ipython": lambda: fake_ipython, "__name__": "__main__"})
    finally:
        site.getsitepackages = real
        del sys.modules["google.colab"]
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
    return shell


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_helpers_import_after_a_restart_through_the_pth_file(notebook, tmp_path):
    run_setup_cell(notebook, tmp_path)
    pth = tmp_path / "site-packages" / "hands-on-llm-zh-tw.pth"
    chapter = notebook.split("/")[0]
    assert pth.read_text().splitlines() == [str(tmp_path / "clone"), str(tmp_path / "clone" / chapter)]
    # a fresh interpreter (what Colab's restart gives), started outside the repository, with only the site
    # folder: the package and the chapter's helper modules are found (found, not imported: no heavy imports).
    # The base interpreter, not this virtual environment, where llmbook is installed in development mode.
    helpers = sorted(path.stem for path in (ROOT / chapter).glob("*.py"))
    names = ["llmbook", *helpers]
    probe = (f"import importlib.util, site; site.addsitedir({str(tmp_path / 'site-packages')!r}); "
             f"print(*[importlib.util.find_spec(name).origin for name in {names!r}], sep=chr(10))")
    base = getattr(sys, "_base_executable", sys.executable)
    assert subprocess.run([base, "-I", "-c", "import llmbook"], capture_output=True, cwd=tmp_path).returncode != 0
    result = subprocess.run([base, "-I", "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = result.stdout.split()
    assert found[0] == str(tmp_path / "clone" / "llmbook" / "__init__.py")
    assert found[1:] == [str(tmp_path / "clone" / chapter / f"{name}.py") for name in helpers]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_colabs_versions_are_held_by_constraints(notebook, tmp_path):
    shell = run_setup_cell(notebook, tmp_path)
    installs = [line for line in shell if line.startswith("%pip install")]
    if not installs:
        return
    (freeze,) = [line for line in shell if "pip list --format=freeze" in line]
    assert shell.index(freeze) < shell.index(installs[0])
    # Only the packages this chapter's own installs need newer are left out of the constraints.
    released = colab_released(Path(notebook).parent.name)
    assert [name for name in COLAB_RELEASED if f"--exclude {name}" in freeze] == released
    setup = nbformat.read(ROOT / notebook, as_version=4).cells[1].source
    said = f"例外只有 {'、'.join(released)}：本章的套件需要較新的版本" if released else "所以不需要重新啟動。"
    assert said in setup and (bool(released) or "例外只有" not in setup)
    target = freeze.rsplit("> ", 1)[1].strip()
    assert installs[0].startswith(f"%pip install -c {target} ")


@pytest.mark.parametrize("profile, gpu, expected", [("", True, False), ("", False, True), ("cpu", True, True),
                                                    ("offline", True, True), ("gpu", False, False)])
def test_chapter5_installs_llama_cpp_only_where_a_profile_uses_it(profile, gpu, expected, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if gpu:
        (bin_dir / "nvidia-smi").write_text("#!/bin/sh\n")
        (bin_dir / "nvidia-smi").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    if profile:
        env["LLMBOOK_PROFILE"] = profile
    else:
        os.environ.pop("LLMBOOK_PROFILE", None)
    shell = run_setup_cell(CH5, tmp_path, env)
    llama = [line for line in shell if "tools/llama_build.py" in line]
    assert bool(llama) == expected
    if llama:
        assert llama[0].endswith("--prebuilt")


def test_chapter7_installs_llama_cpp_and_langchain_openai_only_with_a_key(tmp_path):
    shell = run_setup_cell(CH7, tmp_path)
    assert [line for line in shell if "tools/llama_build.py" in line]
    assert not [line for line in shell if "langchain-openai" in line]
    (tmp_path / "again").mkdir()
    shell = run_setup_cell(CH7, tmp_path / "again", {"OPENAI_API_KEY": "sk-test"})
    (openai_install,) = [line for line in shell if "langchain-openai" in line]
    assert "-c " not in openai_install  # certifi must be free to move: the cell says Colab may ask for a restart


def test_the_clone_names_the_repository_and_the_release():
    source = nbformat.read(ROOT / CH7, as_version=4).cells[1].source
    assert f'clone_helpers("{REPOSITORY}", "{RELEASE}", "{COLAB_CLONE_DIR}")' in source
    assert '"GIT_TERMINAL_PROMPT": "0"' in source


# ---- what the set-up cell installs covers what the chapter imports -------------------------------

def _imported_modules(source: str) -> set[str]:
    """Absolute modules ``source`` imports anywhere (top level or inside functions)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _local_module(module: str, chapter: Path) -> Path | None:
    """The file of one of this repository's modules (llmbook.* or a chapter helper), else None."""
    parts = module.split(".")
    if parts[0] == "llmbook":
        path = ROOT.joinpath(*parts)
        return path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
    return chapter / f"{parts[0]}.py" if (chapter / f"{parts[0]}.py").exists() else None


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_colab_set_up_installs_every_package_the_chapter_imports(chapter):
    # Colab's 繁中實戰 sections of chapters 1, 7 and 9 imported opencc (directly, or through
    # llmbook.zh_tw) while their set-up cells did not install it: ModuleNotFoundError on Colab. The
    # notebook's imports and those of the repository modules it imports (one level: what those modules
    # need when the notebook calls them; deeper imports are the offline builders') must each be Colab's
    # or in the chapter's COLAB_PACKAGES (COLAB_WITH_OPENAI_KEY when only the OpenAI path uses it).
    from importlib.metadata import packages_distributions

    from llmbook.pins import normalise
    from tools.notebooks import COLAB_PACKAGES, COLAB_WITH_OPENAI_KEY, colab_preinstalled

    folder = ROOT / chapter
    modules = set()
    for notebook in sorted(folder.glob("*.ipynb")):
        cells = nbformat.read(notebook, as_version=4).cells
        direct = _imported_modules("\n".join(python_source(cell.source) for cell in cells if cell.cell_type == "code"))
        modules |= direct
        for module in direct:
            local = _local_module(module, folder)
            if local is not None and local.exists():
                modules |= _imported_modules(local.read_text(encoding="utf-8"))
    distributions = packages_distributions()
    provided = set(colab_preinstalled()) | {normalise(name) for name in COLAB_PACKAGES[chapter]} | {
        normalise(name) for name in COLAB_WITH_OPENAI_KEY.get(chapter, ())}
    missing = set()
    for module in modules:
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in ("google", "tools") or _local_module(module, folder):
            continue
        missing |= {normalise(d) for d in distributions.get(top, [top])} - provided
    assert not missing, f"{chapter}'s Colab set-up cell does not install {sorted(missing)} (tools/notebooks.py COLAB_PACKAGES)"
