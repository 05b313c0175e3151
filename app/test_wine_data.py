"""Reading the table from a local file or S3, and where the session credentials come from."""
import io
import os
import subprocess
import sys
import tempfile
import unittest

from testdata import shared_table_path
from wine_data import CREDENTIAL_KEYS, FEATURES, CredentialsError, DataError, S3Unreachable, load_local, parse_csv, read_from_s3, session_credentials

APP = os.path.dirname(os.path.abspath(__file__))


def table_text(sep, rows=12):
    header = sep.join([*FEATURES, "quality"])
    lines = [sep.join(str(round(0.1 * r + 0.01 * c, 3)) for c in range(11)) + f"{sep}{5 + r % 3}" for r in range(rows)]
    return "\n".join([header, *lines]) + "\n"


class LocalFile(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_semicolon_and_comma_separated_files_give_the_same_table(self):
        semi = load_local(self.write("uci.csv", table_text(";")))
        comma = load_local(self.write("bucket.csv", table_text(",")))
        self.assertEqual(list(semi.columns), [*FEATURES, "quality"])
        self.assertEqual(semi.shape, (12, 12))
        self.assertTrue(semi.equals(comma))

    @unittest.skipUnless(shared_table_path(), "no shared copy of the UCI table on this machine")
    def test_the_shared_copy_is_the_whole_uci_table(self):
        table = load_local(shared_table_path())
        self.assertEqual(table.shape, (1599, 12))
        self.assertEqual(sorted(table["quality"].unique()), [3.0, 4.0, 5.0, 6.0, 7.0, 8.0])

    def test_a_missing_column_is_named_with_the_file(self):
        path = self.write("bad.csv", table_text(";").replace("alcohol", "alc"))
        with self.assertRaisesRegex(DataError, r"bad\.csv: missing column\(s\) 'alcohol'; expected the 11 features"):
            load_local(path)

    def test_text_in_a_number_column_is_refused(self):
        text = table_text(",").replace("\n0.0,", "\nlow,", 1)
        with self.assertRaisesRegex(DataError, r"x\.csv: column\(s\) 'fixed acidity' are not numeric"):
            parse_csv(text, "x.csv")

    def test_a_missing_file_is_named(self):
        with self.assertRaisesRegex(DataError, r"/nonexistent/wine\.csv: cannot read: No such file"):
            load_local("/nonexistent/wine.csv")

    def test_reading_locally_never_imports_boto3(self):
        path = self.write("wine.csv", table_text(";"))
        code = f"import sys; sys.path.insert(0, {APP!r}); import wine_data; wine_data.load_local({path!r}); print('boto3' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), "False")


class Credentials(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.token_dir = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def file(self, key, value):
        with open(os.path.join(self.token_dir, key), "w") as f:
            f.write(value)

    def test_the_environment_wins_over_the_files(self):
        for key in CREDENTIAL_KEYS:
            self.file(key, f"file-{key}\n")
        env = {key: f"env-{key}" for key in CREDENTIAL_KEYS}
        self.assertEqual(session_credentials(env, self.token_dir), env)

    def test_a_key_missing_from_the_environment_is_read_from_its_file(self):
        self.file("AWS_SESSION_TOKEN", "token-from-file\n")
        env = {"AWS_ACCESS_KEY_ID_SESS": "AKIAENV", "AWS_SECRET_ACCESS_KEY_SESS": "secret-env", "AWS_SESSION_TOKEN": ""}
        creds = session_credentials(env, self.token_dir)
        self.assertEqual(creds["AWS_SESSION_TOKEN"], "token-from-file")
        self.assertEqual(creds["AWS_ACCESS_KEY_ID_SESS"], "AKIAENV")

    def test_files_alone_are_enough(self):
        for key in CREDENTIAL_KEYS:
            self.file(key, f"file-{key}")
        self.assertEqual(session_credentials({}, self.token_dir), {key: f"file-{key}" for key in CREDENTIAL_KEYS})

    def test_a_key_in_neither_place_is_named_and_no_value_is_shown(self):
        env = {"AWS_ACCESS_KEY_ID_SESS": "AKIASECRETVALUE", "AWS_SECRET_ACCESS_KEY_SESS": "hunter2"}
        with self.assertRaises(CredentialsError) as caught:
            session_credentials(env, self.token_dir)
        message = str(caught.exception)
        self.assertIn(f"no AWS_SESSION_TOKEN: not in the environment and {self.token_dir}/AWS_SESSION_TOKEN is missing or empty", message)
        self.assertNotIn("AKIASECRETVALUE", message)
        self.assertNotIn("hunter2", message)


class S3(unittest.TestCase):
    def test_the_object_is_fetched_with_the_session_credentials_and_parsed(self):
        calls = []

        class Client:
            def get_object(self, **kwargs):
                calls.append(("get_object", kwargs))
                return {"Body": io.BytesIO(table_text(";").encode())}

        def factory(**kwargs):
            calls.append(("client", kwargs))
            return Client()

        env = {"AWS_ACCESS_KEY_ID_SESS": "AKIA1", "AWS_SECRET_ACCESS_KEY_SESS": "s1", "AWS_SESSION_TOKEN": "t1"}
        table = read_from_s3("shap-data", "winequality-red.csv", env=env, token_dir="/nonexistent", client_factory=factory)
        self.assertEqual(table.shape, (12, 12))
        self.assertEqual(
            calls,
            [
                ("client", {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s1", "aws_session_token": "t1"}),
                ("get_object", {"Bucket": "shap-data", "Key": "winequality-red.csv"}),
            ],
        )

    def test_missing_credentials_stop_before_any_client_is_made(self):
        def factory(**kwargs):
            raise AssertionError("a client was made without credentials")

        with self.assertRaisesRegex(CredentialsError, "no AWS_ACCESS_KEY_ID_SESS"):
            read_from_s3("b", "k", env={}, token_dir="/nonexistent", client_factory=factory)

    def test_a_bad_object_is_named_by_its_s3_address(self):
        class Client:
            def get_object(self, **kwargs):
                return {"Body": io.BytesIO(b"a,b\n1,2\n")}

        env = {key: "x" for key in CREDENTIAL_KEYS}
        with self.assertRaisesRegex(DataError, r"s3://b/k\.csv: missing column"):
            read_from_s3("b", "k.csv", env=env, client_factory=lambda **kw: Client())

    def test_s3_refusing_is_said_in_one_line_without_the_secrets(self):
        class ClientError(Exception):  # botocore's shape: the parsed answer in .response
            def __init__(self, code, message):
                super().__init__(f"An error occurred ({code}) when calling the GetObject operation: {message}")
                self.response = {"Error": {"Code": code, "Message": message}}

        env = {"AWS_ACCESS_KEY_ID_SESS": "AKIASECRET", "AWS_SECRET_ACCESS_KEY_SESS": "hunter2", "AWS_SESSION_TOKEN": "tok"}
        for code, message in (("AccessDenied", "Access Denied"), ("NoSuchKey", "The specified key does not exist."), ("ExpiredToken", "The provided token has expired.")):
            class Client:
                def get_object(self, **kwargs):
                    raise ClientError(code, message)

            with self.subTest(code=code), self.assertRaises(CredentialsError) as caught:
                read_from_s3("b", "k.csv", env=env, client_factory=lambda **kw: Client())
            self.assertEqual(str(caught.exception), f"s3://b/k.csv: S3 refused: {code}: {message}")
            self.assertNotIn("hunter2", str(caught.exception))

    def test_s3_out_of_reach_is_an_infrastructure_error(self):
        class EndpointConnectionError(Exception):
            pass

        class Client:
            def get_object(self, **kwargs):
                raise EndpointConnectionError('Could not connect to the endpoint URL: "https://b.s3.amazonaws.com/k.csv"')

        env = {key: "x" for key in CREDENTIAL_KEYS}
        with self.assertRaises(S3Unreachable) as caught:
            read_from_s3("b", "k.csv", env=env, client_factory=lambda **kw: Client())
        self.assertEqual(str(caught.exception), 's3://b/k.csv: cannot reach S3: EndpointConnectionError: Could not connect to the endpoint URL: "https://b.s3.amazonaws.com/k.csv"')

    def test_without_boto3_reading_s3_is_an_infrastructure_error(self):
        def factory(**kwargs):
            raise ModuleNotFoundError("No module named 'boto3'", name="boto3")

        with self.assertRaisesRegex(S3Unreachable, r"^s3://b/k: cannot read: boto3 is not installed$"):
            read_from_s3("b", "k", env={key: "x" for key in CREDENTIAL_KEYS}, client_factory=factory)


if __name__ == "__main__":
    unittest.main()
