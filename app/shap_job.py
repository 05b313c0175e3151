#!/usr/bin/env python3
"""The wine-quality KernelSHAP job.

Reads the red wine table (a local file, or S3 with session credentials), trains a small random
forest and explains N test rows three ways: our KernelSHAP serially, the same split across tasks
(Ray tasks on the cluster, worker processes with --executor local), and shap.KernelExplainer when
shap is installed. Prints the timing of each and `Results match!` when ours serial and distributed
agree within the tolerance; otherwise says by how much they differ and exits 1.

On the cluster (in the Ray head pod):  python /app/shap_job.py --num_rows 64
Without Ray:                           python3 app/shap_job.py --executor local --num_rows 8

The driver needs only the standard library and Ray: the work itself runs as a Ray task in a
runtime environment with the pinned packages of requirements.txt and this folder as working_dir.
"""
import argparse
import os
import sys
import time

APP_DIR = os.path.dirname(os.path.abspath(__file__))
# Where the table is when none is named: beside this file (the ConfigMap's flat layout).
DEFAULT_DATA = [os.path.join(APP_DIR, "winequality-red.csv")]
EXIT_MISMATCH = 1
EXIT_BAD_INPUT = 2


class JobError(Exception):
    """Bad input or setup, said in one line; the job exits 2."""


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(prog="shap_job.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--num_rows", type=positive_int, default=16, help="test rows to explain (default 16)")
    p.add_argument("--data", default="", help="local CSV file (default: winequality-red.csv beside this file)")
    p.add_argument("--s3_bucket", default=os.environ.get("SHAP_S3_BUCKET", ""), help="read s3://BUCKET/KEY instead (env SHAP_S3_BUCKET)")
    p.add_argument("--s3_key", default=os.environ.get("SHAP_S3_KEY", "winequality-red.csv"), help="(env SHAP_S3_KEY)")
    p.add_argument("--background", type=positive_int, default=20, help="background rows sampled from the training set (default 20)")
    p.add_argument("--num_chunks", type=positive_int, default=4, help="tasks the rows are split into (default 4)")
    p.add_argument("--max_coalitions", type=positive_int, default=2048, help="all coalitions up to this many, else a sample (default 2048)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tolerance", type=float, default=1e-5, help="max abs difference allowed between serial and distributed")
    p.add_argument("--executor", choices=["ray", "local"], default="ray", help="ray tasks (default) or local worker processes")
    p.add_argument("--ray_address", default="auto")
    p.add_argument("--local_workers", type=positive_int, default=2)
    p.add_argument("--skip_shap", action="store_true", help="do not run shap.KernelExplainer even when installed")
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


def runtime_env(app_dir):
    """Ray's runtime environment for the job's tasks: this folder's code and the pinned packages.
    A ConfigMap volume keeps its files under hidden ..data folders (symlinked): those are left out."""
    return {
        "working_dir": app_dir,
        "excludes": ["..*", "*.csv", "data/", "test_*.py", "__pycache__/"],
        "pip": pinned_requirements(os.path.join(app_dir, "requirements.txt")),
    }


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


def run_pipeline(config, executor):
    """Load, train, explain three ways. Returns a report of plain values (it may cross from a Ray
    task to the driver); bad data or missing credentials give {'error': message}."""
    import numpy as np

    from distributed_shap import explain_distributed
    from kernel_shap import KernelShap, summarise_background
    from wine_data import CredentialsError, DataError, parse_csv, read_from_s3
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
        return {"error": str(e)}
    lap("load")
    parts = split(table, seed=config["seed"])
    model = train(parts.X_train, parts.y_train)
    lap("train")
    X = parts.X_test[: config["num_rows"]]
    background = summarise_background(parts.X_train, config["background"], config["seed"])
    explainer = KernelShap(model.predict, background, config["max_coalitions"], config["seed"])
    serial = explainer.explain(X)
    lap("serial")
    distributed = explain_distributed(explainer, X, executor, config["num_chunks"])
    lap("distributed")
    report = {
        "source": source,
        "table_rows": len(table),
        "test_rows": len(parts.X_test),
        "rows": len(X),
        "features": explainer.M,
        "background": len(background),
        "coalitions": len(explainer.masks),
        "exact": explainer.exact,
        "chunks": config["num_chunks"],
        "base_value": explainer.expected_value,
        "test_r2": float(model.score(parts.X_test, parts.y_test)),
        "efficiency_error": float(np.max(np.abs(serial.sum(axis=1) - (model.predict(X) - explainer.expected_value)))),
        "max_diff_distributed": float(np.max(np.abs(serial - distributed))) if len(X) else 0.0,
        "max_diff_shap": None,
        "shap": "skipped (--skip_shap)" if config["skip_shap"] else "not installed: skipped",
        "timings": timings,
    }
    if not config["skip_shap"] and shap_installed():
        from distributed_shap import chunks_of

        shap_parts = executor.map(shap_chunk, (model, background, config["max_coalitions"]), chunks_of(X, config["num_chunks"]))
        lap("shap")
        report["max_diff_shap"] = float(np.max(np.abs(serial - np.vstack(shap_parts))))
        report["shap"] = "shap.KernelExplainer"
    return report


