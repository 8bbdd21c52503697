# EXAMPLES of cc-save(1), shown in its man page; tests/readme.rs runs them.

# Images to a tar file that docker load, podman load and cc-load read.
cc-save -o base.tar base

# Compressed, on the way to another machine: ssh host 'gunzip | cc-load' works the same.
cc-save base | gzip > base.tar.gz

# As an OCI archive (skopeo, podman: oci-archive:FILE).
cc-save --format oci-archive -o base-oci.tar base
