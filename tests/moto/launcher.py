#!/usr/bin/env python3
"""Start moto's server as a stand-in for live IAM, for iamctl's integration tests.

Prints exactly one line, `READY <port>`, on stdout once the server listens on
127.0.0.1:<port>, then serves until its parent process dies or, when stdin is a
pipe, until stdin closes. `tests/support/mod.rs` spawns it once per test binary.

Facts about moto 5.2 (checked by experiment with boto3 against this launcher,
moto 5.2.5) that iamctl and its tests rely on:

(a) sts:AssumeRole into `arn:aws:iam::<any 12-digit id>:role/<anything>` works
    without the role existing, with any base credentials. The session keys
    (ASIA...) are bound to that account id: IAM calls signed with them read and
    write that account only (a user created there is listed neither in another
    such account nor in the default 123456789012), and GetCallerIdentity says
    Account=<id>, Arn=arn:aws:sts::<id>:assumed-role/<role>/<session>.
(b) Calls signed with a key from CreateAccessKey for a user in account X land
    in account X (moto finds the key id among all accounts' keys), and
    GetCallerIdentity returns Account=X, Arn=arn:aws:iam::X:user/<name> and
    UserId=<the user's id>. Moto authorises nothing: an Inactive key signs
    fine too, and the user needs no policy.
(c) Both work. The first GenerateCredentialReport says State=STARTED, later
    ones COMPLETE; GetCredentialReport works at once (before any Generate:
    ReportNotPresent). ReportFormat text/csv, header:
      user,arn,user_creation_time,password_enabled,password_last_used,
      password_last_changed,password_next_rotation,mfa_active,
      access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,
      access_key_1_last_used_region,access_key_1_last_used_service,
      access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,
      access_key_2_last_used_region,access_key_2_last_used_service,
      cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
    A user with a login profile, a virtual MFA device enabled and two keys,
    the second inactive, none used yet (T* are times like 2026-11-23T12:49:19+00:00):
      alice,arn:aws:iam::X:user/alice,Tuser,true,no_information,Tuser,
      not_supported,true,true,Tkey1,N/A,not_supported,not_supported,false,
      Tkey2,N/A,not_supported,not_supported,false,N/A,false,N/A
    Unlike IAM: no `<root_account>` row (added below: see `root_row`);
    password_last_used is
    `no_information` with a profile and `not_supported` without;
    password_last_changed is the user's creation time, with or without a
    profile (patched below to IAM's: when the password was last set); password_next_rotation and access_key_N_last_used_region/_service
    are always `not_supported`; access_key_N_last_used_date is N/A or the
    last-use time; keys are numbered in creation order. Unpatched, the CSV is
    rebuilt on every Get and GeneratedTime is always 2015-02-02T20:02:02Z;
    patched below to a snapshot dated by the latest Generate.
(d) Yes. Every request a key signs (any service, even with the key Inactive)
    records its use: GetAccessKeyLastUsed then returns LastUsedDate,
    ServiceName (e.g. `iam`, `sts`) and Region (`us-east-1`); for a key never
    used it returns ServiceName=N/A, Region=N/A and no LastUsedDate.
(e) Yes. UserDetailList entries carry Path, UserName, UserId, Arn,
    CreateDate, UserPolicyList, GroupList, AttachedManagedPolicies
    (PolicyName, PolicyArn) and Tags (the key is absent when the user has none).
(f) They work in server mode, per account. CreateTrail needs an existing S3
    bucket in the same account and a name of 3+ characters. DescribeTrails
    lists trails of its region plus multi-region trails homed elsewhere (with
    HomeRegion, IsMultiRegionTrail; HasCustomEventSelectors stays false).
    GetTrailStatus answers IsLogging (false until StartLogging), by name or
    ARN, from any region for a multi-region trail. GetEventSelectors answers
    only in the trail's home region (elsewhere TrailNotFoundException), and
    unpatched returns no selectors for a trail nobody called
    PutEventSelectors on (patched below). LookupEvents is not implemented
    (HTTP 500).

The monkeypatches in `patch_moto` correct moto gaps to documented AWS
behaviour; each cites the behaviour it restores.

How moto is served (`serve`) changes no answer, only what each request costs.
Moto's own server (`moto_server`, werkzeug's development server) closes the
connection after every response, and moto lists its package directory (about
180 `stat` calls) to route every request. Here waitress, a production WSGI
server, serves moto's app and keeps connections alive, as IAM's endpoints do,
and the directory is listed once. Measured with `scripts/bench-live` (a
1,000-user plan in the steady state, 522 calls): 2.3 s and 4.3 ms of moto CPU
per call on moto's own server, 0.78 s and 1.4 ms here. (cheroot, tried first,
was slower than either: kept-alive requests waited, cause not found; a
100-user plan took 1.1 s, against 0.2 s on werkzeug and 0.1 s here.)
`IAMCTL_MOTO_HTTP=werkzeug` brings back moto's own server, to compare.

Separately, `backdate_fixture` adds a TEST FIXTURE that is no AWS behaviour at
all: `POST /_iamctl/backdate` moves creation and last-use times of a user, its
access key and its login profile into the past, which neither AWS nor moto lets
a client do (see `backdate` below for the JSON it takes; `Account::backdate` in
tests/support/mod.rs sends it). `request_log` adds another: it notes which
API action each access key signed (`GET /_iamctl/requests`; read by
`Account::requests`). `root_fixture` a third: `POST /_iamctl/root` gives the
root user MFA (virtual or hardware), access keys and a last use, which no API
can (`Account::set_root`), and `POST /_iamctl/aws-managed-policies` loads
the AWS-managed policies into one account (`Account::load_aws_managed_policies`).
Every other request reaches moto untouched.

The root user's row of the credential report (`root_row`) is a correction, not
a fixture: IAM's report has it, moto's does not.
"""

import io
import json
import logging
import os
import re
import resource
import stat
import threading
from datetime import timedelta
from urllib.parse import parse_qs


