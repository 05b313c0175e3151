#!/usr/bin/env python3
"""The wine-quality KernelSHAP job.

Reads the red wine table (a local file, or S3 with session credentials), trains a small random
forest and explains N test rows three ways, concurrently, as one graph of tasks (Ray tasks on the
cluster, worker processes with --executor local): our KernelSHAP serially (one task), the same
split across chunks, and shap.KernelExplainer (l1_reg=False) when shap is installed. Then judges
them: serial against distributed, and both against shap when both enumerate every coalition;
`Results match!` when every difference is within --tolerance.

Exit codes: 0 the results match; 1 they do not (mismatch); 2 bad input (arguments, the table,
S3 refusing the credentials or the object); 3 infrastructure (Ray missing or unreachable, a task
or S3 connection failing, anything unexpected).

On the cluster (in the Ray head pod):  python /app/shap_job.py --num_rows 64
Without Ray:                           python3 app/shap_job.py --executor local --num_rows 8

The driver needs only the standard library and Ray: the work itself runs as a Ray task in a
runtime environment with this folder as working_dir and, unless --pip_runtime_env off (an image
with the packages baked in, app/Dockerfile), the pinned packages of requirements.txt.
"""
import argparse
import math
import os
import sys
import time
import traceback

APP_DIR = os.path.dirname(os.path.abspath(__file__))
# Where the table is when none is named: beside this file (the ConfigMap's flat layout).
DEFAULT_DATA = [os.path.join(APP_DIR, "winequality-red.csv")]
EXIT_MATCH = 0
EXIT_MISMATCH = 1
EXIT_BAD_INPUT = 2
EXIT_INFRA = 3
NUM_FEATURES = 11  # the wine table's (wine_data.FEATURES; not imported: the driver needs no pandas)


class JobError(Exception):
    """Bad input or setup, said in one line; the job exits 2."""

    code = EXIT_BAD_INPUT


class InfraError(JobError):
    """The job could not run for reasons outside its input; exits 3."""

    code = EXIT_INFRA


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, not argparse's usage block
        raise JobError(f"{message} (see --help)")


def whole(low, high=None, why=""):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise argparse.ArgumentTypeError(f"expected a whole number {bound}{why}, got {text!r}")
        return value

    return parse


positive_int = whole(1)


