"""Packaging: the .deb that CPack makes from the test build (cmake/Packaging.cmake) and
`cmake --install` install mptcp.so into Wireshark's versioned global plugin dir and the MPTCP
configuration profile into Wireshark's global profiles folder (the "Global configuration" folder of
`tshark -G folders`, + profiles/MPTCP); the .deb depends on the build's libwireshark package within
the same major.minor. The install into a clean chroot is `sudo scripts/package.sh --verify` (too slow
and too privileged for the suite)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO

PROFILE = REPO / "profiles" / "MPTCP"


def _cmake_install_dir(build):
    text = (build / "plugins" / "mptcp" / "cmake_install.cmake").read_text()
    m = re.search(r'file\(INSTALL DESTINATION "([^"]*)"', text)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def deb(plugin_build, tmp_path_factory):
    if not (plugin_build / "CPackConfig.cmake").exists():
        pytest.skip("no CPack configuration (MPTCP_INSTALL_PERSONAL=ON, or libwireshark is no Debian package)")
    if not shutil.which("cpack") or not shutil.which("dpkg-deb"):
        pytest.skip("cpack or dpkg-deb missing")
    out = tmp_path_factory.mktemp("deb")
    p = subprocess.run(["cpack", "-G", "DEB", "--config", str(plugin_build / "CPackConfig.cmake"), "-B", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    debs = list(out.glob("wireshark-plugin-mptcp_*.deb"))
    assert len(debs) == 1, p.stdout
    return debs[0]


def _global_config_dir():
    """Wireshark's own global data dir, as tshark reports it (skip without tshark)."""
    if not shutil.which("tshark"):
        pytest.skip("no tshark")
    out = subprocess.run(["tshark", "-G", "folders"], capture_output=True, text=True).stdout
    m = re.search(r"^Global configuration:\s*(\S.*)$", out, re.M)
    assert m, out
    return m.group(1).strip()


def _profile_files(root):
    """{relative path: bytes} of the profile files below root (an install tree)."""
    return {p.name: p.read_bytes() for p in PROFILE.iterdir()} if root is None else \
        {os.path.relpath(p, root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_deb_installs_into_the_versioned_global_plugin_dir(deb, plugin_build):
    dest = _cmake_install_dir(plugin_build)
    majmin = dest.split("/")[-2]
    assert re.fullmatch(r"\d+\.\d+", majmin), dest
    pkgconfig = subprocess.run(["pkg-config", "--variable=plugindir", "wireshark"], capture_output=True, text=True)
    if pkgconfig.returncode == 0 and pkgconfig.stdout.strip():
        assert dest == pkgconfig.stdout.strip() + "/epan"
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = [line.split()[-1] for line in listing.splitlines() if not line.startswith("d")]
    assert [f for f in files if f.endswith(".so")] == ["." + dest + "/mptcp.so"]


def test_deb_depends_on_the_matching_libwireshark(deb, plugin_build):
    majmin = _cmake_install_dir(plugin_build).split("/")[-2]
    major, minor = majmin.split(".")
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True,
                             check=True).stdout.strip()
    lib = re.search(r"(libwireshark\d+) \(>= " + re.escape(majmin) + r"\)", depends)
    assert lib, depends
    assert f"{lib.group(1)} (<< {major}.{int(minor) + 1})" in depends
    # the package named is the one that ships the libwireshark tshark uses here
    owner = subprocess.run(["dpkg-query", "-S", "libwireshark.so.*"], capture_output=True, text=True)
    if owner.returncode == 0:
        assert lib.group(1) in {line.split(":")[0] for line in owner.stdout.splitlines()}
    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert version.endswith(f"+ws{majmin}-1"), version


def test_deb_holds_the_profile(deb, plugin_build, tmp_path):
    profiles = _global_config_dir() + "/profiles/MPTCP"
    want = {"." + profiles + "/" + name for name in os.listdir(PROFILE)}
    assert len(want) >= 4
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = {line.split()[-1] for line in listing.splitlines() if not line.startswith("d")}
    assert files == want | {"." + _cmake_install_dir(plugin_build) + "/mptcp.so"}
    # the packaged files are the repository's, byte for byte
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "deb")], check=True)
    for name, data in _profile_files(None).items():
        assert (tmp_path / "deb" / profiles.lstrip("/") / name).read_bytes() == data, name


def test_cmake_install_holds_the_profile(plugin_build, tmp_path):
    if "MPTCP_INSTALL_PERSONAL:BOOL=ON" in (plugin_build / "CMakeCache.txt").read_text():
        pytest.skip("personal install: the profile is imported by hand")
    profiles = _global_config_dir() + "/profiles/MPTCP"
    p = subprocess.run(["cmake", "--install", str(plugin_build)], env=dict(os.environ, DESTDIR=str(tmp_path)),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    installed = _profile_files(tmp_path)
    want = {profiles.lstrip("/") + "/" + name: data for name, data in _profile_files(None).items()}
    assert want and installed == dict(installed, **want)     # every profile file, byte for byte
    assert set(installed) == set(want) | {_cmake_install_dir(plugin_build).lstrip("/") + "/mptcp.so"}
