"""`atoll campaign fault|fuzz IMAGE` and `atoll replay FINDING`: the command-line side of campaigns.

    atoll campaign fault IMAGE --runs N [--workers N] [--engine local|ray] [--cluster ADDRESS]
                               [--seed S] [--out DIR] [--target uart|gpio]
    atoll campaign fuzz IMAGE --runs N [... the same] [--batch N]
    atoll campaign matrix IMAGE... --runs N [... the same]     (every image with seeds S .. S+N-1)
    atoll replay FINDING.json

A campaign writes into `--out` (default `campaign-KIND-NAME` in the current directory): the
packed image (`image-DIGEST.atoll`), `results.json`, `summary.txt` (the table it prints),
`plot.svg` (findings and coverage over the runs) and `findings/*.json`, one file per finding,
each replayable with `atoll replay`. The exit status is 0 when the campaign ran (findings are
results, not errors), 2 for a wrong argument or file (one line); `atoll replay` exits 0 when
it saw what the finding says, 1 when not.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from dataclasses import asdict

from sysdesc import load_any

from . import fault_tasks, fuzz as fuzzing
from .executor import ENGINES, ExecutorError, make_executor
from .fault_model import TARGETS, format_outcomes, format_table
from .findings import FindingError, fault_finding, fuzz_finding, matrix_finding, replay
from .fuzz_target import TargetError, fuzzed_endpoint
from .images import ImageRef
from .matrix import matrix
from .report import Progress, plot_svg, write_file, write_json

#: components a fault campaign's image must have (the demo's drivers, shell and blinky)
FAULT_NEEDS = ("uart", "gpio", "shell", "blinky", "supervisor")


class CampaignError(ValueError):
    """A wrong campaign argument or file; one line, exit status 2."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def add_parsers(sub) -> None:
    """The `campaign` and `replay` subcommands, on the CLI's subparsers."""
    campaign = sub.add_parser("campaign", help="many seeded runs over a process pool or Ray (fault injection, fuzzing)")
    campaign.add_argument("kind", choices=("fault", "fuzz", "matrix"), help="fault: inject faults into the demo's "
                          "drivers; fuzz: fuzz the IPC interface of the server the image's fuzz client calls; "
                          "matrix: boot every image with every seed")
    campaign.add_argument("image", nargs="+", help="a system description (.toml) or a packed image (matrix: "
                          "one or more)")
    campaign.add_argument("--runs", type=_positive, required=True,
                          help="runs (fault: per driver; matrix: seeds per image)")
    campaign.add_argument("--workers", type=_positive, default=None, help="worker processes (default: every core)")
    campaign.add_argument("--engine", choices=ENGINES, default=None,
                          help="local (a process pool) or ray (default: ray when installed or a cluster is given)")
    campaign.add_argument("--cluster", metavar="ADDRESS", default=None,
                          help="a Ray cluster's address (host:port), as RAY_ADDRESS")
    campaign.add_argument("--seed", type=_seed, default=1, help="the campaign's seed (default 1)")
    campaign.add_argument("--out", type=pathlib.Path, default=None, help="where results go (default campaign-KIND-NAME)")
    campaign.add_argument("--target", action="append", choices=TARGETS, help="fault: only this driver (repeatable)")
    campaign.add_argument("--batch", type=_positive, default=fuzzing.BATCH,
                          help=f"fuzz: inputs per batch between corpus updates (default {fuzzing.BATCH})")
    again = sub.add_parser("replay", help="replay one finding of a campaign in this process")
    again.add_argument("finding", help="a finding file (FINDING.json, in a campaign's findings/)")


def _image(args: argparse.Namespace) -> ImageRef:
    if len(args.image) != 1:
        raise CampaignError(f"campaign {args.kind} takes one image, not {len(args.image)}")
    path = pathlib.Path(args.image[0])
    image = ImageRef.load(path)
    if args.kind == "fuzz":
        try:
            fuzzed_endpoint(load_any(path), path)
        except TargetError as e:
            raise CampaignError(str(e)) from None
    if args.kind == "fault":
        names = {c.name for c in load_any(path).components}
        missing = [n for n in FAULT_NEEDS if n not in names]
        if missing:
            raise CampaignError(f"{path}: a fault campaign needs the demo's components ({', '.join(FAULT_NEEDS)}); "
                                f"missing: {', '.join(missing)}")
    return image


