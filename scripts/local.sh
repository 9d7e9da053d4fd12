# shellcheck shell=bash
# The stack as local processes (contract C1's embedded mode). Sourced by
# scripts/stack.sh. A thin layer over `uneventful local` (cmd/uneventful/local.go on
# pkg/supervise), which derives the services, ports and environment from config/domains
# and starts, awaits, stops and reports them: every service runs detached in its own
# session (so a Ctrl-C reaches only the script), with its pid in data/run/<svc>.pid and
# its output in data/logs/<svc>.log (the previous run's in <svc>.log.1). What stays here
# needs the shell: the build, the start lock, following the logs, the traps.

# Seconds a service may take to become ready (a history written by an older build is
# migrated at its first start, about 10 to 20 s a million events: raise it for that
# start), and between SIGTERM and SIGKILL.
STACK_READY_TIMEOUT=${STACK_READY_TIMEOUT:-30}
STACK_STOP_TIMEOUT=${STACK_STOP_TIMEOUT:-15}

# local_cli_build builds bin/uneventful when Go is there, once a script (stack_build
# builds it too), so that the local commands match this checkout.
local_cli_build() {
	[[ -z ${LOCAL_CLI_BUILT:-} ]] || return 0
	if command -v go >/dev/null 2>&1 || [[ -x /usr/local/go/bin/go ]]; then
		stack_need_go
		mkdir -p "$BIN_DIR"
		(cd "$STACK_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN_DIR/uneventful" ./cmd/uneventful) ||
			die "building ${BIN_DIR#"$STACK_ROOT"/}/uneventful failed"
	fi
	[[ -x $BIN_DIR/uneventful ]] || die "${BIN_DIR#"$STACK_ROOT"/}/uneventful is missing and Go is not installed"
	LOCAL_CLI_BUILT=1
}

# local_cli CMD ARGS... runs `uneventful local CMD ARGS...` on this checkout, its
# messages prefixed with the script's name; the start lock (fd 9) stays with the script.
local_cli() {
	local_cli_argv
	"${LOCAL_CLI[@]}" "$@" 9>&-
}

# local_cli_argv sets LOCAL_CLI, the command line of local_cli (run in the background
# as "${LOCAL_CLI[@]}" CMD ... 9>&- &, $! is the command's pid).
local_cli_argv() {
	local_cli_build
	LOCAL_CLI=(env "STACK_ROOT=$STACK_ROOT" "HTTP_PORT=$HTTP_PORT" "BIND_ADDR=${BIND_ADDR:-}" "STACK_ME=$STACK_ME"
		"$BIN_DIR/uneventful" local)
}

# local_load_services sets STACK_SERVICES, the services in start order (stop order is
# the reverse): the brokers, the history writer, each domain's services (config/domains),
# the tracker, then the HTTP entry.
local_load_services() {
	local out
	local_cli_build
	out=$(local_cli services) || return 1
	# shellcheck disable=SC2034 # read by the scripts sourcing this one
	mapfile -t STACK_SERVICES <<<"$out"
}

# local_ports prints the ports the services of config/domains' stack bind, one a line.
local_ports() { local_cli ports; }

# svc_status SVC sets SVC_STATE (running or stopped), SVC_PID (- when stopped) and
# SVC_PROGRAM (the program it runs, its process name).
svc_status() {
	local name
	read -r name SVC_STATE SVC_PID SVC_PROGRAM < <(local_cli status "$1" || true)
	[[ $name == "$1" ]] || return 1
}

# svc_program SVC prints the program SVC runs (its process name).
svc_program() { svc_status "$1" && printf '%s\n' "$SVC_PROGRAM"; }

# svc_pid SVC prints the pid of SVC if its pid file names a live process of
# it; it fails otherwise (no pid file, or a stale one).
svc_pid() { svc_status "$1" && [[ $SVC_STATE == running ]] && printf '%s\n' "$SVC_PID"; }

