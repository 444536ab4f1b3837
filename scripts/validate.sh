#!/usr/bin/env bash
# Validate the deployment: cfn-lint, `sam validate` (lint and translator), then our own
# template tests.
#
# aws-sam-cli pins boto3/pydantic versions that conflict with the runtime lock, so SAM and
# cfn-lint live in their own environment, .venv-tools, created here on first use (and again
# whenever tools/requirements-sam.txt changes). Needs no AWS credentials and no Docker.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.venv-tools
REQUIREMENTS=tools/requirements-sam.txt
STAMP="$TOOLS/.installed"
TEMPLATE=template.yaml
REGION=us-east-1

# Prints the path of a working Python 3.12 (PYTHON312, PATH, pyenv): the pinned tool set
# needs 3.12 (networkx 3.7), and so does the artifact build.
find_python312() {
    local candidates=()
    [[ -n "${PYTHON312:-}" ]] && candidates+=("$PYTHON312")
    candidates+=(python3.12)
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root="$(pyenv root)"
        candidates+=("$root"/versions/3.12*/bin/python3.12)
    fi
    local candidate
    for candidate in "${candidates[@]}"; do
        # A pyenv shim exists even when the version is not selected: run it to be sure.
        if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' \
            >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    echo "validate.sh: no Python 3.12 found (set PYTHON312=/path/to/python3.12)" >&2
    return 1
}

install_tools() {
    local python
    python="$(find_python312)"
    echo "validate.sh: creating $TOOLS with $("$python" --version) from $REQUIREMENTS"
    local started=$SECONDS
    rm -rf "$TOOLS"
    "$python" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip==24.3.1
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    touch "$STAMP"
    echo "validate.sh: $TOOLS ready in $((SECONDS - started)) s"
}

if [[ ! -f "$STAMP" || "$REQUIREMENTS" -nt "$STAMP" ]]; then
    install_tools
fi

if [[ ! -x .venv/bin/pytest ]]; then
    echo "validate.sh: .venv is missing: run 'make venv' first" >&2
    exit 1
fi

# Offline and credential-free: no telemetry, a region for the SAM translator, and dummy
# credentials so nothing falls back to a real profile.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="$REGION" AWS_REGION="$REGION"
export AWS_ACCESS_KEY_ID=validate AWS_SECRET_ACCESS_KEY=validate
unset AWS_PROFILE AWS_SESSION_TOKEN

echo "== cfn-lint $TEMPLATE"
"$TOOLS/bin/cfn-lint" "$TEMPLATE"
echo "== sam validate --lint"
"$TOOLS/bin/sam" validate --lint --template "$TEMPLATE" --region "$REGION"
# Without --lint SAM runs its translator instead (resolves .Alias, EventInvokeConfig, ...),
# which cfn-lint does not. It calls IAM only for SAM policy templates, which we do not use.
echo "== sam validate (SAM translator)"
"$TOOLS/bin/sam" validate --template "$TEMPLATE" --region "$REGION"
echo "== template tests"
.venv/bin/pytest -q tests/deploy