def patch_moto() -> None:
    from moto.cloudtrail.models import Trail
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import AccountSummary, IAMBackend, User
    from moto.iam.responses import IamResponse

    def as_bool(value):
        # The query protocol sends booleans as "true"/"false".
        if value is None or isinstance(value, bool):
            return value
        return str(value).lower() == "true"

    def login_profile_result(user):
        return ActionResult(
            {
                "LoginProfile": {
                    "UserName": user.name,
                    "CreateDate": getattr(
                        user, "login_profile_create_date", user.create_date
                    ),
                    "PasswordResetRequired": user.password_reset_required,
                }
            }
        )

    # CreateLoginProfile: IAM honours `PasswordResetRequired` (default false) and
    # reports the profile's own CreateDate. Moto ignores the flag (keeping any
    # value left from an earlier profile) and reports the user's CreateDate.
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateLoginProfile.html
    def create_login_profile(self):
        user_name = self._get_param("UserName")
        reset = as_bool(self._get_param("PasswordResetRequired")) or False
        user = self.backend.create_login_profile(user_name, self._get_param("Password"))
        user.password_reset_required = reset
        user.login_profile_create_date = user.password_last_changed = utcnow()
        return login_profile_result(user)

    # GetLoginProfile: the profile's own CreateDate (see above).
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html
    def get_login_profile(self):
        return login_profile_result(
            self.backend.get_login_profile(self._get_param("UserName"))
        )

    # UpdateLoginProfile: `Password` and `PasswordResetRequired` are both
    # optional and IAM changes only what is given. Moto stores a missing
    # password as None, which deletes the profile, and a missing flag as None.
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateLoginProfile.html
    def update_login_profile(self, user_name, password, password_reset_required):
        user = self.get_user(user_name)
        if not user.password:
            raise NotFoundException(f"Login profile for {user_name} not found")
        if password is not None:
            user.password = password
            user.password_last_changed = utcnow()
        reset = as_bool(password_reset_required)
        if reset is not None:
            user.password_reset_required = reset
        return user

    # GenerateCredentialReport / GetCredentialReport: IAM's report is a
    # snapshot taken when it was generated, and GetCredentialReport's
    # GeneratedTime says when. Moto rebuilds the CSV on every Get and always
    # answers GeneratedTime 2015-02-02T20:02:02Z. Here each Generate takes a
    # fresh snapshot (IAM would reuse one up to 4 hours old; tests need fresh).
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetCredentialReport.html
    build_report = IAMBackend.get_credential_report

    def generate_report(self):
        self.credential_report = True
        header, _, rows = build_report(self).partition("\n")
        self.credential_report_snapshot = (utcnow(), f"{header}\n{root_row(self)}{rows}")

    def get_credential_report(self):
        build_report(self.backend)  # raises ReportNotPresent before any Generate
        generated, content = self.backend.credential_report_snapshot
        return ActionResult(
            {"Content": content, "ReportFormat": "text/csv", "GeneratedTime": generated}
        )

    # Credential report, password_last_changed: IAM gives when the console
    # password was last set (CreateLoginProfile, or UpdateLoginProfile with a
    # password), N/A without one. Moto gives the user's creation time, profile
    # or not. The column is the 4th of the 20 after `arn` (a user name, and so
    # the ARN, may contain commas: count from the right).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
    user_to_csv = User.to_csv

    def to_csv(self):
        # moto's row ends with a newline: kept apart, so that rewriting the last column
        # (a second certificate's date) cannot join two rows.
        head, *fields = user_to_csv(self).rstrip("\n").rsplit(",", 20)
        if len(fields) != 20:
            raise RuntimeError(f"moto's credential report row changed shape: {fields!r}")
        changed = getattr(self, "password_last_changed", None) or self.create_date
        fields[3] = (
            changed.strftime("%Y-%m-%dT%H:%M:%S+00:00") if self.password else "N/A"
        )
        # cert_N_active, cert_N_last_rotated (the last four columns): IAM gives the
        # user's signing certificates, in upload order; moto always false and N/A.
        certs = sorted(self.signing_certificates.values(), key=lambda c: c.upload_date)
        for n, cert in enumerate(certs[:2]):
            fields[16 + 2 * n] = "true" if cert.status == "Active" else "false"
            fields[17 + 2 * n] = cert.upload_date.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return ",".join([head, *fields]) + "\n"

    # CloudTrail: a trail created without event selectors logs all read and
    # write management events, and GetEventSelectors says so. Moto returns no
    # selectors at all for such a trail.
    # https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetEventSelectors.html
    trail_init = Trail.__init__

    def init_trail(self, *args, **kwargs):
        trail_init(self, *args, **kwargs)
        self.event_selectors = [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": [],
            }
        ]

    # GetAccountSummary answers AccountMFAEnabled and AccountAccessKeysPresent
    # from the two attributes below, always 0 in moto (it has no root user to
    # change); the `root_fixture` sets them.
    if not hasattr(AccountSummary(None), "_account_mfa_enabled"):
        raise RuntimeError("moto's AccountSummary no longer has _account_mfa_enabled")

    # GetAccessKeyLastUsed: moto looks for the key in every account by iterating
    # the live dictionary of accounts, which another request thread grows when a
    # test makes its account ("RuntimeError: dictionary changed size during
    # iteration", seen once in CI). The same scan over a copy, as moto's own
    # get_account_id_from does (moto issue #5881). Not a behaviour change.
    from moto.iam.models import iam_backends

    def get_all_access_keys_for_all_users(self):
        keys = []
        for account in list(dict.values(iam_backends)):
            backend = account[self.partition]
            for user in list(backend.users.values()):
                keys += user.get_all_access_keys()
        return keys

    for cls, name, new in [
        (IAMBackend, "get_all_access_keys_for_all_users", get_all_access_keys_for_all_users),
        (IamResponse, "create_login_profile", create_login_profile),
        (IamResponse, "get_login_profile", get_login_profile),
        (IAMBackend, "update_login_profile", update_login_profile),
        (IAMBackend, "generate_report", generate_report),
        (IamResponse, "get_credential_report", get_credential_report),
        (User, "to_csv", to_csv),
        (Trail, "__init__", init_trail),
    ]:
        # Fail at start-up, not somewhere in a test, if moto moved what we patch.
        if not callable(getattr(cls, name, None)):
            raise RuntimeError(f"moto has no {cls.__name__}.{name} to patch")
        setattr(cls, name, new)


