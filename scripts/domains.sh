# shellcheck shell=bash
# The stack's domains, read from config/domains (one name a line, # comments). Sourced by
# scripts/stack.sh and the end-to-end tests, after STACK_ROOT is set, for Compose (which
# needs no Go on the machine). The local processes read the same file in Go
# (`uneventful local`, cmd/uneventful/localstack.go), which also gives each domain its
# ports: keep the two readers' rules (names, services/<d>_server and _writer) alike.
# Under Compose every domain's server listens on 8080 as <d>_server_service (the router
# finds it by name).

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

# domain_queues DOMAIN prints the path of DOMAIN's queue configuration; it fails when the
# domain has none (then it runs no queue side).
domain_queues() {
	local f=$STACK_ROOT/config/$1.queues.yaml
	[[ -f $f ]] && printf '%s\n' "$f"
}

# domain_compose_services DOMAIN prints DOMAIN's Compose services (C6) and how many
# containers each runs: "<name> <count>".
domain_compose_services() {
	printf '%s\n' "$1_server_service 2" "$1_writer_service 1"
	if domain_queues "$1" >/dev/null; then printf '%s\n' "$1_queue_service 1" "$1_queue_forwards_service 1"; fi
}
