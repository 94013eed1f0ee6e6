#!/usr/bin/env python3
"""Extra calls of the compliance rules: `iamctl plan -v` on moto with and without them (BENCHMARKS.md).

Usage: /work/main/.venv/bin/python scripts/bench-compliance.py USERS  (needs target/debug/iamctl)."""
import subprocess, sys, json, os, boto3, tempfile, urllib.request
p = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "..", "tests/moto/launcher.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
port = p.stdout.readline().decode().split()[1]
ep = f"http://127.0.0.1:{port}"
acct = "444455556666"
sts = boto3.client("sts", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="AKIAX", aws_secret_access_key="x")
c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/x", RoleSessionName="bench")["Credentials"]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
def post(path, body):
    urllib.request.urlopen(urllib.request.Request(ep+path, data=json.dumps(body).encode(), method="POST"))
post("/_iamctl/aws-managed-policies", {"account": acct})
post("/_iamctl/root", {"account": acct, "mfa": "virtual", "access_keys_present": False, "last_used_days_ago": 3})
doc = json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]})
for i in range(int(sys.argv[1])):
    u=f"user{i:04d}"; iam.create_user(UserName=u)
    if i % 10 == 0: iam.put_user_policy(UserName=u, PolicyName="p", PolicyDocument=doc)
    if i % 7 == 0: iam.create_access_key(UserName=u)
for g in range(20):
    iam.create_group(GroupName=f"g{g}"); iam.attach_group_policy(GroupName=f"g{g}", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
for r in range(30):
    iam.create_role(RoleName=f"r{r}", AssumeRolePolicyDocument="{}")
    iam.create_policy(PolicyName=f"pol{r}", PolicyDocument=doc)
env = dict(os.environ, AWS_ENDPOINT_URL=ep, AWS_ACCESS_KEY_ID=c["AccessKeyId"], AWS_SECRET_ACCESS_KEY=c["SecretAccessKey"], AWS_SESSION_TOKEN=c["SessionToken"], AWS_REGION="us-east-1", NO_COLOR="1")
base = """[users.console]
require_mfa = true
max_unused_days = 45
[users.access_keys]
max_age_days = 90
max_unused_days = 45
max_active = 1
"""
comp = """[root]
forbid_access_keys = true
require_mfa = true
require_hardware_mfa = true
max_used_days = 30
[audit]
forbid_full_admin_policies = true
require_support_role = true
"""
users_extra = "forbid_direct_policies = true\n"
cases = {
 "user rules": base,
 "user rules + compliance": base.replace("[users.console]", "[users]\n"+users_extra+"[users.console]") + comp,
 "compliance only": "[users]\n"+users_extra + comp,
}
for name, text in cases.items():
    d = tempfile.mkdtemp(); f = os.path.join(d, "d.toml"); open(f,"w").write(text)
    for run in range(2):
        out = subprocess.run([os.path.join(os.path.dirname(__file__), "..", "target/debug/iamctl"), "plan", "-v", "-c", f], env=env, capture_output=True, text=True)
        line = [l for l in out.stderr.splitlines() if l.startswith("api calls")]
        print(f"{name} (run {run+1}):", line[0] if line else out.stderr[-400:])
p.stdin.close()
