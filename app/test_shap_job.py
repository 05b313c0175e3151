"""The job's entry point as a user runs it: output, exit codes, and what it hands to Ray."""
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import shap_job
from distributed_shap import RayExecutor
from testfakes import FakeRay, InProcess, fake_shap, fake_shap_module, installed
from wine_data import FEATURES

APP = os.path.dirname(os.path.abspath(__file__))


def wine_like_csv(path, rows=150, seed=0):
    """A table of the wine table's shape whose quality depends on a few features."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 10, size=(rows, 11))
    quality = np.clip(np.round(3 + 0.3 * X[:, 10] + 0.2 * X[:, 1] * (X[:, 9] > 5)), 0, 10)
    with open(path, "w") as f:
        f.write(";".join([*FEATURES, "quality"]) + "\n")
        for x, q in zip(X, quality):
            f.write(";".join(f"{v:.3f}" for v in x) + f";{int(q)}\n")


def run_main(argv, executor=None):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = shap_job.main(argv, executor=executor)
    return code, out.getvalue(), err.getvalue()


def run_program(*args):
    return subprocess.run([sys.executable, os.path.join(APP, "shap_job.py"), *args], capture_output=True, text=True)


def importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


SMALL = ["--num_rows", "4", "--background", "4", "--num_chunks", "2"]


class WithTable(unittest.TestCase):
    """A wine-like table in a folder of the class's own; table() writes another beside it."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.csv = os.path.join(cls.dir.name, "wine.csv")
        wine_like_csv(cls.csv)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def table(self, name, content):
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(content)
        return path