# port_busy PORT [HOST]: something listens on HOST (default 127.0.0.1):PORT.
port_busy() { (: <"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

# stack_lock serialises starts: two scripts starting the stack at once would
# race for its ports. Take it before trapping EXIT to stop the stack, so a
# script that loses the race stops nothing. Services are started with fd 9
# closed, so only the script holds the lock.
stack_lock() {
	mkdir -p "$RUN_DIR"
	command -v flock >/dev/null 2>&1 || return 0
	exec 9>"$RUN_DIR/lock"
	flock -n 9 || die "another run.sh or run_in_background.sh is starting the stack; wait for it"
}

stack_unlock() { exec 9>&-; }

# local_active sets STACK_ACTIVE, the services this stack manages that run.
local_active() {
	local svc state rest
	STACK_ACTIVE=()
	while read -r svc state rest; do
		[[ $state != running ]] || STACK_ACTIVE+=("$svc")
	done < <(local_cli status || true)
}

# local_up starts every service not yet running, in order, and waits for each
# to be ready. It sets STACK_STARTED (how many it started) and STACK_ACTIVE
# (the services this stack manages). It fails after printing why; the caller
# stops the stack. The command runs in the background so that a signal to the
# script is handled at once (local_down ends it first).
local_up() {
	local rc=0 started=$RUN_DIR/started
	STACK_STARTED=0
	STACK_ACTIVE=()
	local_cli_argv
	mkdir -p "$RUN_DIR"
	"${LOCAL_CLI[@]}" up -ready-timeout "${STACK_READY_TIMEOUT}s" >"$started" 9>&- &
	LOCAL_CLI_PID=$!
	wait "$LOCAL_CLI_PID" || rc=$?
	LOCAL_CLI_PID=
	# shellcheck disable=SC2034 # read by run_in_background.sh
	STACK_STARTED=$(wc -l <"$started")
	rm -f "$started"
	local_active
	return "$rc"
}

# local_stop_cli ends a local command still running in the background (a start
# interrupted by a signal, the watch of local_follow) and waits for it.
local_stop_cli() {
	local pid
	for pid in ${LOCAL_CLI_PID:-} ${STACK_WATCH_PID:-}; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	LOCAL_CLI_PID=
	STACK_WATCH_PID=
}

# local_down [report] stops every service with a live pid file, in reverse start
# order (first those no longer in config/domains); "report" says so when there was none.
local_down() {
	local_stop_cli
	local_cli down -stop-timeout "${STACK_STOP_TIMEOUT}s" ${1:+-report}
}

# local_follow streams the logs of STACK_ACTIVE, each line prefixed with its
# service, until a service exits (fails) or the pid files are removed by
# ./run.sh down (succeeds).
local_follow() {
	local svc files=()
	for svc in "${STACK_ACTIVE[@]}"; do files+=("$LOG_DIR/$svc.log"); done
	((${#files[@]} > 0)) || return 0
	local awk=(awk)
	# mawk (Debian's awk) holds piped input back in blocks unless interactive.
	awk -W version 2>&1 | grep -q mawk && awk=(awk -W interactive)
	# shellcheck disable=SC2016 # an awk program
	tail -v -n +1 -F "${files[@]}" 2>/dev/null > >("${awk[@]}" '
		/^==> .* <==$/ { f = $0; sub(/^==> /, "", f); sub(/ <==$/, "", f); n = split(f, p, "/")
			sub(/\.log$/, "", p[n]); prefix = sprintf("%-22s | ", p[n]); next }
		/^$/ { next }
		{ print prefix $0; fflush() }') &
	STACK_FOLLOW_PID=$!
	local_cli_argv
	"${LOCAL_CLI[@]}" watch "${STACK_ACTIVE[@]}" 9>&- &
	STACK_WATCH_PID=$!
	local rc=0
	wait "$STACK_WATCH_PID" || rc=$?
	STACK_WATCH_PID=
	return "$rc"
}

local_stop_follow() {
	[[ -n ${STACK_FOLLOW_PID:-} ]] || return 0
	kill "$STACK_FOLLOW_PID" 2>/dev/null || true
	wait "$STACK_FOLLOW_PID" 2>/dev/null || true
	STACK_FOLLOW_PID=
}

# local_need_tools installs (or asks for) what local mode runs on besides Go.
local_need_tools() {
	stack_need redis-server=redis-server redis-cli=redis-tools curl=curl ps=procps
}
