# wallet_writer: a static Go binary on scratch, built on the host by ./build.sh into bin/docker/
# (no Go image is needed, so it builds without a registry). Non-root; the health check is
# bin/docker/health, which needs no shell.
FROM scratch
COPY --chown=10001:10001 bin/docker/rootfs/ /
COPY bin/docker/wallet_writer bin/docker/health /usr/local/bin/
# The README's watch loops run the read-only sqlite3 of docker/sqlite3 inside the container.
COPY bin/docker/sqlite3 /usr/local/bin/sqlite3
ENV PATH=/usr/local/bin DATA_DIR=/data
WORKDIR /
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/wallet_writer"]
