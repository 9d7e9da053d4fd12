#!/usr/bin/env bash
# Builds a local stand-in for a public image of docker-compose.yml, under the same tag, from
# what this machine reaches without a registry (contract C7):
#   nats:*   the NATS server built from its Go module (the version go.mod pins), static;
#   redis:*  Debian's redis-server and redis-cli with the shared libraries ldd lists;
#   nginx:*  Debian's nginx package (downloaded, not installed) with its shared libraries.
# Each also gets Debian's static busybox for /bin/sh and wget, which the compose health
# checks use exactly as they do in the public Alpine images. Images are FROM scratch and
# labelled dev.uneventful.standin=<what is inside>.
#   bash docker/standins.sh IMAGE...      (./pull.sh runs it for images it cannot pull)
set -euo pipefail
# shellcheck source=scripts/stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/stack.sh"

WORK=$STACK_ROOT/bin/standins
DEBS=$WORK/debs

# deb_extract PACKAGE DIR: downloads PACKAGE's .deb for this machine (apt-get download: no
# install, no service started) and unpacks it into DIR.
deb_extract() {
	local pkg=$1 dir=$2 deb
	mkdir -p "$DEBS" "$dir"
	deb=$(find "$DEBS" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	if [[ -z $deb ]]; then
		command -v apt-get >/dev/null 2>&1 || die "a stand-in needs Debian's $pkg package, and apt-get is missing"
		if ! (cd "$DEBS" && apt-get download -q "$pkg" >/dev/null 2>&1); then
			as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
			(cd "$DEBS" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
		fi
		deb=$(find "$DEBS" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	fi
	dpkg-deb -x "$deb" "$dir"
}

# copy_with_libs ROOTFS BIN...: copies each BIN to the same path under ROOTFS with every
# shared library (and the loader) ldd lists for it.
copy_with_libs() {
	local root=$1 bin lib
	shift
	for bin in "$@"; do
		mkdir -p "$root$(dirname "$bin")"
		cp -L "$bin" "$root$bin"
		if ldd "$bin" | grep -q 'not found'; then
			ldd "$bin" >&2
			die "$bin needs libraries this machine lacks"
		fi
		while read -r lib; do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done < <(ldd "$bin" | grep -o '/[^ ]*' | sort -u)
	done
}

# add_busybox ROOTFS: /bin/busybox with sh and wget.
add_busybox() {
	local root=$1 x=$WORK/busybox
	[[ -x $x/bin/busybox ]] || deb_extract busybox-static "$x"
	mkdir -p "$root/bin" "$root/usr/bin" "$root/tmp"
	chmod 1777 "$root/tmp"
	cp "$x/bin/busybox" "$root/bin/busybox"
	ln -sf busybox "$root/bin/sh"
	ln -sf ../../bin/busybox "$root/usr/bin/wget"
}

# build_image TAG CONTEXT LABEL USER CMD_JSON: a FROM scratch image of CONTEXT/rootfs, and
# of CONTEXT/owned (owned by USER: e.g. a data directory a volume is created from).
build_image() {
	local tag=$1 ctx=$2 label=$3 user=$4 cmd=$5
	mkdir -p "$ctx/owned"
	cat >"$ctx/Dockerfile" <<EOD
FROM scratch
COPY rootfs/ /
COPY --chown=$user owned/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
LABEL dev.uneventful.standin="$label"
USER $user
CMD $cmd
EOD
	docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.err" || {
		cat "$ctx/build.err" >&2
		die "docker build of the stand-in $tag failed"
	}
}

standin_nats() {
	local tag=$1 ctx=$WORK/nats root version
	rm -rf "$ctx" && mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/owned/data"
	stack_need_go
	version=$(cd "$STACK_ROOT" && go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
	say "stand-in $tag: building nats-server $version from its Go module"
	(cd "$STACK_ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH=$(docker_goarch) go build -trimpath -ldflags=-s \
		-o "$ctx/rootfs/usr/local/bin/nats-server" github.com/nats-io/nats-server/v2)
	root=$ctx/rootfs
	add_busybox "$root"
	build_image "$tag" "$ctx" "nats-server $version (Go module)" 65534:65534 '["nats-server"]'
}

standin_redis() {
	local tag=$1 ctx=$WORK/redis version
	rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
	stack_need redis-server=redis-server redis-cli=redis-tools
	version=$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)
	say "stand-in $tag: Debian's redis-server $version and its libraries"
	copy_with_libs "$ctx/rootfs" "$(command -v redis-server)" "$(command -v redis-cli)"
	add_busybox "$ctx/rootfs"
	build_image "$tag" "$ctx" "redis $version (Debian)" 999:1000 '["redis-server"]'
}

standin_nginx() {
	local tag=$1 ctx=$WORK/nginx x=$WORK/nginx-deb version
	rm -rf "$ctx" && mkdir -p "$ctx/rootfs"
	[[ -x $x/usr/sbin/nginx ]] || deb_extract nginx "$x"
	version=$("$x/usr/sbin/nginx" -v 2>&1 | grep -o '[0-9][0-9.]*')
	say "stand-in $tag: Debian's nginx $version and its libraries"
	copy_with_libs "$ctx/rootfs" "$x/usr/sbin/nginx"
	mkdir -p "$ctx/rootfs/usr/sbin"
	mv "$ctx/rootfs$x/usr/sbin/nginx" "$ctx/rootfs/usr/sbin/nginx"
	rm -rf "${ctx:?}/rootfs$STACK_ROOT"
	add_busybox "$ctx/rootfs"
	build_image "$tag" "$ctx" "nginx $version (Debian)" 101:101 '["nginx", "-g", "daemon off;"]'
}

for image in "$@"; do
	case ${image%%:*} in
	nats) standin_nats "$image" ;;
	redis) standin_redis "$image" ;;
	nginx) standin_nginx "$image" ;;
	*) die "no stand-in recipe for $image" ;;
	esac
	say "built the stand-in $image"
done