# ---------------------------------------------------------------------------
# TEST FIXTURE, not a correction of AWS behaviour. iamctl's rules act on ages
# (an access key 120 days old, a console password unused for 60 days), and
# neither AWS nor moto lets a client set when something was created or last
# used. This endpoint does, by writing the very attributes moto reads when it
# answers (moto 5.2.5, moto/iam/models.py):
#   AccessKey.create_date    ListAccessKeys / CreateAccessKey CreateDate,
#                            credential report access_key_N_last_rotated
#   AccessKey.last_used      GetAccessKeyLastUsed, credential report
#     (AccessKeyLastUsed)    access_key_N_last_used_date
#   User.login_profile_create_date   GetLoginProfile CreateDate (patched above)
#   User.password_last_changed       credential report password_last_changed
#                                    (patched above)
#   User.password_last_used  GetUser / ListUsers PasswordLastUsed, credential
#                            report password_last_used
#   User.create_date         GetUser / ListUsers / GetAccountAuthorizationDetails
#                            CreateDate, credential report user_creation_time
# A credential report reflects them once generated after the back-dating
# (GenerateCredentialReport snapshots, see patch_moto). A later request signed
# with a back-dated key records a fresh last use, as in AWS.
# ---------------------------------------------------------------------------

BACKDATE_PATH = "/_iamctl/backdate"

# JSON field -> what it back-dates. All "..._days_ago" values are days before
# now (a non-negative number); at least one must be given.
BACKDATE_FIELDS = {
    "created_days_ago": "the access key's creation (needs access_key_id)",
    "last_used_days_ago": "the access key's last use, by iam in us-east-1 "
    "(needs access_key_id)",
    "login_profile_created_days_ago": "the login profile's creation (needs a profile)",
    "password_last_used_days_ago": "the user's last console sign-in",
    "user_created_days_ago": "the user's creation",
}


class BackdateError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def backdate(spec: object) -> dict:
    """Applies one back-dating request; returns what it set (ISO times, UTC).

    `spec` is the JSON body: {"account": "<12-digit id>", "user": "<name>",
    "access_key_id": "<AKIA...>" (for the key's dates), and one or more of the
    BACKDATE_FIELDS}. Raises BackdateError(400) for a malformed request and
    BackdateError(404) for an unknown account, user, key or login profile.
    """
    from moto.core.utils import utcnow
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    if not isinstance(spec, dict):
        raise BackdateError(400, "the body must be a JSON object")
    known = {"account", "user", "access_key_id", *BACKDATE_FIELDS}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise BackdateError(400, f"unknown fields {unknown}; known: {sorted(known)}")
    account, user_name = spec.get("account"), spec.get("user")
    for name, value in [("account", account), ("user", user_name)]:
        if not isinstance(value, str) or not value:
            raise BackdateError(400, f"`{name}` must be a non-empty string")
    days = {}
    for field in BACKDATE_FIELDS:
        value = spec.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise BackdateError(400, f"`{field}` must be a non-negative number of days")
        days[field] = value
    if not days:
        raise BackdateError(400, f"nothing to back-date: give one of {list(BACKDATE_FIELDS)}")
    key_id = spec.get("access_key_id")
    wants_key = "created_days_ago" in days or "last_used_days_ago" in days
    if wants_key and not (isinstance(key_id, str) and key_id):
        raise BackdateError(400, "created_days_ago and last_used_days_ago need `access_key_id`")
    if key_id is not None and not wants_key:
        raise BackdateError(400, "`access_key_id` given without created_days_ago or last_used_days_ago")

    # Only accounts something already happened in: a typo must not conjure one.
    if account not in iam_backends:
        raise BackdateError(404, f"moto has no IAM data for account {account}")
    backend = iam_backends[account]["global"]
    user = backend.users.get(user_name)
    if user is None:
        raise BackdateError(404, f"no user {user_name} in account {account}")
    key = None
    if wants_key:
        key = next((k for k in user.access_keys if k.access_key_id == key_id), None)
        if key is None:
            raise BackdateError(404, f"user {user_name} in account {account} has no access key {key_id}")
    if "login_profile_created_days_ago" in days and not user.password:
        raise BackdateError(404, f"user {user_name} in account {account} has no login profile")

    # Validated in full before changing anything: a rejected request changes nothing.
    now = utcnow()
    at = {field: now - timedelta(days=n) for field, n in days.items()}
    if "created_days_ago" in at:
        key.create_date = at["created_days_ago"]
    if "last_used_days_ago" in at:
        key.last_used = AccessKeyLastUsed(
            timestamp=at["last_used_days_ago"], service="iam", region="us-east-1"
        )
    if "login_profile_created_days_ago" in at:
        # A profile is created with its password: both dates move together.
        user.login_profile_create_date = at["login_profile_created_days_ago"]
        user.password_last_changed = at["login_profile_created_days_ago"]
    if "password_last_used_days_ago" in at:
        user.password_last_used = at["password_last_used_days_ago"]
    if "user_created_days_ago" in at:
        user.create_date = at["user_created_days_ago"]
        # ListVirtualMFADevices answers a copy of the user taken when the
        # device was enabled; keep its CreateDate in step.
        for device in backend.virtual_mfa_devices.values():
            if device.user is user and device.user_attribute:
                device.user_attribute["CreateDate"] = user.create_date
    return {field: value.isoformat() + "Z" for field, value in at.items()}


