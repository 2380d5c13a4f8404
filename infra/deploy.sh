#!/usr/bin/env bash
# Provisions the stack on EC2 with the AWS CLI, and tears it down again.
#
#   infra/deploy.sh up     [options]   security group, key pair, head node, N worker nodes
#   infra/deploy.sh down   [options]   removes everything `up` created for this --name
#   infra/deploy.sh status [options]   what exists now, and the URLs
#   infra/deploy.sh render-userdata --head-ip IP [options] --out DIR
#                                      writes the cloud-init user data (head.yaml, worker.yaml)
#
# Options (each also as an environment variable):
#   --name NAME               GARCH_STACK      stack name; every resource is tagged garch:stack=NAME
#                                              (default: garch)
#   --region REGION           AWS_REGION       (default: the CLI's configured region, else us-east-1)
#   --allowed-cidr CIDR       GARCH_SSH_CIDR   who may SSH in; required for `up` (e.g. 203.0.113.7/32);
#                                              0.0.0.0/0 is refused unless --allow-world-ssh
#   --service-cidr CIDR       GARCH_SERVICE_CIDR  who may reach the service ports (default: the SSH CIDR)
#   --ports "8001 8002"       GARCH_PORTS      service ports opened to --service-cidr
#   --workers N               GARCH_WORKERS    worker nodes (default 2)
#   --head-type TYPE          GARCH_HEAD_TYPE  (default t3.large)
#   --worker-type TYPE        GARCH_WORKER_TYPE (default c6i.large)
#   --ami AMI                 GARCH_AMI        default: Debian 12 amd64, from Debian's public SSM
#                                              parameter /aws/service/debian/release/12/latest/amd64
#   --key-name NAME           GARCH_KEY_NAME   an existing key pair to use (never deleted by `down`)
#   --public-key FILE         GARCH_PUBLIC_KEY import this public key as key pair NAME-key
#                                              (default: ~/.ssh/id_ed25519.pub, else id_rsa.pub; if
#                                              none, EC2 creates one and the private key is saved to
#                                              infra/.state/NAME-key.pem)
#   --repo URL --ref REF      GARCH_REPO GARCH_REF  what the nodes clone and build (default: this
#                                              checkout's origin and its HEAD commit)
#   --endpoint-url URL        AWS_ENDPOINT_URL an EC2-compatible endpoint (the moto test uses this)
#   --dry-run                 print every change instead of making it (lookups still run)
#   --no-wait                 do not wait for instances to be running
#   --head-workers N          GARCH_HEAD_WORKERS  workers also on the head node (default 0)
#   --secrets FILE            GARCH_SECRETS    the credentials file (default STATE_DIR/NAME.secrets;
#                                              STATE_DIR is GARCH_STATE_DIR or infra/.state)
# Needs: the AWS CLI (v1 or v2) with credentials, git (for the default --repo/--ref).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_DIR="${GARCH_STATE_DIR:-$HERE/.state}"

CMD="${1:-}"
[ $# -gt 0 ] && shift
NAME="${GARCH_STACK:-garch}"
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
SSH_CIDR="${GARCH_SSH_CIDR:-}"
SERVICE_CIDR="${GARCH_SERVICE_CIDR:-}"
PORTS="${GARCH_PORTS:-8001 8002}"
WORKERS="${GARCH_WORKERS:-2}"
HEAD_WORKERS="${GARCH_HEAD_WORKERS:-0}"
HEAD_TYPE="${GARCH_HEAD_TYPE:-t3.large}"
WORKER_TYPE="${GARCH_WORKER_TYPE:-c6i.large}"
AMI="${GARCH_AMI:-}"
KEY_NAME="${GARCH_KEY_NAME:-}"
PUBLIC_KEY="${GARCH_PUBLIC_KEY:-}"
REPO="${GARCH_REPO:-}"
REF="${GARCH_REF:-}"
ENDPOINT="${AWS_ENDPOINT_URL:-}"
DRY_RUN=0
WAIT=1
WORLD_SSH=0
HEAD_IP=""
OUT_DIR=""
SECRETS="${GARCH_SECRETS:-}"

usage() {
    sed -n '2,48p' "$0" | sed 's/^# \{0,1\}//'
}
die() {
    echo "deploy: error: $*" >&2
    exit 1
}
say() { echo "deploy: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --name) NAME="$2"; shift 2 ;;
        --region) REGION="$2"; shift 2 ;;
        --allowed-cidr) SSH_CIDR="$2"; shift 2 ;;
        --service-cidr) SERVICE_CIDR="$2"; shift 2 ;;
        --ports) PORTS="$2"; shift 2 ;;
        --workers) WORKERS="$2"; shift 2 ;;
        --head-workers) HEAD_WORKERS="$2"; shift 2 ;;
        --head-type) HEAD_TYPE="$2"; shift 2 ;;
        --worker-type) WORKER_TYPE="$2"; shift 2 ;;
        --ami) AMI="$2"; shift 2 ;;
        --key-name) KEY_NAME="$2"; shift 2 ;;
        --public-key) PUBLIC_KEY="$2"; shift 2 ;;
        --repo) REPO="$2"; shift 2 ;;
        --ref) REF="$2"; shift 2 ;;
        --endpoint-url) ENDPOINT="$2"; shift 2 ;;
        --head-ip) HEAD_IP="$2"; shift 2 ;;
        --out) OUT_DIR="$2"; shift 2 ;;
        --secrets) SECRETS="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --no-wait) WAIT=0; shift ;;
        --allow-world-ssh) WORLD_SSH=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
