# shellcheck shell=bash
# The stack as local processes (contract C1's embedded mode). Sourced by
# scripts/stack.sh. Every service runs detached in its own session (so a
# Ctrl-C reaches only the script), with its pid in data/run/<svc>.pid and its
# output in data/logs/<svc>.log (the previous run's in <svc>.log.1).

# local_load_services sets STACK_SERVICES, the services in start order (stop order is
# the reverse): the brokers, the history writer, each domain's services (config/domains,
# scripts/domains.sh), then the HTTP entry.
local_load_services() {
	local d
	load_domains || return 1
	STACK_SERVICES=(redis message_broker history_writer)
	for d in "${DOMAINS[@]}"; do
		mapfile -t -O "${#STACK_SERVICES[@]}" STACK_SERVICES < <(domain_services "$d")
	done
	STACK_SERVICES+=(router)
}

STACK_READY_TIMEOUT=30 # seconds a service may take to become ready
STACK_STOP_TIMEOUT=15  # seconds between SIGTERM and SIGKILL

# local_host is where the services reach each other and the scripts reach them: BIND_ADDR
# when it names one address, else 127.0.0.1.
local_host() {
	case ${BIND_ADDR:-} in
	"" | 0.0.0.0 | "::" | "[::]") echo 127.0.0.1 ;;
	*) printf '%s\n' "$BIND_ADDR" ;;
	esac
}

# local_routes prints the HTTP entry's ROUTES: each domain's prefix to its server,
# /notify to the session's, and /history to the history writer.
local_routes() {
	local d routes=()
	for d in "${DOMAINS[@]}"; do
		routes+=("/$d/=http://127.0.0.1:$(domain_port "$d" server)")
	done
	if [[ " ${DOMAINS[*]} " == *" session "* ]]; then # notifications by constraint (pkg/notify)
		routes+=("/notify=http://127.0.0.1:$(domain_port session server)")
	fi
	routes+=("/history=http://$(local_host):8081")
	printf '%s\n' "${routes[*]}"
}

# svc_program SVC prints the program SVC runs (its process name).
svc_program() {
	case $1 in
	redis) echo redis-server ;;
	*_queue | *_queue_forwards) echo queue_domain ;;
	*) printf '%s\n' "$1" ;;
	esac
}

# svc_spec SVC sets SVC_CMD (argv), SVC_PORTS (ports it binds), SVC_HOST (where they are
# reached) and SVC_READY_URL (empty for redis, which is checked with redis-cli ping). What
# users reach (NATS, Redis, the history) binds BIND_ADDR (default 127.0.0.1), the HTTP
# entry BIND_ADDR (default every address), the rest 127.0.0.1 (scripts/domains.sh's ports).
svc_spec() {
	local bind=${BIND_ADDR:-127.0.0.1} host d port
	host=$(local_host)
	SVC_HOST=$host
	local common=("NATS_URL=nats://$host:4222" "REDIS_ADDR=$host:6379" "DATA_DIR=$DATA_DIR")
	case $1 in
	redis)
		SVC_CMD=(redis-server --port 6379 --bind "$bind" --save '' --appendonly no
			--dir "$DATA_DIR/redis" --maxmemory-policy noeviction)
		SVC_PORTS=(6379)
		SVC_READY_URL=
		;;
	message_broker)
		SVC_CMD=(env "NATS_HOST=$bind" NATS_PORT=4222 NATS_HTTP_PORT=8222
			"NATS_STORE_DIR=$DATA_DIR/nats" "$BIN_DIR/message_broker")
		SVC_PORTS=(4222 8222)
		SVC_READY_URL=http://$host:8222/healthz
		;;
	history_writer)
		SVC_CMD=(env "${common[@]}" "HTTP_ADDR=$bind:8081" "$BIN_DIR/history_writer")
		SVC_PORTS=(8081)
		SVC_READY_URL=http://$host:8081/readyz
		;;
	router)
		SVC_CMD=(env "HTTP_ADDR=${BIND_ADDR:-}:$HTTP_PORT" "ROUTES=$(local_routes)" "$BIN_DIR/router")
		SVC_PORTS=("$HTTP_PORT")
		SVC_READY_URL=http://$host:$HTTP_PORT/readyz
		;;
	*_queue_forwards | *_queue)
		d=${1%_queue_forwards}
		d=${d%_queue}
		if [[ $1 == *_queue_forwards ]]; then
			port=$(domain_port "$d" forwards) || die "unknown service $1"
			SVC_CMD=(-role forwards)
		else
			port=$(domain_port "$d" queue) || die "unknown service $1"
			SVC_CMD=(-role owner)
		fi
		SVC_CMD=(env "${common[@]}" "$BIN_DIR/queue_domain" -config "$(domain_queues "$d")" "${SVC_CMD[@]}"
			-http "127.0.0.1:$port")
		SVC_PORTS=("$port")
		SVC_HOST=127.0.0.1
		SVC_READY_URL=http://127.0.0.1:$port/readyz
		;;
	*_writer | *_server)
		d=${1%_*}
		port=$(domain_port "$d" "${1##*_}") || die "unknown service $1"
		SVC_CMD=(env "${common[@]}" "HTTP_ADDR=127.0.0.1:$port" "$BIN_DIR/$1")
		SVC_PORTS=("$port")
		SVC_HOST=127.0.0.1
		SVC_READY_URL=http://127.0.0.1:$port/readyz
		;;
	*) die "unknown service $1" ;;
	esac
}

