# EXAMPLES of cc-push(1), shown in its man page; tests/readme.rs runs them. localhost:5000 is a registry on loopback (Debian's docker-registry).

# Push an image under a registry's name; cc-push prints the pushed manifest's digest.
cc-push base localhost:5000/team/base:1

# Tag it first, then push it by that name.
cc-tag base localhost:5000/team/base:latest
cc-push localhost:5000/team/base:latest

# Layers as zstd, or byte for byte as stored.
cc-push --compression-format zstd base localhost:5000/team/base:zstd
cc-push --compression-format none base localhost:5000/team/base:raw

# Keep the digest, to pull or run exactly this image later.
digest=$(cc-push -q base localhost:5000/team/base:1)
echo "localhost:5000/team/base@$digest"