def shap_installed():
    import importlib.util

    return importlib.util.find_spec("shap") is not None


def shap_chunk(shared, rows):
    """One task: the shap library's KernelExplainer on a chunk, with the same background rows."""
    import numpy as np
    import shap

    model, background, max_coalitions = shared
    explainer = shap.KernelExplainer(model.predict, background)
    values = explainer.shap_values(rows, nsamples=2 * background.shape[1] + max_coalitions, silent=True)
    return np.asarray(values).reshape(len(rows), background.shape[1])


def pipeline_on_ray(config):
    """The pipeline as a Ray task, so it runs in the runtime environment; its chunks are Ray tasks."""
    import ray

    from distributed_shap import RayExecutor

    return run_pipeline(config, RayExecutor(ray))


def run_on_ray(config, address):
    try:
        import ray
    except ImportError:
        raise JobError(
            "Ray is not installed here. Run the job in the Ray head pod "
            "(kubectl exec -n ray deploy/ray-head -c ray-head -- python /app/shap_job.py …), or pass --executor local"
        ) from None
    ray.init(address=address, runtime_env=runtime_env(APP_DIR))
    try:
        return ray.get(ray.remote(pipeline_on_ray).remote(config))
    finally:
        ray.shutdown()


def format_report(report, tolerance, how):
    """The lines to print and whether ours serial and distributed agree within tolerance."""
    t = report["timings"]
    coalitions = f"all {report['coalitions']} coalitions" if report["exact"] else f"{report['coalitions']} sampled coalitions"
    lines = [
        f"data: {report['source']} ({report['table_rows']} rows); RandomForestRegressor, test R² {report['test_r2']:.3f}",
        f"explaining {report['rows']} of {report['test_rows']} test rows × {report['features']} features; "
        f"background {report['background']} rows; {coalitions}; base value {report['base_value']:.4f}",
        f"load + train:                 {t['load'] + t['train']:8.2f} s",
        f"ours, serial:                 {t['serial']:8.2f} s",
        f"ours, distributed:            {t['distributed']:8.2f} s  ({report['chunks']} {how})",
        f"shap.KernelExplainer:         {t['shap']:8.2f} s" if "shap" in t else f"shap.KernelExplainer:         {report['shap']}",
        f"efficiency: max |sum(phi) - (f(x) - base)| = {report['efficiency_error']:.2e}",
        f"max |serial - distributed| = {report['max_diff_distributed']:.2e} (tolerance {tolerance:g})",
    ]
    if report["max_diff_shap"] is not None:
        lines.append(f"max |serial - shap|        = {report['max_diff_shap']:.2e}")
    ok = report["max_diff_distributed"] <= tolerance
    return lines, ok


def main(argv=None, executor=None):
    args = parse_args(argv)
    try:
        return run_job(args, executor)
    except JobError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


def run_job(args, executor):
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
        how = "chunks on Ray tasks"
        report = run_on_ray(config, args.ray_address)
    else:
        from distributed_shap import LocalExecutor

        how = "chunks on local processes"
        report = run_pipeline(config, executor or LocalExecutor(args.local_workers))
    if "error" in report:
        raise JobError(report["error"])
    lines, ok = format_report(report, args.tolerance, how)
    print("\n".join(lines))
    print(f"total: {time.perf_counter() - started:.2f} s")
    if not ok:
        print(
            f"error: results do not match: ours serial and distributed differ by {report['max_diff_distributed']:.3e} "
            f"(more than {args.tolerance:g})",
            file=sys.stderr,
        )
        return EXIT_MISMATCH
    print("Results match!")
    return 0


if __name__ == "__main__":
    sys.exit(main())