def backdate_fixture(app):
    """Wraps moto's WSGI app: serves POST BACKDATE_PATH, passes all else on."""

    def answer(start_response, status: int, body: dict):
        reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
        data = json.dumps(body).encode()
        start_response(
            f"{status} {reasons[status]}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") != BACKDATE_PATH:
            return app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return answer(start_response, 405, {"error": f"{BACKDATE_PATH} takes POST only"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length > 0 else b""
            try:
                spec = json.loads(raw)
            except ValueError as e:
                raise BackdateError(400, f"the body is not JSON: {e}")
            return answer(start_response, 200, {"backdated": backdate(spec)})
        except BackdateError as e:
            return answer(start_response, e.status, {"error": str(e)})

    return wrapped


# Credential report, `<root_account>` row: IAM's report starts with a row for
# the account root user (password_enabled, password_last_changed and
# password_next_rotation `not_supported`; password_last_used and the keys'
# last use as for users; mfa_active and access_key_N_active as the root user
# has them). Moto's report has no such row; `generate_report` above puts this
# one first, from what the `root_fixture` below set (by default: no MFA, no
# keys, never used, as a new account's root user in moto).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
def root_row(backend) -> str:
    from moto.core.utils import utcnow

    fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    summary = backend.account_summary
    if not hasattr(backend, "iamctl_root_created"):
        backend.iamctl_root_created = utcnow()
    used = getattr(backend, "iamctl_root_last_used", None)
    flag = lambda on: "true" if on else "false"  # noqa: E731
    return ",".join(
        [
            "<root_account>",
            f"arn:aws:iam::{backend.account_id}:root",
            backend.iamctl_root_created.strftime(fmt),
            "not_supported",
            used.strftime(fmt) if used else "no_information",
            "not_supported",
            "not_supported",
            flag(summary._account_mfa_enabled),
            flag(summary._account_access_keys_present),
            "N/A", "N/A", "N/A", "N/A",
            "false", "N/A", "N/A", "N/A", "N/A",
            "false", "N/A", "false", "N/A",
        ]
    ) + "\n"


# ---------------------------------------------------------------------------
# TEST FIXTURE, not AWS behaviour: the root user. Neither AWS's API nor moto
# lets a client give the root user MFA or access keys, nor sign in as it.
# `POST /_iamctl/root` with {"account": "<12-digit id>", "mfa": "none" |
# "virtual" | "hardware", "access_keys_present": bool, "last_used_days_ago":
# number (optional)} sets what GetAccountSummary answers (AccountMFAEnabled,
# AccountAccessKeysPresent), lists a virtual MFA device
# `arn:aws:iam::<id>:mfa/root-account-mfa-device` as assigned (for "virtual";
# IAM's name for the root user's device) or none (a hardware device is not
# listed by ListVirtualMFADevices), and the root row's last use in the next
# credential report.
# ---------------------------------------------------------------------------

ROOT_PATH = "/_iamctl/root"
ROOT_MFA_SERIAL = "/root-account-mfa-device"


def set_root(spec: object) -> dict:
    from moto.core.utils import utcnow
    from moto.iam.models import VirtualMfaDevice, iam_backends

    if not isinstance(spec, dict):
        raise BackdateError(400, "the body must be a JSON object")
    unknown = sorted(set(spec) - {"account", "mfa", "access_keys_present", "last_used_days_ago"})
    if unknown:
        raise BackdateError(400, f"unknown fields {unknown}")
    account, mfa = spec.get("account"), spec.get("mfa", "none")
    if mfa not in ("none", "virtual", "hardware"):
        raise BackdateError(400, "`mfa` must be none, virtual or hardware")
    keys = spec.get("access_keys_present", False)
    if not isinstance(keys, bool):
        raise BackdateError(400, "`access_keys_present` must be true or false")
    days = spec.get("last_used_days_ago")
    if days is not None and (isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0):
        raise BackdateError(400, "`last_used_days_ago` must be a non-negative number")
    if account not in iam_backends:
        raise BackdateError(404, f"moto has no IAM data for account {account}")
    backend = iam_backends[account]["global"]
    summary = backend.account_summary
    summary._account_mfa_enabled = 0 if mfa == "none" else 1
    summary._account_access_keys_present = 1 if keys else 0
    serial = f"arn:aws:iam::{account}:mfa{ROOT_MFA_SERIAL}"
    backend.virtual_mfa_devices.pop(serial, None)
    if mfa == "virtual":
        device = VirtualMfaDevice(account, "us-east-1", ROOT_MFA_SERIAL)
        device.enable_date = utcnow()
        backend.virtual_mfa_devices[device.serial_number] = device
    backend.iamctl_root_last_used = (
        utcnow() - timedelta(days=days) if days is not None else None
    )
    return {"mfa": mfa, "access_keys_present": keys, "last_used_days_ago": days}


# ---------------------------------------------------------------------------
# TEST FIXTURE: AWS-managed policies in one account. Every IAM account has the
# ~1,600 AWS-managed policies (AdministratorAccess, AWSSupportAccess ...);
# moto loads them only when started with MOTO_IAM_LOAD_MANAGED_POLICIES=true,
# and then into every account it creates, which costs about 0.5 s per account.
# `POST /_iamctl/aws-managed-policies` with {"account": "<12-digit id>"} loads
# them into that one account, as that setting would have.
# ---------------------------------------------------------------------------

MANAGED_PATH = "/_iamctl/aws-managed-policies"


def load_managed_policies(spec: object) -> dict:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    account = spec.get("account") if isinstance(spec, dict) else None
    if account not in iam_backends:
        raise BackdateError(404, f"moto has no IAM data for account {account}")
    backend = iam_backends[account]["global"]
    if not backend.aws_managed_policies:
        backend.aws_managed_policies = [
            AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
            for name, data in json.loads(aws_managed_policies_data).items()
        ]
        backend.managed_policies.update({p.arn: p for p in backend.aws_managed_policies})
    return {"loaded": len(backend.aws_managed_policies)}


def root_fixture(app):
    """Wraps moto's WSGI app: serves POST ROOT_PATH and MANAGED_PATH, passes all else on."""
    fixtures = {
        ROOT_PATH: set_root,
        MANAGED_PATH: load_managed_policies,
        CREDENTIAL_DATES_PATH: set_credential_dates,
    }

    def wrapped(environ, start_response):
        fixture = fixtures.get(environ.get("PATH_INFO"))
        if fixture is None:
            return app(environ, start_response)
        def answer(status, body):
            reasons = {200: "OK", 400: "Bad Request", 404: "Not Found"}
            data = json.dumps(body).encode()
            start_response(
                f"{status} {reasons[status]}",
                [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
            )
            return [data]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length > 0 else b""
            try:
                spec = json.loads(raw)
            except ValueError as e:
                raise BackdateError(400, f"the body is not JSON: {e}")
            return answer(200, fixture(spec))
        except BackdateError as e:
            return answer(e.status, {"error": str(e)})

    return wrapped


# ---------------------------------------------------------------------------
# TEST FIXTURE: the request log. Every API request that reaches moto is noted
# as `service:Action` (the permission it takes) under the access key id that
# signed it; `GET /_iamctl/requests?access_key_id=AKID` answers the counts for
# that key as JSON ({"iam:ListAccessKeys": 3, ...}) and forgets them. This is
# how tests/permissions.rs learns which IAM actions a run of iamctl used, the
# CloudTrail ones included. The service is the SigV4 credential scope's; the
# action comes from X-Amz-Target (JSON protocols), the `Action` parameter
# (query protocols such as IAM and STS, in the URL or the form body), or
# REST_ACTIONS (REST protocols such as Security Hub's).
# ---------------------------------------------------------------------------

REQUESTS_PATH = "/_iamctl/requests"
SIGNER = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
# REST protocols name the action by method and path, not in the request: the ones
# iamctl calls.
REST_ACTIONS = {
    ("securityhub", "POST", "/findings"): "GetFindings",
    ("securityhub", "POST", "/findings/import"): "BatchImportFindings",
    ("access-analyzer", "GET", "/analyzer"): "ListAnalyzers",
    ("access-analyzer", "PUT", "/analyzer"): "CreateAnalyzer",
    ("account", "POST", "/getAlternateContact"): "GetAlternateContact",
    ("account", "POST", "/putAlternateContact"): "PutAlternateContact",
}


def signed_action(environ):
    """(access key id, "service:Action") of a signed API request, or None."""
    match = SIGNER.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    key, service = match.groups()
    target = environ.get("HTTP_X_AMZ_TARGET")
    action = target.rsplit(".", 1)[-1] if target else None
    if not action:
        action = (parse_qs(environ.get("QUERY_STRING", "")).get("Action") or [None])[0]
    content_type = environ.get("CONTENT_TYPE", "")
    if not action and content_type.startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        # Put the body back for moto.
        environ["wsgi.input"] = io.BytesIO(body)
        action = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [None])[0]
    if not action:
        method, path = environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "")
        action = REST_ACTIONS.get((service, method, path), f"{method} {path}")
    return key, f"{service}:{action}"


def request_log(app):
    """Wraps moto's WSGI app: notes every signed request, serves GET REQUESTS_PATH."""
    seen = {}
    lock = threading.Lock()

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == REQUESTS_PATH:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            key = (query.get("access_key_id") or [""])[0]
            with lock:
                counts = seen.pop(key, {})
            data = json.dumps(counts, sort_keys=True).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
            )
            return [data]
        noted = signed_action(environ)
        if noted:
            key, action = noted
            with lock:
                counts = seen.setdefault(key, {})
                counts[action] = counts.get(action, 0) + 1
        return app(environ, start_response)

    return wrapped


