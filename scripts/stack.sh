# shellcheck shell=bash
# Shared by pull.sh, build.sh, run.sh, run_in_background.sh and test.sh: paths,
# messages, mode selection (contract C1), tool installation and the Go build.
# Source it, don't run it. Local processes live in scripts/local.sh, Docker
# Compose in scripts/compose.sh.

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=$STACK_ROOT/bin
DATA_DIR=$STACK_ROOT/data
RUN_DIR=$DATA_DIR/run
STACK_MODE_FILE=$RUN_DIR/mode # the mode the stack was last started in (local or compose)
LOG_DIR=$DATA_DIR/logs
HTTP_PORT=${HTTP_PORT:-80}
STACK_ME=${0##*/}

# Progress goes to stderr; stdout carries only results (the base URL).
say() { printf '%s: %s\n' "$STACK_ME" "$*" >&2; }
die() {
	say "$*"
	exit 1
}

# shellcheck source=scripts/domains.sh
source "$STACK_ROOT/scripts/domains.sh"
# shellcheck source=scripts/local.sh
source "$STACK_ROOT/scripts/local.sh"
# shellcheck source=scripts/compose.sh
source "$STACK_ROOT/scripts/compose.sh"

stack_base_url() { printf 'http://localhost:%s\n' "$HTTP_PORT"; }

# stack_parse_mode ARGS... sets STACK_MODE (local or compose) from --local /
# --docker, defaulting to compose when docker-compose.yml exists and a Docker
# engine answers, and leaves the other arguments in STACK_ARGS. STACK_FORCED is
# the mode asked for (--local or --docker), else empty.
stack_parse_mode() {
	local arg forced=""
	STACK_ARGS=()
	for arg in "$@"; do
		case $arg in
		--local) forced=local ;;
		--docker) forced=compose ;;
		*) STACK_ARGS+=("$arg") ;;
		esac
	done
	STACK_FORCED=$forced
	case $forced in
	local) STACK_MODE=local ;;
	compose)
		compose_require
		STACK_MODE=compose
		;;
	*)
		if [[ ${STACK_ARGS[0]-} == down ]]; then
			STACK_MODE=local # unused: stack_down stops the mode the stack was started in
		elif [[ -f $STACK_ROOT/docker-compose.yml ]] && docker_answers && compose_cmd >/dev/null; then
			STACK_MODE=compose
		else
			STACK_MODE=local
		fi
		;;
	esac
	if ! [[ $HTTP_PORT =~ ^[0-9]+$ ]] || ((HTTP_PORT < 1 || HTTP_PORT > 65535)); then
		die "HTTP_PORT=$HTTP_PORT is not a port number"
	fi
}

# as_root CMD... runs CMD as root: directly, or with passwordless sudo.
as_root() {
	if ((EUID == 0)); then
		"$@"
	else
		sudo -n "$@"
	fi
}

can_be_root() { ((EUID == 0)) || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }

# stack_need "CMD=PACKAGE..." ... makes sure every CMD is on PATH, installing
# the Debian packages of the missing ones with apt-get when we are root or
# have passwordless sudo; otherwise it says what to install and exits 1.
stack_need() {
	local spec missing=() cmds=()
	for spec in "$@"; do
		if ! command -v "${spec%%=*}" >/dev/null 2>&1; then
			cmds+=("${spec%%=*}")
			# shellcheck disable=SC2206 # package lists are space-separated words
			missing+=(${spec#*=})
		fi
	done
	((${#missing[@]} == 0)) && return 0
	if ! command -v apt-get >/dev/null 2>&1 || ! can_be_root; then
		die "missing: ${cmds[*]}. Install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}) and run again."
	fi
	say "installing ${missing[*]} (for ${cmds[*]}) with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
		die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
	for spec in "${cmds[@]}"; do
		command -v "$spec" >/dev/null 2>&1 || die "$spec still missing after installing ${missing[*]}"
	done
}

# stack_need_go puts Go on PATH (adding /usr/local/go/bin if needed) or exits 1.
stack_need_go() {
	if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
		PATH=$PATH:/usr/local/go/bin
	fi
	command -v go >/dev/null 2>&1 ||
		die "Go is not installed: install the version go.mod names from https://go.dev/dl/ and put it on PATH"
}

# stack_build builds every main package under services/ and the uneventful command
# into bin/.
stack_build() {
	stack_need_go
	mkdir -p "$BIN_DIR"
	say "building services and the uneventful command into ${BIN_DIR#"$STACK_ROOT"/}/"
	(cd "$STACK_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN_DIR/" ./services/... ./cmd/uneventful) || return 1
	LOCAL_CLI_BUILT=1 # scripts/local.sh needs no build of its own
}

# stack_remember records STACK_MODE as the mode the stack is started in, for
# ./run.sh down; call it before starting anything.
stack_remember() {
	mkdir -p "$RUN_DIR"
	printf '%s\n' "$STACK_MODE" >"$STACK_MODE_FILE"
}

# stack_forget MODE drops the record if it says MODE, and data/run/ and data/ if
# nothing else is in them (stack_down -v).
stack_forget() {
	[[ $(cat "$STACK_MODE_FILE" 2>/dev/null) == "$1" ]] && rm -f "$STACK_MODE_FILE"
	rmdir "$RUN_DIR" "$DATA_DIR" 2>/dev/null || true
}

# stack_running_mode prints the mode of the stack to stop: the one it was
# started in (recorded by stack_remember), else the one whose processes or
# containers exist (local pid files, the compose project of .env), else local.
stack_running_mode() {
	local mode
	mode=$(cat "$STACK_MODE_FILE" 2>/dev/null) || true
	if [[ $mode == local || $mode == compose ]]; then
		printf '%s\n' "$mode"
		return
	fi
	if local_cli status 2>/dev/null | grep -q '^[^ ]* running '; then
		echo local
		return
	fi
	if [[ -s $COMPOSE_ENV && -f $STACK_ROOT/docker-compose.yml ]] && docker_answers && compose_cmd >/dev/null &&
		[[ -n $(compose ps -a -q 2>/dev/null) ]]; then
		echo compose
		return
	fi
	echo local
}

# stack_down [-v] stops the stack in the mode it was started in (--local or
# --docker: that mode's, whatever was started); -v also deletes its data (the
# volumes, or data/) and the record of the mode, which a plain down keeps (so a
# later down -v deletes the same stack's data). Only that mode's stack is
# touched: a stack started with --local is stopped without asking the Docker
# engine anything.
stack_down() {
	local mode=$STACK_FORCED
	[[ -n $mode ]] || mode=$(stack_running_mode)
	if [[ $mode == compose ]]; then
		[[ -n $STACK_FORCED ]] || compose_require
		compose_down "$@"
		[[ ${1:-} != -v ]] || stack_forget compose
		if [[ ${1:-} == -v && -d $DATA_DIR ]]; then
			say "note: ${DATA_DIR#"$STACK_ROOT"/}/ (local mode's data) was kept; ./run.sh down -v --local deletes it"
		fi
		return
	fi
	local_down report
	if [[ ${1:-} == -v ]]; then
		rm -rf "${DATA_DIR:?}"
		say "deleted ${DATA_DIR#"$STACK_ROOT"/}/"
		if [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; then
			say "note: the redis on 127.0.0.1:6379 is not managed by this stack; its keys were left as they are"
		fi
	fi
}