svc_pidfile() { printf '%s/%s.pid\n' "$RUN_DIR" "$1"; }
svc_log() { printf '%s/%s.log\n' "$LOG_DIR" "$1"; }

# pid_alive PID: PID is a live (not zombie) process.
pid_alive() {
	local stat
	stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $stat != Z* ]]
}

# pid_is PID NAME: PID is a live (not zombie) process running NAME.
pid_is() {
	local comm
	pid_alive "$1" || return 1
	comm=$(ps -o comm= -p "$1" 2>/dev/null) || return 1
	comm=${comm##*/}
	[[ $comm == "${2:0:15}" ]] # Linux cuts comm to 15 characters
}

# svc_pid SVC prints the pid of SVC if its pid file names a live process of
# it; it fails otherwise (no pid file, or a stale one).
svc_pid() {
	local pid name
	name=$(svc_program "$1")
	[[ -r $(svc_pidfile "$1") ]] || return 1
	pid=$(<"$(svc_pidfile "$1")")
	[[ $pid =~ ^[0-9]+$ ]] && pid_is "$pid" "$name" && printf '%s\n' "$pid"
}

svc_ready() {
	if [[ $1 == redis ]]; then
		[[ $(redis-cli -h "$(local_host)" -p 6379 ping 2>/dev/null) == PONG ]]
	else
		svc_spec "$1"
		curl -fsS -m 2 -o /dev/null "$SVC_READY_URL" 2>/dev/null
	fi
}

# port_busy PORT [HOST]: something listens on HOST (default 127.0.0.1):PORT.
port_busy() { (: <"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

svc_start() {
	local svc=$1 port log pidfile
	svc_spec "$svc"
	for port in "${SVC_PORTS[@]}"; do
		if port_busy "$port" "$SVC_HOST"; then
			say "cannot start $svc: port $port is already in use by a process this stack did not start"
			[[ $svc == router ]] && say "(choose another HTTP entry port with HTTP_PORT=8080)"
			return 1
		fi
	done
	log=$(svc_log "$svc")
	pidfile=$(svc_pidfile "$svc")
	[[ -f $log ]] && mv -f "$log" "$log.1"
	rm -f "$pidfile"
	if command -v setsid >/dev/null 2>&1; then
		setsid nohup "${SVC_CMD[@]}" >"$log" 2>&1 </dev/null 9>&- &
	else
		nohup "${SVC_CMD[@]}" >"$log" 2>&1 </dev/null 9>&- &
	fi
	printf '%s\n' "$!" >"$pidfile"
	disown "$!" # no job notices; svc_stop and pid_is cope with zombies
	say "started $svc (pid $!, log ${log#"$STACK_ROOT"/})"
}

# svc_wait_ready SVC PID [quiet] polls until SVC answers its readiness check; on
# failure it prints the tail of the service's log and fails.
svc_wait_ready() {
	local svc=$1 pid=$2 deadline=$((SECONDS + STACK_READY_TIMEOUT))
	until svc_ready "$svc"; do
		# Alive, not which program: right after the start the pid may still be setsid or
		# nohup on its way to exec the service (a loaded machine showed it).
		if ! pid_alive "$pid"; then
			say "$svc exited during startup; last lines of ${LOG_DIR#"$STACK_ROOT"/}/$svc.log:"
			tail -n 20 "$(svc_log "$svc")" >&2 || true
			return 1
		fi
		if ((SECONDS >= deadline)); then
			say "$svc not ready after ${STACK_READY_TIMEOUT}s; last lines of ${LOG_DIR#"$STACK_ROOT"/}/$svc.log:"
			tail -n 20 "$(svc_log "$svc")" >&2 || true
			return 1
		fi
		sleep 0.2
	done
	[[ ${3:-} == quiet ]] || say "$svc ready"
}

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

# local_up starts every service not yet running, in order, and waits for each
# to be ready. It sets STACK_STARTED (how many it started) and STACK_ACTIVE
# (the services this stack manages). It fails after printing why; the caller
# stops the stack.
local_up() {
	local svc pid
	STACK_STARTED=0
	STACK_ACTIVE=()
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR/redis" "$DATA_DIR/nats"
	if ((EUID != 0 && HTTP_PORT < 1024)); then
		say "warning: port $HTTP_PORT usually needs root; if the router cannot bind it, run with HTTP_PORT=8080"
	fi
	local_load_services || return 1
	for svc in "${STACK_SERVICES[@]}"; do
		if [[ $svc != redis && ! -x $BIN_DIR/$(svc_program "$svc") ]]; then
			say "${BIN_DIR#"$STACK_ROOT"/}/$(svc_program "$svc") is missing: run ./build.sh"
			return 1
		fi
		if pid=$(svc_pid "$svc"); then
			say "$svc already running (pid $pid)"
			STACK_ACTIVE+=("$svc")
			svc_wait_ready "$svc" "$pid" quiet || return 1
			continue
		fi
		if [[ $svc == redis ]] && svc_ready redis; then
			say "redis: reusing the server already answering on 127.0.0.1:6379 (not managed by this stack)"
			continue
		fi
		svc_start "$svc" || return 1
		pid=$(<"$(svc_pidfile "$svc")")
		STACK_STARTED=$((STACK_STARTED + 1))
		STACK_ACTIVE+=("$svc")
		svc_wait_ready "$svc" "$pid" || return 1
	done
}

svc_stop() {
	local svc=$1 pid=$2 name deadline=$((SECONDS + STACK_STOP_TIMEOUT))
	name=$(svc_program "$svc")
	say "stopping $svc (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	while pid_is "$pid" "$name"; do
		if ((SECONDS >= deadline)); then
			say "$svc still running after ${STACK_STOP_TIMEOUT}s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true # reap it if it is our child
	rm -f "$(svc_pidfile "$svc")"
}

# local_down [report] stops every service with a live pid file, in reverse start
# order (first those no longer in config/domains); "report" says so when there was none.
local_down() {
	local i svc pid f stopped=0 order=()
	local_load_services 2>/dev/null || STACK_SERVICES=()
	for f in "$RUN_DIR"/*.pid; do
		[[ -e $f ]] || continue
		svc=${f##*/}
		svc=${svc%.pid}
		[[ " ${STACK_SERVICES[*]} " == *" $svc "* ]] || order+=("$svc")
	done
	for ((i = ${#STACK_SERVICES[@]} - 1; i >= 0; i--)); do order+=("${STACK_SERVICES[i]}"); done
	for svc in "${order[@]}"; do
		if pid=$(svc_pid "$svc"); then
			svc_stop "$svc" "$pid"
			stopped=$((stopped + 1))
		else
			rm -f "$(svc_pidfile "$svc")"
		fi
	done
	((stopped > 0)) || [[ ${1:-} != report ]] || say "no local stack running"
}

# local_follow streams the logs of STACK_ACTIVE, each line prefixed with its
# service, until a service exits (fails) or the pid files are removed by
# ./run.sh down (succeeds).
local_follow() {
	local svc files=()
	for svc in "${STACK_ACTIVE[@]}"; do files+=("$(svc_log "$svc")"); done
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
	while :; do
		for svc in "${STACK_ACTIVE[@]}"; do
			if [[ ! -e $(svc_pidfile "$svc") ]]; then
				say "the stack was stopped (./run.sh down)"
				return 0
			fi
			if ! svc_pid "$svc" >/dev/null; then
				say "$svc exited unexpectedly (log: ${LOG_DIR#"$STACK_ROOT"/}/$svc.log); stopping the stack"
				return 1
			fi
		done
		sleep 1 &
		wait $! || true
	done
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