# ---------------------------------------------------------------------------
# EXTENSIONS: APIs moto 5.2 lacks, answered in the shapes of their API
# references (the response members below are the references' own; moto's
# `ActionResult` serializes IAM's from botocore's service model, so element
# names and XML wrapping are IAM's):
#   - IAM service-specific credentials (CodeCommit, Keyspaces, Bedrock API
#     keys): Create/List/Update/Delete/ResetServiceSpecificCredential
#     https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListServiceSpecificCredentials.html
#     https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceSpecificCredential.html
#     (`CredentialAgeDays` gives an `ExpirationDate`; a credential past it is
#     listed with Status `Expired`; `AllUsers` lists every user's, filtered by
#     `ServiceName`, paged with `Marker`/`MaxItems`/`IsTruncated`.)
#   - IAM server certificates with each certificate's own `UploadDate`,
#     `Expiration` (the certificate body's notAfter; a body that does not
#     parse: a year after upload) and `ServerCertificateId` (moto answers
#     fixed 2010/2012 dates and one shared id for all).
#     https://docs.aws.amazon.com/IAM/latest/APIReference/API_ServerCertificateMetadata.html
#   - IAM ListOrganizationsFeatures / EnableOrganizationsRootCredentialsManagement
#     / EnableOrganizationsRootSessions: answered for the management account of
#     a moto organization (else OrganizationNotFoundException or
#     AccountNotManagementOrDelegatedAdministratorException).
#     https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListOrganizationsFeatures.html
#   - IAM Access Analyzer ListAnalyzers / CreateAnalyzer, per account and
#     region (REST-JSON: GET /analyzer, PUT /analyzer), by `access_analyzer`.
#     https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_ListAnalyzers.html
# And one more TEST FIXTURE: `POST /_iamctl/credential-dates` with
# {"account", and either "user" + "service_specific_credential_id" +
# "created_days_ago", or "user" + "ssh_public_key_id" + "uploaded_days_ago", or
# "server_certificate" + any of "uploaded_days_ago",
# "expires_days_ago" (negative: in the future)} back-dates what no API can
# (`Account::credential_dates`).
# ---------------------------------------------------------------------------

CREDENTIAL_DATES_PATH = "/_iamctl/credential-dates"