def run(args: argparse.Namespace) -> int:
    """Run the parsed `campaign` or `replay` command."""
    if args.command == "replay":
        return _replay(args)
    images = [ImageRef.load(path) for path in args.image] if args.kind == "matrix" else [_image(args)]
    out = args.out or pathlib.Path(f"campaign-{args.kind}-{pathlib.Path(args.image[0]).stem}")
    try:
        executor = make_executor(args.engine, args.workers, args.cluster)
        with executor:
            for image in images:
                print(f"atoll: {args.kind} campaign on {image.name} ({image.board}, image {image.short}), "
                      f"seed {args.seed}, {executor.engine} engine with {executor.workers} workers")
            if args.kind == "fault":
                return _fault(args, images[0], executor, out)
            if args.kind == "matrix":
                return _matrix(args, images, executor, out)
            return _fuzz(args, images[0], executor, out)
    except ExecutorError as e:
        raise CampaignError(str(e)) from None
    except TargetError as e:
        raise CampaignError(str(e)) from None


def _fault(args, image: ImageRef, executor, out: pathlib.Path) -> int:
    targets = tuple(args.target or TARGETS)
    progress = Progress(args.runs * len(targets))
    timeline: list = []

    def update(done: int, found: int) -> None:
        timeline.append((done, None, found))
        progress.update(done, found)

    result, snapshot = fault_tasks.fault_campaign(image, args.runs, args.seed, executor, targets, update)
    progress.close()
    image_file = image.save(out).name
    found = [r for r in result.results if r.outcome in fault_tasks.FINDINGS]
    files = []
    for r in found:
        name = f"findings/fault-{r.target}-{r.index}.json"
        write_json(out / name, fault_finding(f"../{image_file}", image, args.seed, snapshot, r))
        files.append(name)
    table = format_table(result.summary) + "\n\n" + format_outcomes(result.rows("all"))
    rate = len(result.results) / result.wall_seconds
    summary = (f"{len(result.results)} runs in {result.wall_seconds:.1f} s ({rate:.1f} runs/s, "
               f"{rate / executor.workers:.1f} per worker); {len(found)} findings\n\n{table}\n")
    write_file(out / "summary.txt", summary)
    write_file(out / "plot.svg", plot_svg(f"fault campaign, {image.name}, seed {args.seed}", timeline))
    write_json(out / "results.json", {
        "campaign": "fault", "image": image_file, "image_digest": image.digest, "board": image.board,
        "seed": args.seed, "snapshot": snapshot, "runs": len(result.results), "engine": executor.engine,
        "workers": executor.workers, "wall_seconds": result.wall_seconds, "findings": files,
        "summary": [row.as_dict() for row in result.summary], "results": [asdict(r) for r in result.results]})
    print(summary, end="")
    _list_findings(out, files)
    return 0


