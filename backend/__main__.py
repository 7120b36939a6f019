"""The command line: ``python -m backend <command> ...``, the same jobs as the app.

Every command writes into the same result store as the app (``VALUERISK_CACHE_DIR``),
shows progress with tqdm, and on bad input prints one line starting with ``error:`` and
exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from backend.errors import ValueRiskError
from backend.settings import DEFAULT_DATASET, DEFAULT_K
from backend.specs import PRESETS, RunSpec, make_runspec


def _add_runspec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help="registry name")
    parser.add_argument("--preset", default="quick", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arch", default=None, help="model architecture")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--k", type=int, default=DEFAULT_K, help="KNN-Shapley k")
    parser.add_argument("--representation", default="raw", choices=("raw", "embedding"))
    for part in ("members", "nonmembers", "shadow-members", "shadow-nonmembers"):
        parser.add_argument(f"--{part}", type=int, default=0, help="split size")
    parser.add_argument("--reference", type=int, default=0, help="split size")


def runspec_from_args(args: argparse.Namespace) -> RunSpec:
    """The RunSpec that a command's arguments describe."""
    train = {
        name: value
        for name, value in (
            ("epochs", args.epochs),
            ("batch_size", args.batch_size),
            ("lr", args.lr),
        )
        if value is not None
    }
    model = {"arch": args.arch} if args.arch else {}
    if not model:
        from backend.datasets import dataset_info

        if dataset_info(args.dataset).kind == "tabular":
            model = {"arch": "mlp"}
    split = {
        "members": args.members,
        "nonmembers": args.nonmembers,
        "shadow_members": args.shadow_members,
        "shadow_nonmembers": args.shadow_nonmembers,
        "reference": args.reference,
    }
    attack = {}
    if hasattr(args, "group_fraction"):
        attack = {
            "group_fraction": args.group_fraction,
            "n_bins": args.bins,
            "paper_protocol": args.paper_protocol,
        }
    return make_runspec(
        args.dataset,
        attack=attack,
        preset=args.preset,
        seed=args.seed,
        split=split,
        model=model,
        train=train,
        valuation={"k": args.k, "representation": args.representation},
    )


def _tqdm_progress(description: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=description, unit="%", leave=True, file=sys.stderr)

    def report(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_postfix_str(message[-60:], refresh=True)

    return bar, report


def _run_job(kind: str, spec: RunSpec, params: dict | None = None) -> dict:
    """Run a job in this process, with a tqdm bar; ``params`` are its own settings."""
    from backend.jobs import run_inline

    bar, report = _tqdm_progress(kind)
    try:
        return run_inline(kind, spec, params=params, progress=report)
    finally:
        bar.close()


# -- commands -------------------------------------------------------------------------


def cmd_datasets(args: argparse.Namespace) -> int:
    from backend.datasets import list_datasets

    for status in list_datasets():
        info = status.info
        mark = "yes" if status.available else "no "
        line = f"{info.name:<14} {mark}  {info.title}"
        if not status.available:
            line += f"  [{status.instruction}]"
        print(line)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    summary = _run_job("train", runspec_from_args(args))
    for role, scores in summary.items():
        print(
            f"{role:<7} train accuracy {scores['train_accuracy']:.4f}  "
            f"test accuracy {scores['test_accuracy']:.4f}"
        )
    return 0


def cmd_value(args: argparse.Namespace) -> int:
    import pandas as pd

    from backend import pipeline

    spec = runspec_from_args(args)
    _run_job("value", spec)
    ctx = pipeline.make_context(spec)
    values = pipeline.importance(ctx)
    table = pd.DataFrame(
        {
            "index": ctx.split.members,
            "label": ctx.data.y[ctx.split.members],
            "importance": values,
        }
    )
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table)} rows to {args.out}")
    else:
        print(table.describe().to_string())
    return 0