def patch_extensions() -> None:
    import random
    import string

    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import utcnow
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import Certificate
    from moto.iam.responses import IamResponse

    def new_id(prefix):
        return prefix + "".join(random.choices(string.ascii_uppercase + string.digits, k=17))

    def credentials_of(backend):
        if not hasattr(backend, "iamctl_service_credentials"):
            backend.iamctl_service_credentials = {}
        return backend.iamctl_service_credentials

    def status_of(cred):
        expires = cred.get("ExpirationDate")
        if expires is not None and expires <= utcnow():
            return "Expired"
        return cred["Status"]

    def metadata(cred):
        out = {k: v for k, v in cred.items() if k not in ("ServicePassword", "ServiceCredentialSecret")}
        out["Status"] = status_of(cred)
        return out

    def find_credential(backend, user_name, cred_id):
        cred = credentials_of(backend).get(cred_id)
        if cred is None or (user_name and cred["UserName"] != user_name):
            raise NotFoundException(f"No such credential {cred_id}")
        return cred

    def create_service_specific_credential(self):
        user = self.backend.get_user(self._get_param("UserName"))
        service = self._get_param("ServiceName")
        days = self._get_param("CredentialAgeDays")
        now = utcnow()
        cred = {
            "CreateDate": now,
            "ServiceName": service,
            "ServiceSpecificCredentialId": new_id("ACCA"),
            "UserName": user.name,
            "Status": "Active",
        }
        if service == "bedrock.amazonaws.com":
            # A Bedrock API key is known by an alias and has a secret, not a user
            # name and password.
            cred["ServiceCredentialAlias"] = f"{user.name}-at-{random.randint(10**11, 10**12 - 1)}"
            cred["ServiceCredentialSecret"] = "".join(random.choices(string.ascii_letters, k=40))
            if days is not None:
                cred["ExpirationDate"] = now + timedelta(days=int(days))
        else:
            cred["ServiceUserName"] = f"{user.name}-at-{random.randint(10**11, 10**12 - 1)}"
            cred["ServicePassword"] = "".join(random.choices(string.ascii_letters, k=40))
        credentials_of(self.backend)[cred["ServiceSpecificCredentialId"]] = cred
        return ActionResult({"ServiceSpecificCredential": dict(cred, Status=status_of(cred))})

    def list_service_specific_credentials(self):
        user_name = self._get_param("UserName")
        service = self._get_param("ServiceName")
        all_users = str(self._get_param("AllUsers") or "").lower() == "true"
        marker = int(self._get_param("Marker") or 0)
        max_items = int(self._get_param("MaxItems") or 100)
        if all_users and user_name:
            from moto.iam.exceptions import ValidationError

            raise ValidationError("AllUsers cannot be specified together with UserName")
        if not all_users:
            self.backend.get_user(user_name)  # NoSuchEntity for an unknown user
        creds = [
            c for c in credentials_of(self.backend).values()
            if (all_users or c["UserName"] == user_name)
            and (not service or c["ServiceName"] == service)
        ]
        creds.sort(key=lambda c: c["ServiceSpecificCredentialId"])
        page = creds[marker: marker + max_items]
        result = {"ServiceSpecificCredentials": [metadata(c) for c in page]}
        truncated = marker + max_items < len(creds)
        result["IsTruncated"] = truncated
        if truncated:
            result["Marker"] = str(marker + max_items)
        return ActionResult(result)

    def update_service_specific_credential(self):
        cred = find_credential(
            self.backend, self._get_param("UserName"), self._get_param("ServiceSpecificCredentialId")
        )
        cred["Status"] = self._get_param("Status")
        return EmptyResult()

    def delete_service_specific_credential(self):
        cred = find_credential(
            self.backend, self._get_param("UserName"), self._get_param("ServiceSpecificCredentialId")
        )
        del credentials_of(self.backend)[cred["ServiceSpecificCredentialId"]]
        return EmptyResult()

    def reset_service_specific_credential(self):
        cred = find_credential(
            self.backend, self._get_param("UserName"), self._get_param("ServiceSpecificCredentialId")
        )
        if "ServicePassword" in cred:
            cred["ServicePassword"] = "".join(random.choices(string.ascii_letters, k=40))
        return ActionResult({"ServiceSpecificCredential": dict(cred, Status=status_of(cred))})

    # Server certificates: their own id, upload date and expiry.
    certificate_init = Certificate.__init__

    def init_certificate(self, *args, **kwargs):
        certificate_init(self, *args, **kwargs)
        self.iamctl_id = new_id("ASCA")
        self.iamctl_uploaded = utcnow()
        self.iamctl_expires = self.iamctl_uploaded + timedelta(days=365)
        try:
            from cryptography import x509

            cert = x509.load_pem_x509_certificate(self.cert_body.encode())
            self.iamctl_expires = cert.not_valid_after_utc.replace(tzinfo=None)
        except Exception:
            pass

    def server_metadata(cert):
        return {
            "ServerCertificateName": cert.cert_name,
            "Path": cert.path,
            "Arn": cert.arn,
            "UploadDate": cert.iamctl_uploaded,
            "ServerCertificateId": cert.iamctl_id,
            "Expiration": cert.iamctl_expires,
        }

    def upload_server_certificate(self):
        cert = self.backend.upload_server_certificate(
            self._get_param("ServerCertificateName"),
            self._get_param("CertificateBody"),
            self._get_param("PrivateKey"),
            cert_chain=self._get_param("CertificateChain"),
            path=self._get_param("Path"),
        )
        return ActionResult({"ServerCertificateMetadata": server_metadata(cert)})

    def list_server_certificates(self):
        certs = sorted(self.backend.list_server_certificates(), key=lambda c: c.cert_name)
        return ActionResult(
            {"ServerCertificateMetadataList": [server_metadata(c) for c in certs], "IsTruncated": False}
        )

    def get_server_certificate(self):
        cert = self.backend.get_server_certificate(self._get_param("ServerCertificateName"))
        out = {"ServerCertificateMetadata": server_metadata(cert), "CertificateBody": cert.cert_body}
        if cert.cert_chain:
            out["CertificateChain"] = cert.cert_chain
        return ActionResult({"ServerCertificate": out})

    # Organizations features: the organization this account manages, if any.
    # Errors in IAM's shape: moto's IAMException carries the code as IAM spells it.
    from moto.iam.exceptions import IAMException

    def organizations_error(code, message):
        error = type(code, (IAMException,), {"code": code})
        return error(message)

    def managed_organization(backend):
        from moto.organizations.models import organizations_backends

        org_backend = organizations_backends[backend.account_id]["aws"]
        org = getattr(org_backend, "org", None)
        if org is None:
            for other in organizations_backends.values():
                candidate = getattr(other["aws"], "org", None)
                if candidate is not None and any(
                    a.id == backend.account_id for a in other["aws"].accounts
                ):
                    raise organizations_error(
                        "AccountNotManagementOrDelegatedAdministratorException",
                        "The account is not the management account of its organization.",
                    )
            raise organizations_error(
                "OrganizationNotFoundException", "The account is not in an organization."
            )
        if org.master_account_id != backend.account_id:
            raise organizations_error(
                "AccountNotManagementOrDelegatedAdministratorException",
                "The account is not the management account of its organization.",
            )
        return org

    def features_result(self):
        org = managed_organization(self.backend)
        features = getattr(self.backend, "iamctl_org_features", [])
        return ActionResult({"OrganizationId": org.id, "EnabledFeatures": list(features)})

    def enable_feature(name):
        def handler(self):
            managed_organization(self.backend)
            features = getattr(self.backend, "iamctl_org_features", [])
            if name not in features:
                features = [*features, name]
            self.backend.iamctl_org_features = features
            return features_result(self)

        return handler

    for cls, name, new in [
        (IamResponse, "create_service_specific_credential", create_service_specific_credential),
        (IamResponse, "list_service_specific_credentials", list_service_specific_credentials),
        (IamResponse, "update_service_specific_credential", update_service_specific_credential),
        (IamResponse, "delete_service_specific_credential", delete_service_specific_credential),
        (IamResponse, "reset_service_specific_credential", reset_service_specific_credential),
        (IamResponse, "upload_server_certificate", upload_server_certificate),
        (IamResponse, "list_server_certificates", list_server_certificates),
        (IamResponse, "get_server_certificate", get_server_certificate),
        (IamResponse, "list_organizations_features", features_result),
        (
            IamResponse,
            "enable_organizations_root_credentials_management",
            enable_feature("RootCredentialsManagement"),
        ),
        (IamResponse, "enable_organizations_root_sessions", enable_feature("RootSessions")),
    ]:
        setattr(cls, name, new)
    Certificate.__init__ = init_certificate