def _fuzz(args, image: ImageRef, executor, out: pathlib.Path) -> int:
    progress = Progress(args.runs)
    result = fuzzing.fuzz(image, args.runs, args.seed, executor, batch=args.batch,
                          progress=lambda r: progress.update(r.runs, len(r.findings), len(r.edges)))
    progress.close()
    image_file = image.save(out).name
    files = []
    for n, finding in enumerate(result.findings, 1):
        name = f"findings/fuzz-{n}.json"
        write_json(out / name, fuzz_finding(f"../{image_file}", image, args.seed, result.snapshot_id,
                                            result.server, finding))
        files.append(name)
    rate = result.runs / result.wall_seconds
    lines = [f"fuzzed {result.server} ({result.interface}): {result.runs} runs in {result.wall_seconds:.1f} s "
             f"({rate:.1f} runs/s, {rate / executor.workers:.1f} per worker)",
             f"coverage {len(result.edges)} edges; corpus {len(result.corpus)} inputs; "
             f"ok {result.outcomes['ok']}, held {result.outcomes['held']}, crash {result.outcomes['crash']}, "
             f"hang {result.outcomes['hang']}",
             f"{len(result.findings)} findings (one per signature):"]
    lines += [f"  run {f.run:6d}  {f.kind:5}  {f.signature}  ({len(f.minimised or f.input)} messages minimised)"
              for f in result.findings]
    summary = "\n".join(lines) + "\n"
    write_file(out / "summary.txt", summary)
    write_file(out / "plot.svg", plot_svg(f"fuzzing {result.server}, {image.name}, seed {args.seed}",
                                          [(t[0], t[1], t[2]) for t in result.timeline]))
    write_json(out / "results.json", {
        "campaign": "fuzz", "image": image_file, "image_digest": image.digest, "board": image.board,
        "seed": args.seed, "snapshot": result.snapshot_id, "server": result.server, "runs": result.runs,
        "batch": args.batch, "engine": executor.engine, "workers": executor.workers,
        "wall_seconds": result.wall_seconds, "coverage_edges": len(result.edges), "corpus": len(result.corpus),
        "outcomes": result.outcomes, "timeline": result.timeline, "findings": files})
    print(summary, end="")
    _list_findings(out, files)
    return 0


def _matrix(args, images: list[ImageRef], executor, out: pathlib.Path) -> int:
    seeds = range(args.seed, args.seed + args.runs)
    progress = Progress(len(images) * len(seeds))
    timeline: list = []

    def update(done: int, found: int) -> None:
        timeline.append((done, None, found))
        progress.update(done, found)

    start = time.perf_counter()
    runs = matrix(images, seeds, executor, update)
    wall = time.perf_counter() - start
    progress.close()
    files, lines = [], [f"{len(runs)} runs in {wall:.1f} s ({len(runs) / wall:.1f} runs/s)",
                        f"{'image':40} {'board':11} {'seeds':>5} {'findings':>8} {'ipc/run':>8} {'host s/run':>10}"]
    for image in images:
        mine = [r for r in runs if r.digest == image.digest]
        image_file = image.save(out).name
        for r in mine:
            if r.finding:
                name = f"findings/matrix-{image.short}-{r.seed}.json"
                write_json(out / name, matrix_finding(f"../{image_file}", image, r))
                files.append(name)
        lines.append(f"{pathlib.Path(image.name).name:40} {image.board:11} {len(mine):5d} "
                     f"{sum(r.finding for r in mine):8d} {sum(r.ipc for r in mine) / len(mine):8.0f} "
                     f"{sum(r.host_seconds for r in mine) / len(mine):10.3f}")
    summary = "\n".join(lines) + "\n"
    write_file(out / "summary.txt", summary)
    write_file(out / "plot.svg", plot_svg(f"bench matrix, {len(images)} images, seeds {seeds.start}-{seeds.stop - 1}",
                                          timeline))
    write_json(out / "results.json", {"campaign": "matrix", "runs": len(runs), "engine": executor.engine,
                                      "workers": executor.workers, "wall_seconds": wall, "findings": files,
                                      "results": [asdict(r) for r in runs]})
    print(summary, end="")
    _list_findings(out, files)
    return 0


def _list_findings(out: pathlib.Path, files: list[str]) -> None:
    print(f"results: {out}/results.json, summary.txt, plot.svg")
    for name in files[:10]:
        print(f"  atoll replay {out / name}")
    if len(files) > 10:
        print(f"  ... and {len(files) - 10} more in {out / 'findings'}")


def _replay(args: argparse.Namespace) -> int:
    try:
        seen = replay(args.finding)
    except (FindingError, TargetError) as e:
        raise CampaignError(str(e)) from None
    if not seen.snapshot_ok:
        print("atoll: note: the run started from another snapshot than the finding's")
    verdict = "reproduced" if seen.reproduced else "NOT reproduced"
    print(f"{verdict}: expected {seen.expected}, saw {seen.seen}\n  {seen.detail}")
    return 0 if seen.reproduced else 1
