"""Prove that every rule job of a Snakemake run went through SLURM.

    python check_slurm_run.py --log snakemake.log --squeue squeue.txt --scontrol jobs.txt \
        --workdir DIR [--expect-gpu]

Reads the Snakemake log of a run with the slurm executor and checks, for every non-local rule
job ("rule <name>:" or "checkpoint <name>:" block with its "jobid:", "threads:" and
"resources:"):
  * the plugin reported "Job <jobid> has been submitted with SLURM jobid <N>",
  * SLURM itself knows job <N> (`squeue --states=all -h -o '%i|%j|%T|%k'` taken right after
    the run; MinJobAge keeps finished jobs listed): name = the run ID, state COMPLETED, comment
    `rule_<name>...` (set by the plugin),
  * SLURM granted what the rule declared (`scontrol -o show job`): partition = slurm_partition,
    time limit = runtime (min), memory = mem_mb, CPUs = threads, GPUs = gpu,
  * the plugin's SLURM log of job <N> exists (kept with slurm-keep-successful-logs),
  * the job's declared outputs exist under the working directory.
With --expect-gpu, at least one job must have asked for (and been granted) a GPU.
Prints one line per job and exits 1 with the reasons when anything is missing.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

RULE_RE = re.compile(r"^(local)?(?:rule|checkpoint) (\w+):\s*$")
FIELD_RE = re.compile(r"^\s+(\w+): (.*)$")
SUBMITTED_RE = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.")
RUN_ID_RE = re.compile(r"SLURM run ID: (\S+)")


@dataclass
class RuleJob:
    rule: str
    local: bool
    jobid: int | None = None
    threads: int = 1
    outputs: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)


def parse_log(text: str) -> tuple[list[RuleJob], dict[int, tuple[str, str]], str | None]:
    """Rule jobs, {snakemake jobid: (SLURM jobid, SLURM log)}, run ID."""
    jobs: list[RuleJob] = []
    current: RuleJob | None = None
    for line in text.splitlines():
        match = RULE_RE.match(line)
        if match:
            current = RuleJob(rule=match.group(2), local=bool(match.group(1)))
            jobs.append(current)
            continue
        match = FIELD_RE.match(line)
        if current is not None and match:
            key, value = match.groups()
            if key == "jobid":
                current.jobid = int(value)
            elif key == "threads":
                current.threads = int(value)
            elif key == "output":
                current.outputs = [item.strip() for item in value.split(",") if item.strip()]
            elif key == "resources":
                pairs = (item.split("=", 1) for item in value.split(", ") if "=" in item)
                current.resources = {name.strip(): val.strip() for name, val in pairs}
            continue
        if line.strip() == "" or not line.startswith(" "):
            current = None
    submitted = {
        int(m.group(1)): (m.group(2), m.group(3).strip()) for m in SUBMITTED_RE.finditer(text)
    }
    run_id = RUN_ID_RE.search(text)
    return jobs, submitted, run_id.group(1) if run_id else None


def parse_squeue(text: str) -> dict[str, tuple[str, str, str]]:
    """{SLURM jobid: (name, state, comment)} from `squeue -h -o '%i|%j|%T|%k'`."""
    table = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 4:
            table[parts[0]] = (parts[1], parts[2], parts[3])
    return table


def parse_scontrol(text: str) -> dict[str, dict[str, str]]:
    """{SLURM jobid: {field: value}} from `scontrol -o show job` (one job per line)."""
    table = {}
    for line in text.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if "JobId" in fields:
            table[fields["JobId"]] = fields
    return table


def minutes(limit: str) -> int:
    """SLURM time limit [days-]hh:mm:ss -> minutes."""
    days, _, clock = limit.rpartition("-")
    hours, mins, secs = (int(part) for part in clock.split(":"))
    return (int(days or 0) * 24 + hours) * 60 + mins + (secs > 0)


def granted_problems(job: RuleJob, granted: dict[str, str]) -> list[str]:
    """Differences between the rule's declared resources and what SLURM granted."""
    problems = []
    declared = job.resources
    if "slurm_partition" in declared and granted.get("Partition") != declared["slurm_partition"]:
        problems.append(f"partition {granted.get('Partition')} != {declared['slurm_partition']}")
    if "runtime" in declared and minutes(granted.get("TimeLimit", "0:0:0")) != int(
        declared["runtime"]
    ):
        problems.append(
            f"time limit {granted.get('TimeLimit')} != runtime {declared['runtime']} min"
        )
    if "mem_mb" in declared and granted.get("MinMemoryNode") != f"{declared['mem_mb']}M":
        problems.append(f"memory {granted.get('MinMemoryNode')} != mem_mb {declared['mem_mb']}")
    if granted.get("NumCPUs") != str(job.threads):
        problems.append(f"CPUs {granted.get('NumCPUs')} != threads {job.threads}")
    gpus = int(declared.get("gpu", 0))
    tres = granted.get("TresPerJob", "") + "," + granted.get("TresPerNode", "")
    has_gpu = re.search(rf"gres[:/]gpu(:\w+)?[:=]{gpus}\b", tres) is not None
    if gpus and not has_gpu:
        problems.append(f"GPUs: SLURM has {tres.strip(',')!r}, rule asked gpu={gpus}")
    if not gpus and "gpu" in tres:
        problems.append(f"GPUs granted ({tres.strip(',')}) although the rule asked none")
    return problems