done

case "$CMD" in
    up | down | status | render-userdata) ;;
    -h | --help | help | "") usage; exit 0 ;;
    *) die "unknown command: $CMD (up, down, status, render-userdata)" ;;
esac

[[ "$NAME" =~ ^[A-Za-z][A-Za-z0-9-]{0,30}$ ]] || die "--name must be letters, digits and '-' (max 31)"
if ! [[ "$WORKERS" =~ ^[0-9]+$ ]] || [ "$WORKERS" -gt 50 ]; then die "--workers must be 0..50"; fi
if ! [[ "$HEAD_WORKERS" =~ ^[0-9]+$ ]] || [ "$HEAD_WORKERS" -gt 16 ]; then die "--head-workers must be 0..16"; fi
for p in $PORTS; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then die "bad port: $p"; fi
done
SG_NAME="$NAME-sg"
SECRETS="${SECRETS:-$STATE_DIR/$NAME.secrets}"
CREATED_KEY_NAME="$NAME-key"
TAG_KEY="garch:stack"

# --- AWS CLI helpers -----------------------------------------------------------------------------
AWS=(aws --output text)
[ -n "$REGION" ] && AWS+=(--region "$REGION")
[ -n "$ENDPOINT" ] && AWS+=(--endpoint-url "$ENDPOINT")
ec2() { "${AWS[@]}" ec2 "$@"; }
# A change: printed (on stderr, so that captured output stays clean) under --dry-run, run otherwise.
change() {
    if [ "$DRY_RUN" = 1 ]; then
        {
            printf 'DRY-RUN: aws ec2'
            printf ' %q' "$@"
            printf '\n'
        } >&2
        return 0
    fi
    ec2 "$@"
}
none_to_empty() { sed 's/^None$//'; }

valid_cidr() {
    [[ "$1" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]]
}

# --- user data --------------------------------------------------------------------------------
default_repo() {
    [ -n "$REPO" ] || REPO=$(git -C "$HERE/.." remote get-url origin 2>/dev/null || true)
    [ -n "$REF" ] || REF=$(git -C "$HERE/.." rev-parse HEAD 2>/dev/null || true)
    [ -n "$REPO" ] || die "no --repo given and this checkout has no 'origin' remote"
    [ -n "$REF" ] || REF=main
}