def access_analyzer(app):
    """Wraps moto's WSGI app: answers IAM Access Analyzer's ListAnalyzers and
    CreateAnalyzer (REST-JSON, `GET`/`PUT /analyzer`) per account and region."""
    from datetime import datetime, timezone

    analyzers = {}  # (account, region) -> {name: analyzer}
    lock = threading.Lock()
    scope = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/access-analyzer/aws4_request")

    def wrapped(environ, start_response):
        match = scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not match or environ.get("PATH_INFO") != "/analyzer":
            return app(environ, start_response)
        from moto.iam.models import get_account_id_from

        key, region = match.groups()
        account = get_account_id_from(key)
        method = environ.get("REQUEST_METHOD")
        with lock:
            mine = analyzers.setdefault((account, region), {})
            if method == "PUT":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
                name = spec["analyzerName"]
                mine[name] = {
                    "arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/{name}",
                    "name": name,
                    "type": spec.get("type", "ACCOUNT"),
                    "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "status": "ACTIVE",
                    "tags": spec.get("tags") or {},
                }
                body = {"arn": mine[name]["arn"]}
            else:
                wanted = (parse_qs(environ.get("QUERY_STRING", "")).get("type") or [None])[0]
                body = {
                    "analyzers": [
                        a for _, a in sorted(mine.items()) if wanted in (None, a["type"])
                    ]
                }
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return wrapped


def set_credential_dates(spec: object) -> dict:
    from moto.core.utils import utcnow
    from moto.iam.models import iam_backends

    if not isinstance(spec, dict):
        raise BackdateError(400, "the body must be a JSON object")
    account = spec.get("account")
    if account not in iam_backends:
        raise BackdateError(404, f"moto has no IAM data for account {account}")
    backend = iam_backends[account]["global"]
    now = utcnow()
    if "service_specific_credential_id" in spec:
        cred = getattr(backend, "iamctl_service_credentials", {}).get(spec["service_specific_credential_id"])
        if cred is None or cred["UserName"] != spec.get("user"):
            raise BackdateError(404, "no such service-specific credential of that user")
        days = spec.get("created_days_ago")
        if not isinstance(days, (int, float)) or isinstance(days, bool) or days < 0:
            raise BackdateError(400, "`created_days_ago` must be a non-negative number")
        shift = timedelta(days=days)
        cred["CreateDate"] = now - shift
        if "ExpirationDate" in cred:
            cred["ExpirationDate"] = cred["ExpirationDate"] - shift
        return {"created": cred["CreateDate"].isoformat() + "Z"}
    if "ssh_public_key_id" in spec:
        user = backend.users.get(spec.get("user"))
        key = next(
            (k for k in (user.ssh_public_keys if user else []) if k.ssh_public_key_id == spec["ssh_public_key_id"]),
            None,
        )
        if key is None:
            raise BackdateError(404, "no such SSH public key of that user")
        days = spec.get("uploaded_days_ago")
        if not isinstance(days, (int, float)) or isinstance(days, bool) or days < 0:
            raise BackdateError(400, "`uploaded_days_ago` must be a non-negative number")
        key.upload_date = now - timedelta(days=days)
        return {"uploaded": key.upload_date.isoformat() + "Z"}
    name = spec.get("server_certificate")
    cert = next((c for c in backend.certificates.values() if c.cert_name == name), None)
    if cert is None:
        raise BackdateError(404, f"no server certificate {name!r} in account {account}")
    out = {}
    for field, attr in [("uploaded_days_ago", "iamctl_uploaded"), ("expires_days_ago", "iamctl_expires")]:
        days = spec.get(field)
        if days is None:
            continue
        if not isinstance(days, (int, float)) or isinstance(days, bool):
            raise BackdateError(400, f"`{field}` must be a number")
        setattr(cert, attr, now - timedelta(days=days))
        out[field] = getattr(cert, attr).isoformat() + "Z"
    if not out:
        raise BackdateError(400, "give uploaded_days_ago or expires_days_ago")
    return out


