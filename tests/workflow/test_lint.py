"""The workflow passes the Snakemake linter and is snakefmt-formatted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def test_snakemake_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--workflow-profile", "none"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_check_is_clean():
    result = subprocess.run(
        [str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_wildcard_is_constrained():
    """Each {wildcard} in a rule file has a constraint in common.smk (none may match a slash)."""
    import re

    common = (REPO / "workflow/rules/common.smk").read_text()
    block = common.split("wildcard_constraints:", 1)[1].split("\n\n", 1)[0]
    constrained = set(re.findall(r"^\s+(\w+)=", block, flags=re.MULTILINE))
    used = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]:
        plain_strings = re.sub(r"\bf\"[^\"\n]*\"", "", path.read_text())  # not f-strings
        used |= set(re.findall(r"\{(\w+)\}", plain_strings))
    assert used and used <= constrained, used - constrained
