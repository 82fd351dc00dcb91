"""Print a profile's `default-resources` as `--default-resources` arguments, site keys swapped.

A command-line `--default-resources` replaces the profile's whole `default-resources` key, so the
test cluster restates the committed defaults (mem_mb, runtime, ...) from the profile itself and
changes only the site keys: `slurm_partition` becomes the test partition, `slurm_account` is
dropped (a cluster without accounting has no accounts) unless --account is given.

    python profile_resources.py profiles/slurm/profile.yaml --partition debug [--account lab]

prints one `name=value` per line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

SITE_KEYS = ("slurm_account", "slurm_partition")


def overrides(profile: Path, partition: str, account: str | None) -> list[str]:
    data = yaml.safe_load(profile.read_text()) or {}
    defaults = data.get("default-resources") or {}
    if not isinstance(defaults, dict):
        raise SystemExit(f"{profile}: default-resources must be a mapping")
    missing = [key for key in SITE_KEYS if key not in defaults]
    if missing:
        raise SystemExit(f"{profile}: default-resources lacks the site key(s) {missing}")
    resources = {key: value for key, value in defaults.items() if key not in SITE_KEYS}
    resources["slurm_partition"] = partition
    if account:
        resources["slurm_account"] = account
    return [f"{key}={value}" for key, value in resources.items()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--partition", required=True)
    parser.add_argument("--account", default=None)
    args = parser.parse_args(argv)
    print("\n".join(overrides(args.profile, args.partition, args.account)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
