# shellcheck shell=bash
# The stack's domains, read from config/domains (one name a line, # comments). Sourced by
# scripts/stack.sh and the end-to-end tests, after STACK_ROOT is set.
#
# Each domain <d> at index i of the list (from 0) gets, as local processes, a block of
# four 127.0.0.1 ports from 8090 + 10*i: its server (behind the HTTP entry), its writer's
# health, its queue owner's and its forwarders' health. Under Compose every domain's
# server listens on 8080 as <d>_server_service (the router finds it by name).

STACK_DOMAINS_FILE=$STACK_ROOT/config/domains

# stack_domains prints the domains, one a line; it fails naming a bad entry.
stack_domains() {
	local line name
	[[ -r $STACK_DOMAINS_FILE ]] || {
		printf '%s: %s is missing\n' "${STACK_ME:-${0##*/}}" "${STACK_DOMAINS_FILE#"$STACK_ROOT"/}" >&2
		return 1
	}
	while IFS= read -r line || [[ -n $line ]]; do
		name=${line%%#*}
		name=${name//[[:space:]]/}
		[[ -n $name ]] || continue
		if [[ ! $name =~ ^[a-z][a-z0-9]*$ ]]; then
			printf '%s: %s: domain "%s": want lower-case letters and digits, starting with a letter\n' \
				"${STACK_ME:-${0##*/}}" "${STACK_DOMAINS_FILE#"$STACK_ROOT"/}" "$name" >&2
			return 1
		fi
		if [[ $name == history || ! -d $STACK_ROOT/services/${name}_server || ! -d $STACK_ROOT/services/${name}_writer ]]; then
			printf '%s: %s: domain "%s": want services/%s_server and services/%s_writer (and not the name history)\n' \
				"${STACK_ME:-${0##*/}}" "${STACK_DOMAINS_FILE#"$STACK_ROOT"/}" "$name" "$name" "$name" >&2
			return 1
		fi
		printf '%s\n' "$name"
	done <"$STACK_DOMAINS_FILE"
}

# load_domains sets DOMAINS (the array of stack_domains) or fails.
load_domains() {
	local out
	out=$(stack_domains) || return 1
	DOMAINS=()
	[[ -z $out ]] || mapfile -t DOMAINS <<<"$out"
	((${#DOMAINS[@]} > 0)) || {
		printf '%s: %s names no domain\n' "${STACK_ME:-${0##*/}}" "${STACK_DOMAINS_FILE#"$STACK_ROOT"/}" >&2
		return 1
	}
}

# domain_port DOMAIN ROLE prints the local 127.0.0.1 port of DOMAIN's ROLE (server, writer,
# queue, forwards).
domain_port() {
	local i offset
	case $2 in
	server) offset=0 ;;
	writer) offset=1 ;;
	queue) offset=2 ;;
	forwards) offset=3 ;;
	*) return 1 ;;
	esac
	for i in "${!DOMAINS[@]}"; do
		if [[ ${DOMAINS[i]} == "$1" ]]; then
			printf '%s\n' $((8090 + 10 * i + offset))
			return 0
		fi
	done
	return 1
}

# domain_queues DOMAIN prints the path of DOMAIN's queue configuration; it fails when the
# domain has none (then it runs no queue side).
domain_queues() {
	local f=$STACK_ROOT/config/$1.queues.yaml
	[[ -f $f ]] && printf '%s\n' "$f"
}

# domain_services DOMAIN prints DOMAIN's services as local processes, in start order.
domain_services() {
	printf '%s\n' "$1_writer" "$1_server"
	if domain_queues "$1" >/dev/null; then printf '%s\n' "$1_queue" "$1_queue_forwards"; fi
}

# domain_compose_services DOMAIN prints DOMAIN's Compose services (C6) and how many
# containers each runs: "<name> <count>".
domain_compose_services() {
	printf '%s\n' "$1_server_service 2" "$1_writer_service 1"
	if domain_queues "$1" >/dev/null; then printf '%s\n' "$1_queue_service 1" "$1_queue_forwards_service 1"; fi
}