def check(
    log: Path, squeue: Path, scontrol: Path, workdir: Path, expect_gpu: bool = False
) -> list[str]:
    jobs, submitted, run_id = parse_log(log.read_text(errors="replace"))
    queue = parse_squeue(squeue.read_text())
    details = parse_scontrol(scontrol.read_text())
    problems = []
    remote = [job for job in jobs if not job.local]
    if run_id is None:
        problems.append("no 'SLURM run ID' in the Snakemake log: the slurm executor did not run")
    if not remote:
        problems.append("no rule job in the Snakemake log (nothing ran?)")
    print(f"{'rule':<20} {'job':>3} {'SLURM':>5} {'state':<10} {'granted':<40} slurm log")
    for job in remote:
        reasons = []
        slurm_id, slurm_log = submitted.get(job.jobid, ("-", ""))
        state = "-"
        if slurm_id == "-":
            reasons.append("no 'submitted with SLURM jobid' line")
        else:
            name, state, comment = queue.get(slurm_id, ("", "-", ""))
            if slurm_id not in queue:
                reasons.append(f"SLURM job {slurm_id} not listed by squeue --states=all")
            else:
                if name != run_id:
                    reasons.append(f"SLURM job name {name!r} is not the run ID {run_id!r}")
                if state != "COMPLETED":
                    reasons.append(f"SLURM state {state}")
                if not comment.startswith(f"rule_{job.rule}"):
                    reasons.append(f"SLURM comment {comment!r} does not name rule {job.rule}")
            if slurm_id in details:
                reasons += granted_problems(job, details[slurm_id])
            else:
                reasons.append(f"SLURM job {slurm_id} not in scontrol show job")
            if not Path(slurm_log).is_file():
                reasons.append(f"SLURM log {slurm_log} missing")
        for output in job.outputs:
            if not (workdir / output).exists():
                reasons.append(f"output {output} missing")
        info = details.get(slurm_id, {})
        granted = (
            f"{info.get('Partition', '-')} cpu={info.get('NumCPUs', '-')} "
            f"mem={info.get('MinMemoryNode', '-')} t={info.get('TimeLimit', '-')}"
        )
        gpu = info.get("TresPerJob", "")
        granted += f" {gpu}" if gpu and gpu != "(null)" else ""
        print(
            f"{job.rule:<20} {job.jobid!s:>3} {slurm_id:>5} {state:<10} {granted:<40} {slurm_log}"
        )
        problems += [f"{job.rule} (job {job.jobid}): {reason}" for reason in reasons]
    print(
        f"{len(remote)} rule jobs, {sum(j.jobid in submitted for j in remote)} submitted via sbatch"
    )
    if expect_gpu and not any(int(job.resources.get("gpu", 0)) for job in remote):
        problems.append("no rule job asked for a GPU (resources: gpu=N)")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="Snakemake stdout+stderr")
    parser.add_argument("--squeue", type=Path, required=True, help="squeue listing after the run")
    parser.add_argument("--scontrol", type=Path, required=True, help="scontrol -o show job dump")
    parser.add_argument("--workdir", type=Path, required=True, help="the run's working directory")
    parser.add_argument("--expect-gpu", action="store_true", help="some job must use a GPU")
    args = parser.parse_args(argv)
    problems = check(args.log, args.squeue, args.scontrol, args.workdir, args.expect_gpu)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
