"""Windows: llama-cpp-python's build finds Visual Studio's C++ tools the way CMake does (vswhere.exe),
so installing the Build Tools that the error message recommends is enough."""

from __future__ import annotations

import sys

import pytest

from tools import llama_build


@pytest.fixture
def windows(tmp_path, monkeypatch):
    """A Windows machine: Program Files (x86) in tmp_path, no compiler on PATH, no $CXX."""
    monkeypatch.setattr(llama_build.platform, "system", lambda: "Windows")
    monkeypatch.setenv("ProgramFiles(x86)", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CXX", raising=False)
    installer = tmp_path / "Microsoft Visual Studio" / "Installer"
    installer.mkdir(parents=True)
    return installer


def fake_vswhere(installer, output: str, code: int = 0):
    # a stand-in vswhere.exe: a script (run directly, as the real one is) that prints what vswhere prints
    script = installer / "vswhere.exe"
    script.write_text(f"#!{sys.executable}\nimport sys\nprint({output!r})\nsys.exit({code})\n")
    script.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in vswhere.exe is a POSIX script")
def test_the_build_tools_are_found_through_vswhere(windows):
    fake_vswhere(windows, "Visual Studio Build Tools 2022")
    assert llama_build.find_compiler() == "MSVC (Visual Studio Build Tools 2022)"


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in vswhere.exe is a POSIX script")
def test_visual_studio_without_the_cpp_workload_is_no_compiler(windows):
    fake_vswhere(windows, "")  # vswhere prints nothing when no instance has the C++ tools
    assert llama_build.find_compiler() is None


def test_no_visual_studio_installer_is_no_compiler(windows):
    assert llama_build.find_compiler() is None
