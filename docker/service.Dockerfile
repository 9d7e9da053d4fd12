# Every image of ours, one per service: docker build --build-arg SERVICE=wallet_writer. A
# static Go binary on scratch, built on the host by ./build.sh into bin/docker/ (no Go
# image is needed, so it builds without a registry). Non-root. The health check is
# bin/docker/health, which needs no shell; launch starts $SERVICE (scratch has no shell);
# the README's watch loops run the read-only sqlite3 of docker/sqlite3 inside the writers.
# The layers before ARG are the same for every service, so the images share them.
FROM scratch
COPY --chown=10001:10001 bin/docker/rootfs/ /
COPY bin/docker/health bin/docker/launch bin/docker/sqlite3 /usr/local/bin/
ENV PATH=/usr/local/bin DATA_DIR=/data
WORKDIR /
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/launch"]
ARG SERVICE
COPY bin/docker/${SERVICE} /usr/local/bin/
ENV SERVICE=${SERVICE}