def tolerance(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number of at least 0, got {text!r}")
    return value


def parse_args(argv):
    p = Parser(prog="shap_job.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--num_rows", type=positive_int, default=16, help="test rows to explain (default 16)")
    p.add_argument("--data", default="", help="local CSV file (default: winequality-red.csv beside this file)")
    p.add_argument("--s3_bucket", default=os.environ.get("SHAP_S3_BUCKET", ""), help="read s3://BUCKET/KEY instead (env SHAP_S3_BUCKET)")
    p.add_argument("--s3_key", default=os.environ.get("SHAP_S3_KEY", "winequality-red.csv"), help="(env SHAP_S3_KEY)")
    p.add_argument("--background", type=positive_int, default=20, help="background rows sampled from the training set (default 20)")
    p.add_argument("--num_chunks", type=positive_int, default=4, help="tasks the rows are split into (default 4)")
    p.add_argument(
        "--max_coalitions",
        type=whole(2 * NUM_FEATURES, why=f" (fewer cannot determine {NUM_FEATURES} Shapley values)"),
        default=2048,
        help="all coalitions up to this many, else a sample (default 2048: all of them)",
    )
    p.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    p.add_argument("--tolerance", type=tolerance, default=1e-5, help="max abs difference allowed between the results (default 1e-5)")
    p.add_argument("--executor", choices=["ray", "local"], default="ray", help="ray tasks (default) or local worker processes")
    p.add_argument("--ray_address", default="auto")
    p.add_argument("--local_workers", type=positive_int, default=2)
    p.add_argument("--skip_shap", action="store_true", help="do not run shap.KernelExplainer even when installed")
    p.add_argument(
        "--pip_runtime_env",
        choices=["on", "off"],
        default=os.environ.get("SHAP_PIP_RUNTIME_ENV", "on"),
        help="on: Ray installs requirements.txt on each node (needs PyPI); off: the image has them (app/Dockerfile). Env SHAP_PIP_RUNTIME_ENV",
    )
    return p.parse_args(argv)


def pinned_requirements(path):
    """The `name==version` lines of a requirements file; anything unpinned is an error."""
    pins = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            spec = line.split("#", 1)[0].strip()
            if not spec:
                continue
            if "==" not in spec or not all(spec.split("==", 1)):
                raise ValueError(f"{path}:{n}: expected name==version, got {spec!r}")
            pins.append(spec)
    return pins


def runtime_env(app_dir, pip=True):
    """Ray's runtime environment for the job's tasks: this folder's code and, with pip, the pinned
    packages (installed from PyPI on each node; without, the image must have them: app/Dockerfile).
    A ConfigMap volume keeps its files under hidden ..data folders (symlinked): those are left out."""
    env = {"working_dir": app_dir, "excludes": ["..*", "*.csv", "data/", "test*.py", "__pycache__/", "Dockerfile"]}
    if pip:
        env["pip"] = pinned_requirements(os.path.join(app_dir, "requirements.txt"))
    return env


def data_source(args):
    """What to read, as plain data: a local file is read here (tasks may run on pods without it)."""
    if args.s3_bucket:
        return {"s3_bucket": args.s3_bucket, "s3_key": args.s3_key}
    path = args.data or next((p for p in DEFAULT_DATA if os.path.exists(p)), DEFAULT_DATA[0])
    try:
        with open(path, "rb") as f:
            return {"csv": f.read(), "source": path}
    except OSError as e:
        raise JobError(f"--data {path}: cannot read: {e.strerror}") from None


def shap_installed():
    try:
        import shap  # noqa: F401
    except ImportError:
        return False
    return True


def shap_nsamples(M, max_coalitions):
    """shap's budget: every coalition (it counts the empty and full ones too) when ours enumerates them."""
    return 2 * M + max_coalitions


def shap_chunk(shared, rows):
    """One task: the shap library's KernelExplainer on a chunk, with the same background rows.
    l1_reg=False: since shap 0.47 the default selects features, which is not the Shapley values."""
    import numpy as np
    import shap

    model, background, nsamples = shared
    explainer = shap.KernelExplainer(model.predict, background)
    values = explainer.shap_values(rows, nsamples=nsamples, l1_reg=False, silent=True)
    return np.asarray(values).reshape(len(rows), background.shape[1])


def run_pipeline(config, executor):
    """Load, train, then the three explanations as one graph on the executor. Returns a report of
    plain values (it may cross from a Ray task to the driver); bad data or missing credentials give
    {'error': message, 'exit': code}."""
    import numpy as np

    from distributed_shap import chunks_of, explain_chunk, run_graph, stack
    from kernel_shap import KernelShap, summarise_background
    from wine_data import CredentialsError, DataError, S3Unreachable, parse_csv, read_from_s3
    from wine_model import split, train

    timings = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    try:
        if "s3_bucket" in config:
            source = f"s3://{config['s3_bucket']}/{config['s3_key']}"
            table = read_from_s3(config["s3_bucket"], config["s3_key"])
        else:
            source = config["source"]
            table = parse_csv(config["csv"], source)
    except (DataError, CredentialsError) as e:
        return {"error": str(e), "exit": EXIT_BAD_INPUT}
    except S3Unreachable as e:
        return {"error": str(e), "exit": EXIT_INFRA}
    lap("load")
    parts = split(table, seed=config["seed"])
    model = train(parts.X_train, parts.y_train)
    lap("train")
    X = parts.X_test[: config["num_rows"]]
    background = summarise_background(parts.X_train, config["background"], config["seed"])
    explainer = KernelShap(model.predict, background, config["max_coalitions"], config["seed"])
    chunks = chunks_of(X, config["num_chunks"])
    groups = {"serial": (explain_chunk, explainer, [X]), "distributed": (explain_chunk, explainer, chunks)}
    with_shap = not config["skip_shap"] and shap_installed()
    if with_shap:
        groups["shap"] = (shap_chunk, (model, background, shap_nsamples(explainer.M, config["max_coalitions"])), chunks)
    results = run_graph(executor, groups)
    lap("explain")
    values = {name: stack(parts_, explainer.M) for name, (parts_, _) in results.items()}
    return {
        "source": source,
        "table_rows": len(table),
        "test_rows": len(parts.X_test),
        "rows": len(X),
        "features": explainer.M,
        "background": len(background),
        "coalitions": len(explainer.masks),
        "exact": explainer.exact,
        "chunks": len(chunks),
        "base_value": explainer.expected_value,
        "test_r2": float(model.score(parts.X_test, parts.y_test)),
        "efficiency_error": float(np.max(np.abs(values["serial"].sum(axis=1) - (model.predict(X) - explainer.expected_value)))) if len(X) else 0.0,
        "values": values,
        "shap": "shap.KernelExplainer" if with_shap else "skipped (--skip_shap)" if config["skip_shap"] else "not installed",
        "tasks": {name: len(parts_) for name, (parts_, _) in results.items()},
        "done_after": {name: seconds for name, (_, seconds) in results.items()},
        "timings": timings,
        "executor": getattr(executor, "name", type(executor).__name__),
    }


def max_diff(a, b):
    """max |a - b|, NaN when either has a non-finite value or the shapes differ (never within tolerance)."""
    import numpy as np

    if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.nan
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def judge(values, exact, tolerance):
    """The comparisons as (label, difference or None when not judged, why not); ok when every
    judged difference is within tolerance. shap is judged only when both enumerate every
    coalition: sampled coalitions differ between the two by design."""
    serial, distributed = values["serial"], values["distributed"]
    comparisons = [("serial - distributed", max_diff(serial, distributed), "")]
    if "shap" in values:
        why = "" if exact else "not judged: sampled coalitions differ from shap's"
        comparisons += [("serial - shap", max_diff(serial, values["shap"]), why), ("distributed - shap", max_diff(distributed, values["shap"]), why)]
    judged = [d for _, d, why in comparisons if not why]
    ok = all(d <= tolerance for d in judged)  # NaN compares False: a mismatch
    return comparisons, ok


def format_report(report, tolerance):
    """The lines to print, whether every judged difference is within tolerance, and the worst one."""
    t = report["timings"]
    coalitions = f"all {report['coalitions']} coalitions" if report["exact"] else f"{report['coalitions']} sampled coalitions"
    tasks, after = report["tasks"], report["done_after"]
    lines = [
        f"data: {report['source']} ({report['table_rows']} rows); RandomForestRegressor, test R² {report['test_r2']:.3f}",
        f"explaining {report['rows']} of {report['test_rows']} test rows × {report['features']} features; "
        f"background {report['background']} rows; {coalitions}; base value {report['base_value']:.4f}",
        f"load + train:                 {t['load'] + t['train']:8.2f} s",
        f"explanations, one graph of {sum(tasks.values())} tasks on {report['executor']}: {t['explain']:.2f} s",
        f"  ours, serial:               done after {after['serial']:8.2f} s  ({tasks['serial']} task)",
        f"  ours, distributed:          done after {after['distributed']:8.2f} s  ({tasks['distributed']} tasks)",
        f"  shap.KernelExplainer:       done after {after['shap']:8.2f} s  ({tasks['shap']} tasks, l1_reg=False)"
        if "shap" in after
        else f"  shap.KernelExplainer:       {report['shap']}: not compared",
        f"efficiency: max |sum(phi) - (f(x) - base)| = {report['efficiency_error']:.2e}",
    ]
    comparisons, ok = judge(report["values"], report["exact"], tolerance)
    for label, diff, why in comparisons:
        lines.append(f"max |{label}| {' ' * (20 - len(label))}= {diff:.2e}" + (f" ({why})" if why else ""))
    lines.append(f"tolerance: {tolerance:g}")
    worst = max(((d, label) for label, d, why in comparisons if not why and not d <= tolerance), default=None, key=lambda x: (math.isnan(x[0]), x[0]))
    return lines, ok, worst


def pipeline_on_ray(config):
    """The pipeline as a Ray task, so it runs in the runtime environment; its graph is Ray tasks."""
    import ray

    from distributed_shap import RayExecutor

    return run_pipeline(config, RayExecutor(ray))


def run_on_ray(config, address, pip):
    try:
        import ray
    except ImportError:
        raise InfraError(
            "Ray is not installed here. Run the job in the Ray head pod "
            "(kubectl exec -n ray deploy/ray-head -c ray-head -- python /app/shap_job.py …), or pass --executor local"
        ) from None
    env = runtime_env(APP_DIR, pip)
    try:
        ray.init(address=address, runtime_env=env)
    except Exception as e:
        raise InfraError(f"cannot connect to Ray at {address}: {type(e).__name__}: {first_line(e)}") from None
    try:
        return ray.get(ray.remote(pipeline_on_ray).remote(config))
    except Exception as e:  # a task or node failed, or the runtime env could not be set up
        raise InfraError(f"the Ray job failed: {type(e).__name__}: {first_line(e)}") from None
    finally:
        ray.shutdown()


def first_line(e):
    return (str(e).strip().splitlines() or [""])[0]


def main(argv=None, executor=None):
    try:
        return run_job(parse_args(argv), executor)
    except JobError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except Exception as e:  # a bug or a broken environment: exit 3, never 1 (which means mismatch)
        traceback.print_exc()
        print(f"error: the job could not run: {type(e).__name__}: {first_line(e)}", file=sys.stderr)
        return EXIT_INFRA


def run_job(args, executor):
    if args.pip_runtime_env not in ("on", "off"):
        raise JobError(f"SHAP_PIP_RUNTIME_ENV: expected on or off, got {args.pip_runtime_env!r}")
    config = {
        **data_source(args),
        "num_rows": args.num_rows,
        "background": args.background,
        "num_chunks": args.num_chunks,
        "max_coalitions": args.max_coalitions,
        "seed": args.seed,
        "skip_shap": args.skip_shap,
    }
    started = time.perf_counter()
    if executor is None and args.executor == "ray":
        report = run_on_ray(config, args.ray_address, args.pip_runtime_env == "on")
    else:
        from distributed_shap import LocalExecutor

        report = run_pipeline(config, executor or LocalExecutor(args.local_workers))
    if "error" in report:
        raise (InfraError if report["exit"] == EXIT_INFRA else JobError)(report["error"])
    lines, ok, worst = format_report(report, args.tolerance)
    print("\n".join(lines))
    print(f"total: {time.perf_counter() - started:.2f} s")
    if not ok:
        diff, label = worst
        print(f"error: results do not match: max |{label}| = {diff:.3e}, more than the tolerance {args.tolerance:g}", file=sys.stderr)
        return EXIT_MISMATCH
    print("Results match!")
    return EXIT_MATCH


if __name__ == "__main__":
    sys.exit(main())