# --- credentials ----------------------------------------------------------------------------
# A letter first: nats-server's configuration parser reads a value that starts with a digit as a
# number or a date ("7e5…" is a float) and refuses to start; see compose/secrets.sh.
new_token() { printf 't%s' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"; }
# ensure_secrets: reads SECRETS, generating the missing tokens (not under --dry-run: then
# placeholders stand in and nothing is written).
ensure_secrets() {
    local var val
    if [ "$DRY_RUN" = 0 ]; then
        mkdir -p "$(dirname "$SECRETS")"
        (umask 077 && touch "$SECRETS")
        chmod 600 "$SECRETS"
    fi
    for var in NATS_TOKEN MARKET_SVC_TOKEN SIGNALS_SVC_TOKEN; do
        val=$(sed -n "s/^$var=\(t\{0,1\}[0-9a-f]\{32,\}\)$/\1/p" "$SECRETS" 2>/dev/null | tail -1 || true)
        # A NATS token of an earlier version that starts with a digit: replaced (see new_token).
        if [ "$var" = NATS_TOKEN ] && [[ "$val" == [0-9]* ]]; then val=""; fi
        if [ -z "$val" ]; then
            if [ "$DRY_RUN" = 1 ]; then
                val="DRY-RUN-$var"
            else
                val=$(new_token)
                printf '%s=%s\n' "$var" "$val" >>"$SECRETS"
                say "generated $var into $SECRETS"
            fi
        fi
        printf -v "$var" '%s' "$val"
    done
}

# render_userdata ROLE HEAD_PRIVATE_IP -> cloud-config on stdout
render_userdata() {
    local role="$1" head_ip="$2" tpl="$HERE/cloud-init/$1.yaml"
    [ -f "$tpl" ] || die "missing template $tpl"
    sed -e "s|@REPO@|$REPO|g" -e "s|@REF@|$REF|g" -e "s|@HEAD_IP@|$head_ip|g" \
        -e "s|@STACK@|$NAME|g" -e "s|@HEAD_WORKERS@|$HEAD_WORKERS|g" \
        -e "s|@NATS_TOKEN@|$NATS_TOKEN|g" -e "s|@MARKET_SVC_TOKEN@|$MARKET_SVC_TOKEN|g" \
        -e "s|@SIGNALS_SVC_TOKEN@|$SIGNALS_SVC_TOKEN|g" "$tpl"
}

if [ "$CMD" = render-userdata ]; then
    [ -n "$OUT_DIR" ] || die "render-userdata needs --out DIR"
    default_repo
    ensure_secrets
    mkdir -p "$OUT_DIR"
    render_userdata head "${HEAD_IP:-10.0.0.10}" >"$OUT_DIR/head.yaml"
    render_userdata worker "${HEAD_IP:-10.0.0.10}" >"$OUT_DIR/worker.yaml"
    say "wrote $OUT_DIR/head.yaml and $OUT_DIR/worker.yaml"
    exit 0
fi

command -v aws >/dev/null 2>&1 || die "the AWS CLI is not installed (pip install awscli, or AWS CLI v2)"
if [ -z "$REGION" ]; then
    REGION=$(aws configure get region 2>/dev/null || true)
    REGION=${REGION:-us-east-1}
    AWS+=(--region "$REGION")
fi

# --- lookups (always run, also under --dry-run) -----------------------------------------------
find_sg() {
    ec2 describe-security-groups --filters "Name=group-name,Values=$SG_NAME" \
        "Name=tag:$TAG_KEY,Values=$NAME" --query 'SecurityGroups[0].GroupId' | none_to_empty
}
# instance ids of ROLE (head|worker) not terminated
find_instances() {
    ec2 describe-instances --filters "Name=tag:$TAG_KEY,Values=$NAME" "Name=tag:garch:role,Values=$1" \
        "Name=instance-state-name,Values=pending,running,stopping,stopped" \
        --query 'Reservations[].Instances[].InstanceId' | tr '\t' '\n' | sed '/^$/d'
}
key_exists() {
    ec2 describe-key-pairs --key-names "$1" --query 'KeyPairs[0].KeyName' >/dev/null 2>&1
}

print_outputs() {
    local head ip priv
    head=$(find_instances head | head -1)
    if [ -z "$head" ]; then
        say "no head node for stack '$NAME'"
        return 0
    fi
    ip=$(ec2 describe-instances --instance-ids "$head" \
        --query 'Reservations[0].Instances[0].PublicIpAddress' | none_to_empty)
    priv=$(ec2 describe-instances --instance-ids "$head" \
        --query 'Reservations[0].Instances[0].PrivateIpAddress' | none_to_empty)
    local workers
    workers=$(find_instances worker | wc -l)
    echo "STACK=$NAME"
    echo "REGION=$REGION"
    echo "HEAD_INSTANCE=$head"
    echo "HEAD_PUBLIC_IP=${ip:-pending}"
    echo "HEAD_PRIVATE_IP=$priv"
    echo "WORKER_NODES=$workers"
    echo "MARKET_URL=http://${ip:-HEAD}:8001"
    echo "SIGNALS_URL=http://${ip:-HEAD}:8002"
    echo "SSH=ssh admin@${ip:-HEAD}"
    echo "SECRETS=$SECRETS"
    echo "DASHBOARD=cargo run --release -p tui-client -- --market-url http://${ip:-HEAD}:8001 --signals-url http://${ip:-HEAD}:8002"
}

if [ "$CMD" = status ]; then
    sg=$(find_sg)
    echo "SECURITY_GROUP=${sg:-none}"
    print_outputs
    exit 0
fi

# --- down ---------------------------------------------------------------------------------------
if [ "$CMD" = down ]; then
    mapfile -t ids < <({
        find_instances head
        find_instances worker
    })
    if [ "${#ids[@]}" -gt 0 ]; then
        say "terminating ${#ids[@]} instance(s): ${ids[*]}"
        change terminate-instances --instance-ids "${ids[@]}" >/dev/null
        if [ "$DRY_RUN" = 0 ]; then
            ec2 wait instance-terminated --instance-ids "${ids[@]}"
        fi
    else
        say "no instances tagged $TAG_KEY=$NAME"
    fi
    sg=$(find_sg)
    if [ -n "$sg" ]; then
        say "deleting security group $sg ($SG_NAME)"
        if [ "$DRY_RUN" = 1 ]; then
            change delete-security-group --group-id "$sg"
        else
            # ENIs of terminated instances may hold the group for a few seconds more.
            for i in $(seq 1 30); do
                ec2 delete-security-group --group-id "$sg" 2>/dev/null && break
                [ "$i" = 30 ] && die "security group $sg still in use"
                sleep 5
            done
        fi
    else
        say "no security group $SG_NAME"
    fi
    # Only the key pair this script creates (NAME-key); a --key-name of yours is never deleted.
    if key_exists "$CREATED_KEY_NAME"; then
        say "deleting key pair $CREATED_KEY_NAME"
        change delete-key-pair --key-name "$CREATED_KEY_NAME" >/dev/null
        [ "$DRY_RUN" = 1 ] || rm -f "$STATE_DIR/$CREATED_KEY_NAME.pem"
    else
        say "no key pair $CREATED_KEY_NAME"
    fi
    if [ -f "$SECRETS" ]; then
        say "deleting the stack's credentials $SECRETS"
        [ "$DRY_RUN" = 1 ] || rm -f "$SECRETS"
    fi
    if [ "$DRY_RUN" = 1 ]; then say "dry run done; nothing was removed"; else say "stack '$NAME' removed"; fi
    exit 0
fi

# --- up -----------------------------------------------------------------------------------------
[ -n "$SSH_CIDR" ] || die "--allowed-cidr is required (the address range allowed to SSH in, e.g. \$(curl -s https://checkip.amazonaws.com)/32)"
valid_cidr "$SSH_CIDR" || die "--allowed-cidr must be an IPv4 CIDR like 203.0.113.7/32"
if [ "$SSH_CIDR" = 0.0.0.0/0 ] && [ "$WORLD_SSH" = 0 ]; then
    die "refusing SSH from 0.0.0.0/0; narrow --allowed-cidr (or pass --allow-world-ssh)"
fi
SERVICE_CIDR=${SERVICE_CIDR:-$SSH_CIDR}
valid_cidr "$SERVICE_CIDR" || die "--service-cidr must be an IPv4 CIDR"
default_repo
ensure_secrets

# AMI: Debian 12 from Debian's public SSM parameters unless given, else the newest image of
# Debian's AWS account (136693071363) named debian-12-amd64-*.
if [ -z "$AMI" ]; then
    for param in /aws/service/debian/release/12/latest/amd64 /aws/service/debian/release/bookworm/latest/amd64; do
        AMI=$("${AWS[@]}" ssm get-parameter --name "$param" --query Parameter.Value 2>/dev/null | none_to_empty || true)
        [ -n "$AMI" ] && break
    done
    if [ -z "$AMI" ]; then
        AMI=$(ec2 describe-images --owners 136693071363 --filters 'Name=name,Values=debian-12-amd64-*' \
            Name=state,Values=available --query 'sort_by(Images,&CreationDate)[-1].ImageId' 2>/dev/null |
            none_to_empty || true)
    fi
    [ -n "$AMI" ] || die "cannot find a Debian 12 AMI in $REGION; pass --ami ami-..."
fi
# The root volume is resized through the AMI's own root device name (/dev/xvda on Debian,
# /dev/sda1 on Ubuntu); another name would attach a second, unused volume.
ROOT_DEVICE=$(ec2 describe-images --image-ids "$AMI" --query 'Images[0].RootDeviceName' 2>/dev/null | none_to_empty || true)
ROOT_DEVICE=${ROOT_DEVICE:-/dev/xvda}
say "stack '$NAME' in $REGION: AMI $AMI, head $HEAD_TYPE, $WORKERS x $WORKER_TYPE"
[ "$DRY_RUN" = 1 ] && say "dry run: changes are printed, not made"

VPC=$(ec2 describe-vpcs --filters Name=isDefault,Values=true --query 'Vpcs[0].VpcId' | none_to_empty)
[ -n "$VPC" ] || die "no default VPC in $REGION (create one: aws ec2 create-default-vpc)"
SUBNET=$(ec2 describe-subnets --filters "Name=vpc-id,Values=$VPC" Name=default-for-az,Values=true \
    --query 'sort_by(Subnets,&AvailabilityZone)[0].SubnetId' | none_to_empty)
[ -n "$SUBNET" ] || die "no default subnet in $VPC"

# Security group: SSH from the allowed CIDR only; service ports from the service CIDR; NATS
# (4222) only between members of the group (workers -> head). Rules are added if missing.
SG=$(find_sg)
if [ -z "$SG" ]; then
    say "creating security group $SG_NAME in $VPC"
    if [ "$DRY_RUN" = 1 ]; then
        change create-security-group --group-name "$SG_NAME" --vpc-id "$VPC" \
            --description "garch stack $NAME" \
            --tag-specifications "ResourceType=security-group,Tags=[{Key=$TAG_KEY,Value=$NAME}]"
        SG="sg-DRYRUN"
    else
        SG=$(ec2 create-security-group --group-name "$SG_NAME" --vpc-id "$VPC" \
            --description "garch stack $NAME" \
            --tag-specifications "ResourceType=security-group,Tags=[{Key=$TAG_KEY,Value=$NAME}]" \
            --query GroupId)
    fi
else
    say "security group $SG_NAME exists: $SG"
fi
ingress() { # ingress PORT CIDR|sg-... : adds the rule unless present
    local port="$1" src="$2" have
    if [ "$SG" != sg-DRYRUN ]; then
        if [[ "$src" == sg-* ]]; then
            have=$(ec2 describe-security-groups --group-ids "$SG" --query \
                "SecurityGroups[0].IpPermissions[?FromPort==\`$port\`].UserIdGroupPairs[].GroupId" | tr '\t' '\n')
        else
            have=$(ec2 describe-security-groups --group-ids "$SG" --query \
                "SecurityGroups[0].IpPermissions[?FromPort==\`$port\`].IpRanges[].CidrIp" | tr '\t' '\n')
        fi
        if grep -qxF "$src" <<<"$have"; then
            return 0
        fi
    fi
    say "allowing tcp/$port from $src"
    if [[ "$src" == sg-* ]]; then
        change authorize-security-group-ingress --group-id "$SG" \
            --ip-permissions "IpProtocol=tcp,FromPort=$port,ToPort=$port,UserIdGroupPairs=[{GroupId=$src}]" >/dev/null
    else
        change authorize-security-group-ingress --group-id "$SG" \
            --ip-permissions "IpProtocol=tcp,FromPort=$port,ToPort=$port,IpRanges=[{CidrIp=$src,Description=garch-$NAME}]" >/dev/null
    fi
}
ingress 22 "$SSH_CIDR"
for p in $PORTS; do ingress "$p" "$SERVICE_CIDR"; done
ingress 4222 "$SG"

# Key pair.
if [ -n "$KEY_NAME" ]; then
    key_exists "$KEY_NAME" || die "key pair $KEY_NAME does not exist in $REGION"
    say "using your key pair $KEY_NAME"
else
    KEY_NAME=$CREATED_KEY_NAME
    if key_exists "$KEY_NAME"; then
        say "key pair $KEY_NAME exists"
    else
        if [ -z "$PUBLIC_KEY" ]; then
            for f in "$HOME/.ssh/id_ed25519.pub" "$HOME/.ssh/id_rsa.pub"; do
                [ -f "$f" ] && PUBLIC_KEY=$f && break
            done
        fi
        if [ -n "$PUBLIC_KEY" ]; then
            [ -f "$PUBLIC_KEY" ] || die "no such public key file: $PUBLIC_KEY"
            say "importing $PUBLIC_KEY as key pair $KEY_NAME"
            change import-key-pair --key-name "$KEY_NAME" \
                --public-key-material "fileb://$PUBLIC_KEY" \
                --tag-specifications "ResourceType=key-pair,Tags=[{Key=$TAG_KEY,Value=$NAME}]" >/dev/null
        else
            say "creating key pair $KEY_NAME; private key -> $STATE_DIR/$KEY_NAME.pem"
            if [ "$DRY_RUN" = 1 ]; then
                change create-key-pair --key-name "$KEY_NAME" --key-type ed25519
            else
                mkdir -p "$STATE_DIR"
                (
                    umask 077
                    ec2 create-key-pair --key-name "$KEY_NAME" --key-type ed25519 \
                        --tag-specifications "ResourceType=key-pair,Tags=[{Key=$TAG_KEY,Value=$NAME}]" \
                        --query KeyMaterial >"$STATE_DIR/$KEY_NAME.pem"
                )
            fi
        fi
    fi
fi

USERDATA_DIR=$(mktemp -d)
trap 'rm -rf "$USERDATA_DIR"' EXIT

launch() { # launch ROLE TYPE COUNT USERDATA_FILE
    local role="$1" type="$2" count="$3" ud="$4"
    local tags="ResourceType=instance,Tags=[{Key=$TAG_KEY,Value=$NAME},{Key=garch:role,Value=$role},{Key=Name,Value=$NAME-$role}]"
    local vtags="ResourceType=volume,Tags=[{Key=$TAG_KEY,Value=$NAME}]"
    say "launching $count x $role ($type)"
    change run-instances --image-id "$AMI" --instance-type "$type" --count "$count" \
        --key-name "$KEY_NAME" --security-group-ids "$SG" --subnet-id "$SUBNET" \
        --associate-public-ip-address \
        --block-device-mappings "DeviceName=$ROOT_DEVICE,Ebs={VolumeSize=30,VolumeType=gp3,DeleteOnTermination=true}" \
        --metadata-options 'HttpTokens=required,HttpEndpoint=enabled' \
        --user-data "file://$ud" \
        --tag-specifications "$tags" "$vtags" \
        --query 'Instances[].InstanceId'
}

# Head node (one).
mapfile -t HEADS < <(find_instances head)
if [ "${#HEADS[@]}" -eq 0 ]; then
    render_userdata head "" >"$USERDATA_DIR/head.yaml"
    out=$(launch head "$HEAD_TYPE" 1 "$USERDATA_DIR/head.yaml")
    if [ "$DRY_RUN" = 1 ]; then
        HEAD_ID="i-DRYRUNHEAD"
    else
        HEAD_ID=$(echo "$out" | tr '\t' '\n' | head -1)
    fi
else
    HEAD_ID=${HEADS[0]}
    say "head node exists: $HEAD_ID"
fi
if [ "$HEAD_ID" = i-DRYRUNHEAD ]; then
    HEAD_PRIV="HEAD-PRIVATE-IP"
else
    HEAD_PRIV=$(ec2 describe-instances --instance-ids "$HEAD_ID" \
        --query 'Reservations[0].Instances[0].PrivateIpAddress' | none_to_empty)
fi

# Worker nodes: as many more as needed to reach --workers (never removes extra ones).
mapfile -t WIDS < <(find_instances worker)
missing=$((WORKERS - ${#WIDS[@]}))
if [ "$missing" -gt 0 ]; then
    render_userdata worker "$HEAD_PRIV" >"$USERDATA_DIR/worker.yaml"
    launch worker "$WORKER_TYPE" "$missing" "$USERDATA_DIR/worker.yaml" >/dev/null
else
    say "${#WIDS[@]} worker node(s) exist (wanted $WORKERS)"
fi

if [ "$DRY_RUN" = 1 ]; then
    say "dry run done; nothing was changed"
    exit 0
fi
if [ "$WAIT" = 1 ]; then
    mapfile -t ALL < <({
        find_instances head
        find_instances worker
    })
    say "waiting for ${#ALL[@]} instance(s) to be running"
    ec2 wait instance-running --instance-ids "${ALL[@]}"
fi
print_outputs
say "the head node installs Docker and builds the images on first boot (~10 min); then the URLs answer"
