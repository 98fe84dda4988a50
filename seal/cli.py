"""Command-line interface: ``seal data pull|status|init|import|remove``, ``seal train``, ``seal validate``,
``seal calibrate``, ``seal estimate``.

Every user-caused problem ends as one sentence on stderr and a non-zero exit code, never a traceback.
Heavy imports happen inside the subcommands so ``seal --help`` stays fast.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _db_path(args: argparse.Namespace) -> Path:
    from seal.data.store import default_db_path

    return Path(args.db) if getattr(args, "db", None) else default_db_path()


# ---------------------------------------------------------------- data
def _cmd_data_pull(args: argparse.Namespace) -> int:
    from seal.data.pull import pull

    pull(db_path=_db_path(args), mirror=args.mirror, cache_dir=args.cache_dir,
         sources=args.source or None, progress=not args.quiet)
    return _cmd_data_status(args)


def _cmd_data_init(args: argparse.Namespace) -> int:
    from seal.data.pull import init

    db = _db_path(args)
    if args.if_missing and db.exists():
        return 0
    init(db_path=db)
    print(f"Store ready at {db} (offline sources). Run `seal data pull` to add the benchmark sources.")
    return 0


def _cmd_data_status(args: argparse.Namespace) -> int:
    from seal.data.measured import user_sources
    from seal.data.store import status

    db = _db_path(args)
    table = status(db)
    print(table.to_string(index=False))
    mine = user_sources(db) if db.exists() else None
    if mine is not None and len(mine):
        from seal.estimator.calibrate import load_calibrations

        calibrated = load_calibrations(db)
        per = mine.groupby("source", sort=True).agg(files=("file", "size"), rows=("rows", "sum"),
                                                   skipped=("skipped", "sum"), imported=("imported_at", "max"))
        per["calibrated"] = [calibrated[s]["created_at"][:16].replace("T", " ") + " UTC" if s in calibrated
                             else "no: run `seal calibrate " + s + "`" for s in per.index]
        per["imported"] = _utc_minutes(per["imported"])
        print("\nYour imported measurements (seal data import):")
        print(per.reset_index().to_string(index=False))
    return 0


def _utc_minutes(values) -> list[str]:
    import pandas as pd

    return [pd.Timestamp(v).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC") if pd.notna(v) else "" for v in values]


def _cmd_data_import(args: argparse.Namespace) -> int:
    from seal.data.measured import import_measurements

    report = import_measurements(args.file, args.name, db_path=_db_path(args), kind=args.kind,
                                 requests=args.requests, tz=args.tz, apportion=args.apportion,
                                 requests_tz=args.requests_tz,
                                 skip_bad=args.skip_bad, replace=args.replace)
    print(report)
    print(f"Next: `seal calibrate {report.source}`, then `seal estimate --deployment {report.source} ...`.")
    return 0


def _energy_model(args: argparse.Namespace) -> str | None:
    """``--energy-model PATH`` checked (None: the shipped artifact)."""
    path = getattr(args, "energy_model", None)
    if path and not Path(path).is_file():
        from seal.errors import SealError

        raise SealError(f"No energy model file {path}; give the artifact `seal train --out` wrote.")
    return path or None


def _cmd_data_remove(args: argparse.Namespace) -> int:
    from seal.data.measured import remove_source, source_name

    from seal.estimator.calibrate import load_calibrations

    source = source_name(args.source)
    calibrated = source in load_calibrations(_db_path(args))
    n = remove_source(source, db_path=_db_path(args))
    print(f"Removed {source}: {n:,} row{'s' if n != 1 else ''}{' and its calibration' if calibrated else ''}.")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from seal.estimator.calibrate import calibrate, format_agreement

    payload = calibrate(args.source, db_path=_db_path(args), model=_energy_model(args))
    print(format_agreement(payload))
    return 0


# ---------------------------------------------------------------- estimator
def _cmd_train(args: argparse.Namespace) -> int:
    from seal.estimator.train import train

    path = train(db_path=_db_path(args), out_path=args.out, with_sources=args.with_sources or None,
                 user_weight=args.user_weight)
    print(f"Wrote {path}")
    if args.with_sources:
        print(f"Use it with `seal estimate --energy-model {path} ...` (or seal.estimate(..., energy_model=PATH)).")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from seal.estimator.validate import validate, format_table

    if args.source:
        from seal.estimator.calibrate import validate_source

        from seal.estimator.calibrate import percent_table

        table = validate_source(args.source, db_path=_db_path(args), model=_energy_model(args))
        print(percent_table(table).to_string(index=False))
        if args.out:
            table.to_csv(args.out, index=False)
        return 0
    table = validate(db_path=_db_path(args))
    print(format_table(table))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


# ---------------------------------------------------------------- estimate
# Exit codes: 0 all rows estimated; 2 an error (one sentence on stderr, nothing written); 3 a partial run: some
# rows were not estimated (models no catalogue knows: named in the summary with the fix), the others were written.
EXIT_ERROR = 2
EXIT_PARTIAL = 3
_DEFAULT_FLAGS = ("model", "gpu", "gpus", "engine", "batch_size", "region", "input_tokens", "output_tokens",
                  "params_b", "active_params_b", "precision", "pue", "market_g_per_kwh", "boundary",
                  "live_intensity", "deployment")


def _cmd_estimate(args: argparse.Namespace) -> int:
    if args.db:                      # the store the estimate reads (catalogue, calibrations) is the one named
        import os

        from seal.data.store import DB_ENV

        os.environ[DB_ENV] = str(args.db)
    defaults = {k: getattr(args, k) for k in _DEFAULT_FLAGS if getattr(args, k) is not None}
    if args.deployment:
        from seal.data.measured import source_name
        from seal.estimator.calibrate import check_deployment

        defaults["deployment"] = check_deployment(source_name(args.deployment), _db_path(args))
    if _energy_model(args):
        defaults["energy_model"] = args.energy_model
    out = None if args.out in (None, "-") else args.out     # "-": standard output
    files = _input_files(args)
    model_map = None
    if args.model_map:
        from seal.data.aliases import read_model_map

        model_map = read_model_map(args.model_map)
    if files:
        from seal.stream import estimate_file

        summary = estimate_file(files if len(files) > 1 else files[0], out=out, fmt=args.format,
                                defaults=defaults, skip_bad=args.skip_bad, progress=not args.quiet,
                                protect=[_db_path(args), *([args.model_map] if args.model_map else [])],
                                columns=args.columns, model_map=model_map)
        print(summary, file=sys.stderr)
        return EXIT_PARTIAL if summary.partial else 0
    if not any(p.strip() for p in args.prompt):
        from seal.errors import SealError

        raise SealError("Give a prompt text or --file PATH (a log or a CSV/JSONL/Parquet of requests).")
    import pandas as pd

    from seal.api import estimate
    from seal.stream import write_frame

    frame = estimate(pd.DataFrame({"prompt": list(args.prompt)}), model_map=model_map, **defaults)
    write_frame(frame, out=out, fmt=args.format, protect=[_db_path(args)])   # format from --format, else --out's suffix, else json
    return 0


def _input_files(args: argparse.Namespace) -> list[str]:
    """The logs to read: every ``--file`` as written (literally: no glob or URL syntax), then the files each
    ``--glob PATTERN`` matches (sorted; a pattern matching nothing is an error), duplicates dropped."""
    import glob

    files = list(args.file or [])
    for pattern in args.glob or []:
        hits = sorted(p for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        if not hits:
            from seal.errors import SealError

            raise SealError(f"--glob {pattern!r} matches no file.")
        files.extend(hits)
    import os

    seen: set[str] = set()                      # the same file named twice (a.csv, ./a.csv) is read once
    return [f for f in files if not (os.path.realpath(f) in seen or seen.add(os.path.realpath(f)))]


def _finite(kind: type, *, what: str = "a number"):
    """An argparse type: ``kind(text)`` that refuses NaN and infinity in one sentence (ranges are checked by the
    pipeline, which names what is accepted)."""
    import math

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number; give {what}")
        return value

    return parse


def _data_commands(sub) -> None:
    """``seal data pull | init | status | import | remove``."""
    data = sub.add_parser("data", help="download sources and manage the store")
    dsub = data.add_subparsers(dest="data_command", required=True)
    p = dsub.add_parser("pull", help="download every source and rebuild the store")
    p.add_argument("--mirror", help="URL or directory laid out like ../shared/data (default: $SEAL_DATA_MIRROR or canonical)")
    p.add_argument("--cache-dir", help="download cache (default: cache/ in the data folder: $SEAL_HOME, ./data "
                                       "in a checkout, else ~/.local/share/seal)")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_data_pull)
    p = dsub.add_parser("init", help="build the store from offline sources only")
    p.add_argument("--if-missing", action="store_true", help="do nothing when the store exists")
    p.set_defaults(func=_cmd_data_init)
    p = dsub.add_parser("status", help="per source: version, rows, when pulled (and your imported measurements)")
    p.set_defaults(func=_cmd_data_status)
    p = dsub.add_parser("import", help="add your own measured runs to the store as user:NAME")
    p.add_argument("file", help="measurement table (CSV/Parquet/JSON/JSONL with measured_gpu_energy_j), CodeCarbon "
                                "emissions.csv (with --requests) or ML.ENERGY-benchmark result JSON")
    p.add_argument("--name", required=True, help="source name, stored as user:NAME")
    p.add_argument("--kind", help="file kind: table, codecarbon or mlenergy (default: detected; checked by "
                                  "seal.data.measured.KINDS)")
    p.add_argument("--requests", metavar="LOG", help="CodeCarbon only: the request log the emissions.csv measured")
    p.add_argument("--tz", default="UTC", help="CodeCarbon only: time zone of its timestamps (IANA name; default UTC)")
    p.add_argument("--requests-tz", metavar="TZ",
                   help="CodeCarbon only: time zone of the request log's timestamps when they carry no offset "
                        "(default: UTC)")
    p.add_argument("--apportion", default="tokens",
                   help="CodeCarbon only: share a window's energy by input+output tokens (default), output tokens, "
                        "or SEAL's own estimate per request")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable rows, count and report them")
    p.add_argument("--replace", action="store_true", help="replace the source's earlier rows")
    p.set_defaults(func=_cmd_data_import)
    p = dsub.add_parser("remove", help="remove an imported source (user:NAME), its rows and calibration")
    p.add_argument("source")
    p.set_defaults(func=_cmd_data_remove)


def _model_commands(sub) -> None:
    """``seal train``, ``seal validate``, ``seal calibrate``."""
    p = sub.add_parser("train", help="fit the energy models and write an artifact")
    p.add_argument("--out", help="artifact path (default: the shipped artifact; with --with: "
                                 "energy_model+NAME.json in the data folder)")
    p.add_argument("--with", dest="with_sources", action="append", metavar="user:NAME",
                   help="also fit on your imported measurements (repeatable)")
    p.add_argument("--user-weight", type=_finite(float, what="a weight"), default=1.0,
                   help="how many times each imported row counts against a public one (a whole number, default 1)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("validate", help="cross-validation splits of the energy models")
    p.add_argument("--out", help="also write the table as CSV")
    p.add_argument("--source", metavar="user:NAME",
                   help="SEAL's error on your imported rows before and after calibration (cross-validated)")
    p.add_argument("--energy-model", metavar="PATH", help="with --source: the energy model to validate (default shipped)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("calibrate", help="fit a correction to your deployment's measurements (user:NAME)")
    p.add_argument("source", metavar="user:NAME")
    p.add_argument("--energy-model", metavar="PATH", help="calibrate this energy model (seal train --out) instead of "
                                                          "the shipped one; estimates must then use it too")
    p.set_defaults(func=_cmd_calibrate)


def _estimate_command(sub) -> None:
    """``seal estimate``: prompts or logs in, energy / CO2e out. The choices come from the modules that implement them
    (light modules: ``seal --help`` stays fast)."""
    from seal.carbon.defaults import BOUNDARIES
    from seal.outfile import OUTPUT_FORMATS

    p = sub.add_parser("estimate", help="estimate energy and CO2e of prompts or a request log")
    p.add_argument("prompt", nargs="*", help="prompt text(s)")
    p.add_argument("--file", action="append", help="request log or table (OpenAI, OTLP, LiteLLM, Langfuse, CSV, JSONL, "
                                                    "Parquet), read literally; repeat for several files")
    p.add_argument("--glob", action="append", metavar="PATTERN",
                   help="also read every file matching PATTERN (e.g. 'logs/*.jsonl'); each is named in the summary")
    p.add_argument("--out", help="output path (default or '-': standard output); never an input or the store")
    p.add_argument("--format", choices=OUTPUT_FORMATS,
                   help="output format (default from --out, else json)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable rows, count and report them")
    p.add_argument("--columns", metavar="MAPPING",
                   help="map a table's columns: SEAL_COLUMN=FILE_COLUMN pairs, comma-separated, e.g. "
                        "input_tokens=ContextTokens,output_tokens=GeneratedTokens,timestamp=TIMESTAMP")
    p.add_argument("--model-map", metavar="FILE",
                   help="CSV (log_model,model or log_model,params_b[,active_params_b,precision]) or JSON mapping "
                        "model names as the log spells them to catalogue models or sizes")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--model")
    p.add_argument("--gpu")
    p.add_argument("--gpus", type=_finite(int, what="a whole GPU count"), help="GPU count (whole; default: fewest that hold weights + KV cache)")
    p.add_argument("--engine", help="serving stack: transformers, vllm-2024 or vllm (default vllm; transformers "
                                    "when --batch-size is 1)")
    p.add_argument("--batch-size", type=_finite(float, what="a batch size"), help="mean concurrent requests, >= 1 (fractions accepted, e.g. 31.99)")
    p.add_argument("--region")
    p.add_argument("--input-tokens", type=_finite(int, what="a whole number of tokens"))
    p.add_argument("--output-tokens", type=_finite(int, what="a whole number of tokens"))
    p.add_argument("--params-b", type=_finite(float, what="billions of parameters"))
    p.add_argument("--active-params-b", type=_finite(float, what="billions of parameters"))
    p.add_argument("--precision", help="weights as served: bfloat16, float16, float32, fp8, int8, mxfp4, nvfp4, "
                                       "int4, awq, gptq, nf4 (default bfloat16)")
    p.add_argument("--pue", type=_finite(float, what="a PUE"))
    p.add_argument("--market-g-per-kwh", type=_finite(float, what="g CO2e/kWh"), help="market-based emission factor, g CO2e/kWh (labelled)")
    p.add_argument("--boundary", choices=BOUNDARIES,
                   help="energy/carbon boundary (default full)")
    p.add_argument("--deployment", metavar="user:NAME",
                   help="apply this calibrated deployment's correction (seal calibrate) to every request")
    p.add_argument("--energy-model", metavar="PATH", help="an energy model artifact (seal train --out)")
    p.add_argument("--live-intensity", action="store_true", default=None,
                   help="hourly live grid intensity (Electricity Maps token from $ELECTRICITYMAPS_TOKEN; "
                        "UK Carbon Intensity API for GB); falls back to annual averages")
    p.set_defaults(func=_cmd_estimate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seal", description="Energy and CO2e of LLM prompts.")
    parser.add_argument("--db", help="DuckDB store path (default: $SEAL_DB, else seal.duckdb in $SEAL_HOME, "
                                         "./data in a checkout, or ~/.local/share/seal)")
    sub = parser.add_subparsers(dest="command", required=True)
    _data_commands(sub)
    _model_commands(sub)
    _estimate_command(sub)
    return parser


class _Terminated(BaseException):
    """SIGTERM as an exception, so ``finally`` blocks remove temporary output files before the process ends."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import signal

    from seal.errors import SealError

    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    try:
        return int(args.func(args) or 0)
    except SealError as exc:
        print(f"seal: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("seal: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:             # `seal estimate ... | head`: the reader left; nothing more to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except _Terminated:
        print("seal: terminated", file=sys.stderr)
        return 143
    except RecursionError:
        print("seal: error: the input nests too deeply to read; give a request log.", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
