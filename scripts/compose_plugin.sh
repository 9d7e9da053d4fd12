#!/usr/bin/env bash
# The Docker Compose this project is tested with: v5.6.0 (verified against Docker Engine
# 20.10), built from its Go module and installed as the Docker CLI plugin
# ~/.docker/cli-plugins/docker-compose, so that `docker compose` is it.
#   bash scripts/compose_plugin.sh           print the path of the pinned build, building it
#                                            (once: it is cached) and installing the plugin
#   bash scripts/compose_plugin.sh --path    print the cached build's path; fail if absent
# The build is cached in $UNEVENTFUL_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/uneventful)
# and reused while present; a fresh machine builds it (Go and the module proxy needed, a
# few minutes). A plugin of another version already installed is left alone: the path
# printed runs the pinned build standalone (`<path> up` works as `docker compose up`).
# Exits non-zero, saying why, if the pinned Compose cannot be built.
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

COMPOSE_MODULE=github.com/docker/compose/v5
COMPOSE_PIN=v5.6.0
CACHE=${UNEVENTFUL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uneventful}
BUILT=$CACHE/compose-$COMPOSE_PIN/docker-compose
PLUGIN=${UNEVENTFUL_COMPOSE_PLUGIN:-$HOME/.docker/cli-plugins/docker-compose}

# pinned BINARY succeeds if BINARY runs and reports the pinned version.
pinned() { [[ -x $1 && $("$1" version --short 2>/dev/null) == "${COMPOSE_PIN#v}" ]]; }

# build compiles the module's ./cmd into $BUILT. `go install` refuses the module (its
# go.mod has exclude directives), so the build runs inside a writable copy of the module
# directory, with the module's own go.mod and go.sum.
build() {
	local dir tmp
	stack_need_go
	say "building Docker Compose $COMPOSE_PIN from its Go module (once; cached in ${BUILT%/*})"
	dir=$(go mod download -json "$COMPOSE_MODULE@$COMPOSE_PIN" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $dir && -d $dir ]] || {
		say "go mod download $COMPOSE_MODULE@$COMPOSE_PIN failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
		return 1
	}
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" RETURN
	cp -R "$dir/." "$tmp/src"
	chmod -R u+w "$tmp/src"
	mkdir -p "${BUILT%/*}"
	(cd "$tmp/src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly GOWORK=off go build -trimpath \
		-ldflags "-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_PIN" -o "$tmp/docker-compose" ./cmd) || {
		say "go build of $COMPOSE_MODULE@$COMPOSE_PIN failed"
		return 1
	}
	pinned "$tmp/docker-compose" || {
		say "the build does not report version ${COMPOSE_PIN#v}"
		return 1
	}
	mv "$tmp/docker-compose" "$BUILT"
}

# install makes the pinned build the CLI plugin unless another Compose plugin is there.
install() {
	if [[ -e $PLUGIN ]] && ! pinned "$PLUGIN"; then
		say "$PLUGIN is another version ($("$PLUGIN" version --short 2>/dev/null || echo unknown)); left alone"
		return 0
	fi
	pinned "$PLUGIN" && return 0
	mkdir -p "${PLUGIN%/*}"
	cp "$BUILT" "$PLUGIN.tmp" && mv "$PLUGIN.tmp" "$PLUGIN"
	say "installed Docker Compose $COMPOSE_PIN as $PLUGIN (docker compose)"
}

case ${1:-} in
--path)
	pinned "$BUILT" || die "Docker Compose $COMPOSE_PIN is not built (bash scripts/compose_plugin.sh builds it)"
	;;
"")
	if pinned "$BUILT"; then
		say "Docker Compose $COMPOSE_PIN: cached build ${BUILT#"$HOME"/}"
	else
		build || die "Docker Compose $COMPOSE_PIN could not be built; the compose tests need it"
	fi
	install
	;;
*) die "usage: bash scripts/compose_plugin.sh [--path]" ;;
esac
printf '%s\n' "$BUILT"
