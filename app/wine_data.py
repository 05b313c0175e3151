"""The red wine quality table: read from a local file or from S3 with session credentials.

UCI's file is `;`-separated; the copy the original setup kept in its bucket is `,`-separated.
Both are accepted. boto3 is imported only when reading from S3.
"""
import io
import os

import numpy as np
import pandas as pd

FEATURES = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
)
TARGET = "quality"

# The Secret `session-token` reaches the Ray pods as env vars (envFrom) and, on the head, as
# files under /etc/awstoken. A key missing from the environment is read from its file.
CREDENTIAL_KEYS = ("AWS_ACCESS_KEY_ID_SESS", "AWS_SECRET_ACCESS_KEY_SESS", "AWS_SESSION_TOKEN")
TOKEN_DIR = "/etc/awstoken"


class DataError(ValueError):
    """The table cannot be used: the message names the source and what was expected."""


class CredentialsError(RuntimeError):
    """A session credential is neither in the environment nor in its file (values never shown)."""


class S3Unreachable(RuntimeError):
    """S3 did not answer (network, endpoint, boto3 missing): infrastructure, not the user's input."""


def parse_csv(content, source):
    """The table from CSV text or bytes, `;` or `,` separated, checked for the 12 columns."""
    try:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
    except UnicodeDecodeError as e:
        raise DataError(f"{source}: not UTF-8 text (byte 0x{content[e.start]:02x} at offset {e.start}); expected a UTF-8 CSV table") from None
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = ";" if ";" in header else ","
    try:
        df = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{source}: not a CSV table: {e}") from None
    df.columns = [str(c).strip().strip('"') for c in df.columns]
    missing = [c for c in (*FEATURES, TARGET) if c not in df.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"expected the 11 features ({', '.join(FEATURES)}) and {TARGET!r}"
        )
    table = df[[*FEATURES, TARGET]]
    if not len(table):
        raise DataError(f"{source}: no rows after the header; at least 10 are needed to train and explain")
    bad = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if bad:
        raise DataError(f"{source}: column(s) {', '.join(repr(c) for c in bad)} are not numeric")
    if table.isna().any().any():
        raise DataError(f"{source}: the table has empty cells")
    infinite = ~np.isfinite(table.to_numpy(dtype=float))
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise DataError(f"{source}: line {row + 2}, column {table.columns[col]!r}: {table.iat[row, col]} is not a finite number")
    if len(table) < 10:
        raise DataError(f"{source}: {len(table)} rows; at least 10 are needed to train and explain")
    return table.astype(float)


def load_local(path):
    try:
        with open(path, "rb") as f:
            return parse_csv(f.read(), path)
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}") from None


def session_credentials(env=None, token_dir=TOKEN_DIR):
    """The three session credentials: each from the environment, else from token_dir/<KEY>."""
    env = os.environ if env is None else env
    creds = {}
    for key in CREDENTIAL_KEYS:
        value = env.get(key, "")
        if not value:
            path = os.path.join(token_dir, key)
            try:
                with open(path, encoding="utf-8") as f:
                    value = f.read().strip()
            except OSError:
                value = ""
            if not value:
                raise CredentialsError(f"no {key}: not in the environment and {path} is missing or empty")
        creds[key] = value
    return creds


def _boto3_s3_client(**kwargs):
    import boto3  # only on the S3 path: tests and local runs need no boto3

    return boto3.client("s3", **kwargs)


def read_from_s3(bucket, key, env=None, token_dir=TOKEN_DIR, client_factory=_boto3_s3_client):
    """The table from s3://bucket/key with the session credentials (region and endpoint: boto3's env)."""
    creds = session_credentials(env, token_dir)
    where = f"s3://{bucket}/{key}"
    try:
        client = client_factory(
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID_SESS"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY_SESS"],
            aws_session_token=creds["AWS_SESSION_TOKEN"],
        )
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ImportError as e:
        raise S3Unreachable(f"{where}: cannot read: {e.name or 'boto3'} is not installed") from None
    except Exception as e:  # botocore's errors; boto3 is optional, so they are told apart by shape
        error = getattr(e, "response", None)
        if isinstance(error, dict) and "Error" in error:  # S3 answered: AccessDenied, NoSuchKey, ExpiredToken, …
            code = error["Error"].get("Code", "?")
            raise CredentialsError(f"{where}: S3 refused: {code}: {error['Error'].get('Message', '')}".rstrip(": ")) from None
        raise S3Unreachable(f"{where}: cannot reach S3: {type(e).__name__}: {e}") from None
    return parse_csv(body, where)