def serve(app, http: str) -> int:
    """Serves `app` on 127.0.0.1 from a daemon thread; returns the port.

    See "How moto is served" at the top. `http` is "waitress" or "werkzeug".
    """
    if http == "werkzeug":
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]
    if http != "waitress":
        raise SystemExit(f"IAMCTL_MOTO_HTTP must be waitress or werkzeug, not {http!r}")

    import moto.backends
    from waitress.server import create_server

    # Moto routes each request by asking whether its host is the name of a
    # moto module, listing its package directory every time. The modules are
    # the same for the life of the process: list them once.
    modules = frozenset(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules

    # Waitress reads and writes every connection on one thread and runs the app
    # on `threads` workers; idle keep-alive connections hold no worker. Their
    # idle timeout outlasts any pause in a test, so a client never reuses a
    # connection the server is closing. Moto holds the GIL for most of a
    # request, so more workers only contend: a 20-account plan with 64 requests
    # in flight took 16.1 s with 16 workers and 9.3 s with 4 (2 and 4 were
    # alike for one account). Requests waiting for a worker queue in waitress
    # ("Task queue depth" warnings, silenced).
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    #
    # The connection limit is above what any run opens: iamctl keeps up to
    # --parallelism x --concurrency connections (32 x 8 = 256 by default;
    # `--parallelism auto` and the fleet bench ask more), and a client past
    # the limit is not refused but left unaccepted until it times out and
    # retries, which turns a CreateUser into EntityAlreadyExists. Waitress
    # waits on its sockets with select() unless told to poll, and select()
    # cannot watch a descriptor numbered 1,024 or above: it polls, and the
    # open-file limit is raised to its hard limit to hold the connections.
    # IAMCTL_MOTO_CONNECTIONS sets the limit (default 8,192).
    connection_limit = int(os.environ.get("IAMCTL_MOTO_CONNECTIONS", "8192"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = connection_limit + 256 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    server = create_server(
        app,
        host="127.0.0.1",
        port=0,
        threads=4,
        connection_limit=connection_limit,
        channel_timeout=300,
        asyncore_use_poll=True,
    )
    threading.Thread(target=server.run, daemon=True).start()
    return server.effective_port


def route_short_json_targets() -> None:
    """Routes a JSON-protocol request whose `X-Amz-Target` names the service by its short
    shape name, as the Rust SDK does (`CloudTrail_20131101.DescribeTrails`, aws-sdk-cloudtrail
    1.81), when botocore's model gives the service's full id as its `targetPrefix`
    (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`, botocore 1.44.18). Moto routes
    by the model's prefix alone and answered such a request 404 with no body, which the SDK
    reports as an unhandled error: every plan with `require_cloudtrail` failed on moto 5.2.6
    with botocore 1.44.18. CloudTrail answers both forms."""
    from moto.core.routing import JSONRouter

    match = JSONRouter._match

    def _match(self, request):
        operation, params = match(self, request)
        if operation is None:
            target = request.headers.get("X-Amz-Target", "")
            prefix, _, name = target.rpartition(".")
            for full, model in self._operations_by_target.items():
                full_prefix, _, full_name = full.rpartition(".")
                if name == full_name and full_prefix.rpartition(".")[2] == prefix:
                    return model, params
        return operation, params

    JSONRouter._match = _match


def index_access_keys() -> None:
    """Finds the account of a request's access key in a dictionary, not by a scan.

    Moto finds the account of every request by looking for its access key id in
    each account's IAM backend in turn, six partitions each
    (`moto.iam.models.get_account_id_from`): the cost of a request grows with the
    accounts moto holds. Measured with bare boto3 (`ListUsers`, 8 threads) on a
    server holding 1,000 assumed-role accounts: 3.1 ms of moto CPU per request in
    the first account made, 8.7 ms in the 501st, 13.3 ms in the 1,000th
    (BENCHMARKS.md, issue 24). Here each key's account is remembered once found,
    and checked on every use (a deleted key is looked for again); a key no
    account holds is remembered as moto's default account, as the scan answers:
    moto makes key ids at random, so an unknown id (the ambient `testing`) never
    becomes an account's. Like `serve`, it changes no answer, only what each
    request costs. IAMCTL_MOTO_ACCOUNT_SCAN=1 brings back moto's scan, to compare.
    """
    if os.environ.get("IAMCTL_MOTO_ACCOUNT_SCAN") == "1":
        return
    import moto.iam.models as iam_models

    scan = iam_models.get_account_id_from
    default = iam_models.DEFAULT_ACCOUNT_ID
    known = {}  # access key id -> account id

    def holds(account_id: str, access_key: str) -> bool:
        # dict.get and dict.values: neither makes a backend, as indexing would.
        account = dict.get(iam_models.iam_backends, account_id)
        return account is not None and any(
            access_key in backend.access_keys for backend in list(dict.values(account))
        )

    def get_account_id_from(access_key: str) -> str:
        account_id = known.get(access_key)
        if account_id is not None and (account_id == default or holds(account_id, access_key)):
            return account_id
        account_id = scan(access_key)
        known[access_key] = account_id
        return account_id

    iam_models.get_account_id_from = get_account_id_from


def main() -> None:
    # An ambient MOTO_ACCOUNT_ID would route every request to one account and
    # break the per-test account isolation the harness relies on.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )

    patch_moto()
    patch_extensions()
    route_short_json_targets()
    index_access_keys()
    # What moto.server.ThreadedMotoServer does, with the test fixtures around
    # moto's app (ThreadedMotoServer has no way to wrap it).
    app = request_log(
        access_analyzer(
            root_fixture(backdate_fixture(DomainDispatcherApplication(create_backend_app)))
        )
    )
    port = serve(app, os.environ.get("IAMCTL_MOTO_HTTP", "waitress"))

    parent = os.getppid()
    stop = threading.Event()
    if stat.S_ISFIFO(os.fstat(0).st_mode) or stat.S_ISSOCK(os.fstat(0).st_mode):

        def watch_stdin() -> None:
            while os.read(0, 4096):
                pass
            stop.set()

        threading.Thread(target=watch_stdin, daemon=True).start()

    print(f"READY {port}", flush=True)
    # Nobody reads stdout after READY: send any later output to stderr, so a
    # stray print neither fills nor breaks the pipe.
    os.dup2(2, 1)
    while not stop.wait(0.5):
        if os.getppid() != parent:
            break
    # Request threads may be mid-flight; nobody is left to answer anyway.
    os._exit(0)


if __name__ == "__main__":
    main()