def cmd_membership(args: argparse.Namespace) -> int:
    from backend import analysis, pipeline

    spec = runspec_from_args(args)
    _run_job("membership", spec)
    result = analysis.membership(pipeline.make_context(spec))
    groups = result["groups"]
    bins = result["bins"][["attack", "bin", "members", "advantage", "tpr", "fpr"]]
    if args.json:
        payload = {
            "spec": spec.to_dict(),
            "split_sizes": result["split_sizes"],
            "groups": groups.to_dict(orient="records"),
            "bins": bins.to_dict(orient="records"),
            "estimate": result["estimate"],
            "censored": result["censored"],
        }
        print(json.dumps(payload, indent=2, default=float))
        return 0
    with pd_display():
        print("Membership inference by importance group (TPR at each FPR, AUC):")
        print(groups.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print("\nAdvantage per importance bin (0 = least important):")
        print(bins.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    summary = _run_job("analysis", runspec_from_args(args))
    print(json.dumps(summary, indent=2, default=float))
    return 0


def pd_display():
    import pandas as pd

    return pd.option_context("display.width", 160, "display.max_columns", 20)


def _int_list(text: str, name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueRiskError(
            f"--{name} takes comma-separated integers such as 50,100,200; got {text!r}."
        ) from None


def _add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--budgets", default="", help="comma-separated; default: demo")
    parser.add_argument("--seeds", default="0,1", help="comma-separated run seeds")
    parser.add_argument("--selections", default="top,bottom,random")
    parser.add_argument("--balanced", action="store_true", help="class-balanced n")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _sweep_from_args(args: argparse.Namespace, default_budgets):
    from backend.attacks.sweeps import Sweep

    return Sweep(
        budgets=_int_list(args.budgets, "budgets") or tuple(default_budgets()),
        seeds=_int_list(args.seeds, "seeds"),
        selections=tuple(s.strip() for s in args.selections.split(",")),
    )


def _print_sweep(summary, table, as_json: bool) -> int:
    import json

    if as_json:
        print(json.dumps(summary.to_dict(orient="records"), indent=1))
    else:
        print(table.to_string(index=False))
    return 0


def cmd_steal(args: argparse.Namespace) -> int:
    from backend import pipeline
    from backend.attacks import stealing

    spec = runspec_from_args(args)
    ctx = pipeline.make_context(spec)
    steal = stealing.StealSpec(
        pool=args.pool,
        cross_dataset=args.cross_dataset,
        balanced=args.balanced,
        surrogate_arch=args.surrogate,
        loss=args.loss,
    )
    sweep = _sweep_from_args(
        args, lambda: stealing.default_budgets(stealing.pool_size(ctx, steal))
    )
    _run_job("steal", spec, stealing.job_params(steal, sweep))
    results = stealing.steal_results(ctx, steal, sweep)
    return _print_sweep(results.summary, results.table(), args.json)


def cmd_backdoor(args: argparse.Namespace) -> int:
    from backend import pipeline
    from backend.attacks import backdoor

    spec = runspec_from_args(args)
    ctx = pipeline.make_context(spec)
    poison = backdoor.BackdoorSpec(
        trigger=args.trigger,
        target_class=args.target_class,
        patch_size=args.patch_size,
        patch_color=args.patch_color,
        share=args.share,
        balanced=args.balanced,
    )
    sweep = _sweep_from_args(
        args,
        lambda: backdoor.default_budgets(
            len(backdoor.candidates(ctx, poison)), clean_label=poison.trigger == "sig"
        ),
    )
    _run_job("backdoor", spec, backdoor.job_params(poison, sweep))
    results = backdoor.backdoor_results(ctx, poison, sweep)
    table = results.table(include_target=args.paper_asr)
    return _print_sweep(results.summary, table, args.json)


def cmd_study(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from backend import pipeline, studies

    # The study's settings: the options given; the others keep their defaults
    fields = dataclasses.fields(studies.STUDY_SPECS[args.study])
    given = {f.name: getattr(args, f"study_{f.name}") for f in fields}
    study = studies.make_study_spec(
        args.study, **{k: v for k, v in given.items() if v is not None}
    )

    spec = runspec_from_args(args)
    summary = _run_job(studies.job_kind(args.study), spec, studies.study_params(study))
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    result = studies.study_result(pipeline.make_context(spec), study)
    print(studies.summary_table(args.study, result).to_string(index=False))
    for line in studies.findings(args.study, result):
        print(f"- {line}")
    return 0


def _add_study_commands(commands) -> None:
    """``study <name>``: one subcommand per study, one option per setting."""
    import dataclasses

    from backend.studies.specs import STUDY_SPECS

    sub = commands.add_parser("study", help="how importance moves when data changes")
    names = sub.add_subparsers(dest="study", required=True)
    for name, cls in STUDY_SPECS.items():
        parser = names.add_parser(name, help=(cls.__doc__ or "").splitlines()[0])
        _add_runspec_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print the summary")
        for f in dataclasses.fields(cls):
            text, kwargs = f.metadata.get("help", ""), {"dest": f"study_{f.name}"}
            if isinstance(f.default, bool):
                kwargs["action"] = argparse.BooleanOptionalAction
            elif isinstance(f.default, tuple):
                text += " (comma-separated)"
            else:
                kwargs["type"] = type(f.default)
            if not isinstance(f.default, bool):
                kwargs["metavar"] = f.name.upper()
            option = "--" + f.name.replace("_", "-")
            try:
                parser.add_argument(option, help=text, **kwargs)
            except argparse.ArgumentError:  # taken by the RunSpec (--seed)
                parser.add_argument("--study-" + option[2:], help=text, **kwargs)
        parser.set_defaults(run=cmd_study)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def pd_frame(records: list[dict]):
    import pandas as pd

    return pd.DataFrame(records)


def cmd_attributes(args: argparse.Namespace) -> int:
    import json

    from backend import pipeline
    from backend.attacks import attributes

    spec = runspec_from_args(args)
    aspec = attributes.make_attribute_spec(
        args.scale,
        attributes=_names(args.attributes),
        protocol=args.protocol,
        groups={"n_groups": args.groups, "min_steps": args.min_steps},
        correlation=args.correlation,
    )
    _run_job("attributes", spec, {"settings": aspec.to_dict()})
    result = attributes.attribute_inference(pipeline.make_context(spec), aspec)
    report = attributes.attribute_report(result)
    if args.json:
        print(json.dumps(report, indent=1, default=float))
        return 0
    with pd_display():
        table = pd_frame(report["by_group"])
        print(f"Attribute inference ({result['protocol']} protocol), by group:")
        print(table.to_string(index=False, float_format="{:.3f}".format))
        print("\nWall time (s):", json.dumps(report["seconds"], default=float))
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    import json

    from backend import pipeline
    from backend.attacks import reconstruction

    spec = runspec_from_args(args)
    overrides = {
        name: getattr(args, name)
        for name in ("per_class", "di_steps", "gan_steps", "gmi_steps")
        if getattr(args, name) is not None
    }
    rspec = reconstruction.make_reconstruction_spec(
        args.scale,
        attacks=_names(args.attacks),
        classes=_int_list(args.classes, "classes"),
        groups={"n_groups": args.groups, "min_steps": args.min_steps},
        **overrides,
    )
    _run_job("reconstruction", spec, {"settings": rspec.to_dict()})
    result = reconstruction.reconstruction(pipeline.make_context(spec), rspec)
    report = reconstruction.reconstruction_report(result)
    if args.json:
        print(json.dumps(report, indent=1, default=float))
        return 0
    with pd_display():
        table = pd_frame(report["quality"])
        print(f"Reconstruction quality by group ({result['fd_name']}):")
        print(table.to_string(index=False, float_format="{:.3f}".format))
        print("\nWall time (s):", json.dumps(report["seconds"], default=float))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from backend.jobs import run_worker

    return run_worker(args.job_id)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend",
        description="ValueRisk jobs, headless, into the same result store as the app.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    sub = commands.add_parser("datasets", help="list datasets and their availability")
    sub.set_defaults(run=cmd_datasets)

    sub = commands.add_parser("train", help="train the target and shadow models")
    _add_runspec_arguments(sub)
    sub.set_defaults(run=cmd_train)

    sub = commands.add_parser("value", help="importance (KNN-Shapley) of every member")
    _add_runspec_arguments(sub)
    sub.add_argument(
        "--out", default=None, help="write a CSV of index,label,importance"
    )
    sub.set_defaults(run=cmd_value)

    sub = commands.add_parser(
        "membership", help="membership inference by importance group and bin"
    )
    _add_runspec_arguments(sub)
    sub.add_argument("--group-fraction", type=float, default=0.2)
    sub.add_argument("--bins", type=int, default=5, help="importance bins")
    sub.add_argument(
        "--paper-protocol",
        action="store_true",
        help="fit thresholds on the evaluated data (an upper bound)",
    )
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub.set_defaults(run=cmd_membership)

    sub = commands.add_parser(
        "analyze", help="everything the dashboard shows for a spec (into the store)"
    )
    _add_runspec_arguments(sub)
    sub.set_defaults(run=cmd_analyze)

    sub = commands.add_parser(
        "steal", help="model stealing with top, bottom and random query sets"
    )
    _add_runspec_arguments(sub)
    _add_sweep_arguments(sub)
    sub.add_argument("--pool", default="attacker", help="attacker, members or cross")
    sub.add_argument("--cross-dataset", default="", help="the cross pool's dataset")
    sub.add_argument("--surrogate", default="", help="architecture; default target's")
    sub.add_argument("--loss", default="kl", help="kl (probabilities) or l1 (logits)")
    sub.set_defaults(run=cmd_steal)

    sub = commands.add_parser(
        "backdoor", help="backdoor poisoning with top, bottom and random poison sets"
    )
    _add_runspec_arguments(sub)
    _add_sweep_arguments(sub)
    sub.add_argument("--trigger", default="badnets", help="badnets, blend or sig")
    sub.add_argument("--target-class", type=int, default=0)
    sub.add_argument("--patch-size", type=int, default=0, help="0: sized to image")
    sub.add_argument("--patch-color", default="auto", help="auto, black or white")
    sub.add_argument("--share", type=float, default=1.0, help="attacker's data share")
    sub.add_argument(
        "--paper-asr",
        action="store_true",
        help="count target-class test images in the success rate (the study's way)",
    )
    sub.set_defaults(run=cmd_backdoor)

    _add_study_commands(commands)

    sub = commands.add_parser(
        "attributes", help="attribute inference against one model per importance group"
    )
    _add_runspec_arguments(sub)
    sub.add_argument("--groups", type=int, default=5, help="importance groups")
    sub.add_argument("--min-steps", type=int, default=200, help="per group model")
    sub.add_argument("--attributes", default="", help="comma-separated; default set")
    sub.add_argument("--protocol", default="shadow", help="shadow or target")
    sub.add_argument("--scale", default="demo", help="demo or paper")
    sub.add_argument(
        "--correlation",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="correlate importance across attribute tasks",
    )
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub.set_defaults(run=cmd_attributes)

    sub = commands.add_parser(
        "reconstruct", help="reconstruction attacks against one model per group"
    )
    _add_runspec_arguments(sub)
    sub.add_argument("--groups", type=int, default=5, help="importance groups")
    sub.add_argument("--min-steps", type=int, default=200, help="per group model")
    sub.add_argument("--attacks", default="deepinversion,gmi", help="comma-separated")
    sub.add_argument("--classes", default="", help="comma-separated; default first 10")
    sub.add_argument("--scale", default="demo", help="demo or paper")
    sub.add_argument("--per-class", type=int, default=None)
    sub.add_argument("--di-steps", type=int, default=None)
    sub.add_argument("--gan-steps", type=int, default=None)
    sub.add_argument("--gmi-steps", type=int, default=None)
    sub.add_argument("--json", action="store_true", help="print JSON")
    sub.set_defaults(run=cmd_reconstruct)

    sub = commands.add_parser("_worker", help=argparse.SUPPRESS)
    sub.add_argument("job_id")
    sub.set_defaults(run=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValueRiskError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    from backend.device import set_worker_threads

    set_worker_threads()  # VALUERISK_THREADS, 1 by default: see backend/device.py
    sys.exit(main())
