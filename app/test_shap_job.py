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


class Job(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.csv = os.path.join(cls.dir.name, "wine.csv")
        wine_like_csv(cls.csv)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_local_run_prints_timings_and_results_match(self):
        code, out, err = run_main(["--executor", "local", "--data", self.csv, "--num_rows", "5", "--background", "6", "--num_chunks", "2"])
        self.assertEqual(code, 0, err)
        self.assertIn(f"data: {self.csv} (150 rows)", out)
        self.assertRegex(out, r"explaining 5 of 30 test rows × 11 features; background 6 rows; all 2046 coalitions")
        for label in ("ours, serial:", "ours, distributed:", "load + train:"):
            self.assertRegex(out, re.escape(label) + r"\s+\d+\.\d\d s")
        self.assertIn("(2 chunks on local processes)", out)
        self.assertIn("shap.KernelExplainer:         not installed: skipped", out)
        self.assertRegex(out, r"max \|serial - distributed\| = 0\.00e\+00 \(tolerance 1e-05\)")
        self.assertTrue(out.rstrip().endswith("Results match!"))

    def test_a_mismatch_is_an_error_with_the_difference(self):
        class Reversing:
            def map(self, fn, shared, items):
                return [fn(shared, item) for item in items][::-1]

        code, out, err = run_main(["--data", self.csv, "--num_rows", "4", "--background", "4", "--num_chunks", "2"], executor=Reversing())
        self.assertEqual(code, shap_job.EXIT_MISMATCH)
        self.assertNotIn("Results match!", out)
        self.assertRegex(err, r"error: results do not match: ours serial and distributed differ by \d\.\d{3}e[-+]\d\d \(more than 1e-05\)")

    def test_bad_data_exits_2_naming_the_file(self):
        bad = os.path.join(self.dir.name, "bad.csv")
        with open(bad, "w") as f:
            f.write("a;b\n1;2\n")
        code, out, err = run_main(["--executor", "local", "--data", bad])
        self.assertEqual(code, shap_job.EXIT_BAD_INPUT)
        self.assertIn(f"error: {bad}: missing column(s) 'fixed acidity'", err)

    def test_the_script_runs_as_a_program(self):
        r = subprocess.run(
            [sys.executable, os.path.join(APP, "shap_job.py"), "--executor", "local", "--data", self.csv, "--num_rows", "3", "--background", "3"],
            capture_output=True,
            text=True,
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Results match!", r.stdout)

    def test_without_ray_the_default_executor_says_what_to_do(self):
        if shap_job_has_ray():
            self.skipTest("Ray is installed here")
        code, out, err = run_main(["--data", self.csv])
        self.assertEqual(code, shap_job.EXIT_BAD_INPUT)
        self.assertIn("error: Ray is not installed here", err)
        self.assertIn("or pass --executor local", err)

    def test_an_unreadable_data_file_exits_2(self):
        code, out, err = run_main(["--executor", "local", "--data", "/nonexistent/wine.csv"])
        self.assertEqual(code, shap_job.EXIT_BAD_INPUT)
        self.assertIn("error: --data /nonexistent/wine.csv: cannot read: No such file or directory", err)

    def test_bad_arguments_are_refused(self):
        with contextlib.redirect_stderr(io.StringIO()) as err, self.assertRaises(SystemExit):
            shap_job.parse_args(["--num_rows", "0"])
        self.assertIn("expected a whole number of at least 1, got '0'", err.getvalue())


def shap_job_has_ray():
    import importlib.util

    return importlib.util.find_spec("ray") is not None


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