class Job(WithTable):
    def test_local_run_prints_timings_and_results_match(self):
        code, out, err = run_main(["--executor", "local", "--data", self.csv, "--num_rows", "5", "--background", "6", "--num_chunks", "2"])
        self.assertEqual(code, shap_job.EXIT_MATCH, err)
        self.assertIn(f"data: {self.csv} (150 rows)", out)
        self.assertRegex(out, r"explaining 5 of 30 test rows × 11 features; background 6 rows; all 2046 coalitions")
        self.assertRegex(out, r"load \+ train:\s+\d+\.\d\d s")
        with_shap = importable("shap")
        tasks = 5 if with_shap else 3
        self.assertRegex(out, rf"explanations, one graph of {tasks} tasks on local processes: \d+\.\d\d s")
        self.assertRegex(out, r"ours, serial:\s+done after\s+\d+\.\d\d s  \(1 task\)")
        self.assertRegex(out, r"ours, distributed:\s+done after\s+\d+\.\d\d s  \(2 tasks\)")
        if with_shap:  # the real shap, judged
            self.assertRegex(out, r"shap.KernelExplainer:\s+done after\s+\d+\.\d\d s  \(2 tasks, l1_reg=False\)")
            self.assertRegex(out, r"max \|serial - shap\|\s+= \d\.\d\de[-+]\d\d\n")
        else:
            self.assertIn("shap.KernelExplainer:       not installed: not compared", out)
        self.assertRegex(out, r"max \|serial - distributed\| = 0\.00e\+00\n")
        self.assertTrue(out.rstrip().endswith("Results match!"))

    def test_with_shap_all_three_are_one_graph_and_shap_is_judged_with_l1_reg_off(self):
        ray = FakeRay()
        with fake_shap() as calls:
            code, out, err = run_main(["--data", self.csv, *SMALL], executor=RayExecutor(ray))
        self.assertEqual(code, shap_job.EXIT_MATCH, err + out)
        kinds = [k for k, _ in ray.events]
        self.assertEqual(sorted(ray.tasks), ["explain_chunk"] * 3 + ["shap_chunk"] * 2)
        self.assertNotIn("wait", kinds[: max(i for i, k in enumerate(kinds) if k == "task")], "a result was awaited before every task was submitted")
        self.assertEqual([kw["l1_reg"] for what, kw in calls if what == "shap_values"], [False, False])
        self.assertEqual({kw["nsamples"] for what, kw in calls if what == "shap_values"}, {2 * 11 + 2048})
        self.assertRegex(out, r"max \|serial - shap\|\s+= \d\.\d\de[-+]\d\d\n")
        self.assertRegex(out, r"max \|distributed - shap\|\s+= \d\.\d\de[-+]\d\d\n")
        self.assertIn("Results match!", out)

    def test_shap_with_its_default_feature_selection_is_a_mismatch(self):
        wrong = fake_shap_module([])
        cls = wrong.KernelExplainer
        wrong.KernelExplainer = type("Default", (cls,), {"shap_values": lambda self, X, nsamples="auto", l1_reg=None, silent=False: cls.shap_values(self, X, nsamples, "num_features(10)", silent)})
        with installed("shap", wrong):
            code, out, err = run_main(["--data", self.csv, *SMALL], executor=InProcess())
        self.assertEqual(code, shap_job.EXIT_MISMATCH, err)
        self.assertRegex(err, r"^error: results do not match: max \|(serial|distributed) - shap\| = \d\.\d{3}e[-+]\d\d, more than the tolerance 1e-05\n$")

    def test_a_wrong_value_in_any_one_path_is_a_mismatch(self):
        for path, index in (("serial", 0), ("distributed", 1), ("shap", 1)):
            def change(fn, n, values, path=path, index=index):
                which = "serial" if fn == "explain_chunk" and n == 0 else "distributed" if fn == "explain_chunk" else "shap"
                if which == path and (path == "serial" or n == index):
                    values = values.copy()
                    values[-1, 3] += 1e-3
                return values

            with self.subTest(path=path), fake_shap():
                code, out, err = run_main(["--data", self.csv, *SMALL], executor=InProcess(change))
                self.assertEqual(code, shap_job.EXIT_MISMATCH, out + err)
                self.assertNotIn("Results match!", out)
                self.assertIn("error: results do not match: max |", err)
                self.assertIn("1.000e-03", err)

    def test_sampled_coalitions_are_not_judged_against_shap(self):
        with fake_shap():
            code, out, err = run_main(["--data", self.csv, *SMALL, "--max_coalitions", "64"], executor=InProcess())
        self.assertEqual(code, shap_job.EXIT_MATCH, err)
        self.assertIn("(not judged: sampled coalitions differ from shap's)", out)

    def test_the_script_runs_as_a_program(self):
        r = run_program("--executor", "local", "--data", self.csv, "--num_rows", "3", "--background", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Results match!", r.stdout)

    def test_without_ray_the_default_executor_is_an_infrastructure_error(self):
        if importable("ray"):
            self.skipTest("Ray is installed here")
        code, out, err = run_main(["--data", self.csv])
        self.assertEqual(code, shap_job.EXIT_INFRA)
        self.assertIn("error: Ray is not installed here", err)
        self.assertIn("or pass --executor local", err)

    def test_a_ray_that_cannot_be_reached_is_an_infrastructure_error(self):
        class Unreachable(FakeRay):
            def init(self, **kwargs):
                raise ConnectionError("Could not find any running Ray instance.\nmore")

        with installed("ray", Unreachable()):
            code, out, err = run_main(["--data", self.csv])
        self.assertEqual(code, shap_job.EXIT_INFRA)
        self.assertEqual(err, "error: cannot connect to Ray at auto: ConnectionError: Could not find any running Ray instance.\n")

    def test_an_unexpected_failure_is_exit_3_not_the_mismatch_code(self):
        class Broken:
            def run(self, calls):
                raise MemoryError("out of memory")

        code, out, err = run_main(["--data", self.csv, *SMALL], executor=Broken())
        self.assertEqual(code, shap_job.EXIT_INFRA)
        self.assertTrue(err.rstrip().endswith("error: the job could not run: MemoryError: out of memory"))

    def test_an_unreadable_data_file_exits_2(self):
        code, out, err = run_main(["--executor", "local", "--data", "/nonexistent/wine.csv"])
        self.assertEqual(code, shap_job.EXIT_BAD_INPUT)
        self.assertIn("error: --data /nonexistent/wine.csv: cannot read: No such file or directory", err)


class BadInput(WithTable):
    """Each bad input: one line on stderr naming what was wrong, exit 2, no traceback (as a program)."""

    def bad(self, args, line):
        r = run_program("--executor", "local", *args)
        self.assertEqual(r.returncode, shap_job.EXIT_BAD_INPUT, r.stderr)
        self.assertEqual(r.stderr, line + "\n")
        self.assertNotIn("Results match!", r.stdout)

    def test_bad_data_names_the_file(self):
        bad = self.table("bad.csv", b"a;b\n1;2\n")
        self.bad(["--data", bad], f"error: {bad}: missing column(s) 'fixed acidity', 'volatile acidity', 'citric acid', 'residual sugar', 'chlorides', "
                 "'free sulfur dioxide', 'total sulfur dioxide', 'density', 'pH', 'sulphates', 'alcohol', 'quality'; expected the 11 features (fixed acidity, "
                 "volatile acidity, citric acid, residual sugar, chlorides, free sulfur dioxide, total sulfur dioxide, density, pH, sulphates, alcohol) and 'quality'")

    def test_inf_in_a_cell(self):
        with open(self.csv, "rb") as f:
            lines = f.read().split(b"\n")
        cells = lines[4].split(b";")
        cells[10] = b"inf"
        lines[4] = b";".join(cells)
        path = self.table("inf.csv", b"\n".join(lines))
        self.bad(["--data", path], f"error: {path}: line 5, column 'alcohol': inf is not a finite number")

    def test_a_file_that_is_not_utf8(self):
        with open(self.csv, "rb") as f:
            content = f.read()
        path = self.table("latin1.csv", content.replace(b"quality", b"qualit\xe9", 1))
        self.bad(["--data", path], f"error: {path}: not UTF-8 text (byte 0xe9 at offset {content.index(b'quality') + 6}); expected a UTF-8 CSV table")

    def test_a_header_only_file(self):
        with open(self.csv, "rb") as f:
            header = f.read().split(b"\n")[0] + b"\n"
        path = self.table("header.csv", header)
        self.bad(["--data", path], f"error: {path}: no rows after the header; at least 10 are needed to train and explain")

    def test_a_negative_seed(self):
        self.bad(["--data", self.csv, "--seed", "-1"], "error: argument --seed: expected a whole number from 0 to 4294967295, got '-1' (see --help)")

    def test_too_few_coalitions(self):
        self.bad(["--data", self.csv, "--max_coalitions", "1"], "error: argument --max_coalitions: expected a whole number of at least 22 (fewer cannot determine 11 Shapley values), got '1' (see --help)")

    def test_a_negative_or_nan_tolerance(self):
        for value in ("-1e-5", "nan", "inf", "x"):
            with self.subTest(value=value):
                self.bad(["--data", self.csv, f"--tolerance={value}"], f"error: argument --tolerance: expected a finite number of at least 0, got '{value}' (see --help)")

    def test_zero_rows(self):
        self.bad(["--data", self.csv, "--num_rows", "0"], "error: argument --num_rows: expected a whole number of at least 1, got '0' (see --help)")

    def test_s3_without_credentials_is_bad_input_and_s3_out_of_reach_an_infrastructure_error(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        no_creds = subprocess.run([sys.executable, os.path.join(APP, "shap_job.py"), "--executor", "local", "--s3_bucket", "b"], capture_output=True, text=True, env=env)
        self.assertEqual(no_creds.returncode, shap_job.EXIT_BAD_INPUT, no_creds.stderr)
        self.assertEqual(no_creds.stderr, "error: no AWS_ACCESS_KEY_ID_SESS: not in the environment and /etc/awstoken/AWS_ACCESS_KEY_ID_SESS is missing or empty\n")
        if importable("boto3"):
            return  # the rest needs S3 out of reach: boto3 missing is how it is here
        creds = {**env, "AWS_ACCESS_KEY_ID_SESS": "a", "AWS_SECRET_ACCESS_KEY_SESS": "b", "AWS_SESSION_TOKEN": "c"}
        unreachable = subprocess.run([sys.executable, os.path.join(APP, "shap_job.py"), "--executor", "local", "--s3_bucket", "b"], capture_output=True, text=True, env=creds)
        self.assertEqual((unreachable.returncode, unreachable.stderr), (shap_job.EXIT_INFRA, "error: s3://b/winequality-red.csv: cannot read: boto3 is not installed\n"))

    def test_a_bad_pip_switch_in_the_environment(self):
        r = subprocess.run([sys.executable, os.path.join(APP, "shap_job.py"), "--data", self.csv], capture_output=True, text=True, env={**os.environ, "SHAP_PIP_RUNTIME_ENV": "no"})
        self.assertEqual((r.returncode, r.stderr), (shap_job.EXIT_BAD_INPUT, "error: SHAP_PIP_RUNTIME_ENV: expected on or off, got 'no'\n"))


class OnRay(WithTable):
    """The default executor: the driver connects to the cluster and runs the pipeline as a Ray task
    in the runtime environment; the pipeline's graph is Ray tasks (through the fake of Ray's API)."""

    def run_on_fake_ray(self, *args, env=None):
        ray = FakeRay()
        old = os.environ.get("SHAP_PIP_RUNTIME_ENV")
        try:
            if env is not None:
                os.environ["SHAP_PIP_RUNTIME_ENV"] = env
            with installed("ray", ray):
                code, out, err = run_main(["--data", self.csv, *SMALL, "--skip_shap", *args])
        finally:
            os.environ.pop("SHAP_PIP_RUNTIME_ENV", None) if old is None else os.environ.__setitem__("SHAP_PIP_RUNTIME_ENV", old)
        self.assertEqual(code, shap_job.EXIT_MATCH, err)
        self.assertIn("explanations, one graph of 3 tasks on Ray:", out)
        inits = [kw for kind, kw in ray.events if kind == "init"]
        self.assertEqual(len(inits), 1)
        self.assertEqual(ray.tasks, ["pipeline_on_ray", "explain_chunk", "explain_chunk", "explain_chunk"])
        self.assertEqual(ray.events[-1], ("shutdown", None))
        return inits[0]

    def test_by_default_ray_installs_the_pinned_packages(self):
        init = self.run_on_fake_ray()
        self.assertEqual(init["address"], "auto")
        self.assertEqual(init["runtime_env"]["pip"], shap_job.pinned_requirements(os.path.join(APP, "requirements.txt")))
        self.assertEqual(init["runtime_env"]["working_dir"], APP)

    def test_the_switch_turns_the_pip_runtime_env_off(self):
        for how in (dict(args=["--pip_runtime_env", "off"]), dict(env="off")):
            with self.subTest(**how):
                init = self.run_on_fake_ray(*how.get("args", []), env=how.get("env"))
                self.assertNotIn("pip", init["runtime_env"])
                self.assertEqual(init["runtime_env"]["working_dir"], APP)  # the code still travels through Ray, not PyPI

    def test_a_real_local_ray(self):
        if not importable("ray"):
            self.skipTest("Ray is not installed here")
        import ray

        ray.init(num_cpus=2, include_dashboard=False, runtime_env=shap_job.runtime_env(APP, pip=False))
        try:
            code, out, err = run_main(["--data", self.csv, *SMALL, "--skip_shap"], executor=RayExecutor(ray))
        finally:
            ray.shutdown()
        self.assertEqual(code, shap_job.EXIT_MATCH, err)
        self.assertIn("Results match!", out)


class Image(unittest.TestCase):
    """app/Dockerfile: the air-gapped image is the pinned Ray image plus exactly requirements.txt."""

    def setUp(self):
        with open(os.path.join(APP, "Dockerfile"), encoding="utf-8") as f:
            self.lines = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]

    def test_it_starts_from_the_pinned_ray_image_the_cluster_runs(self):
        with open(os.path.join(APP, "..", "playbooks", "support", "vars", "ray.ts"), encoding="utf-8") as f:
            default = re.search(r"image: '(rayproject/ray:[^']+)'", f.read()).group(1)
        self.assertEqual([l for l in self.lines if l.startswith("FROM ")], [f"FROM {default}"])

    def test_it_installs_exactly_the_pins_of_requirements_txt(self):
        copied = [l.split()[1:] for l in self.lines if l.startswith("COPY requirements.txt")]
        self.assertEqual(copied, [["requirements.txt", "/tmp/requirements.txt"]])
        installs = [l for l in self.lines if "pip install" in l]
        self.assertEqual(len(installs), 1)
        words = installs[0].split("&&")[0].split()
        self.assertEqual(words[words.index("install") + 1 :], ["--no-cache-dir", "-r", "/tmp/requirements.txt"])  # nothing else installed
        self.assertNotRegex("\n".join(self.lines), r"==")  # no pins of its own to drift from requirements.txt

    def test_the_tests_stay_out_of_the_image(self):
        with open(os.path.join(APP, ".dockerignore"), encoding="utf-8") as f:
            ignored = f.read().split()
        self.assertIn("test*.py", ignored)
        self.assertIn("COPY *.py /app/", self.lines)


class RuntimeEnv(unittest.TestCase):
    def test_the_tasks_get_this_folder_and_pinned_packages(self):
        env = shap_job.runtime_env(APP)
        self.assertEqual(env["working_dir"], APP)
        self.assertIn("..*", env["excludes"])  # a ConfigMap volume's hidden ..data copies
        names = [p.split("==")[0] for p in env["pip"]]
        for needed in ("numpy", "pandas", "scikit-learn", "shap", "boto3"):
            self.assertIn(needed, names)
        self.assertTrue(all("==" in p for p in env["pip"]))

    def test_an_unpinned_requirement_is_refused_with_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("# pins\nnumpy==1.26.4\nshap>=0.40\n")
        try:
            with self.assertRaisesRegex(ValueError, rf"{f.name}:3: expected name==version, got 'shap>=0.40'"):
                shap_job.pinned_requirements(f.name)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
